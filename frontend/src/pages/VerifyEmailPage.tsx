import { ensure } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { useSpendLinkToken } from "../components/useSpendLinkToken";
import { Link } from "../router";

/** The page a verification mail links to: spends the link's token once. */
export function VerifyEmailPage() {
  const { api, status } = useAuth();
  const state = useSpendLinkToken(async (token) => {
    ensure(await api.POST("/api/auth/verify-email", { body: { token } }));
  });

  return (
    <Page title="Confirm your email address">
      {state.kind === "working" && (
        <p className="loading" aria-live="polite">
          Confirming…
        </p>
      )}
      {state.kind === "done" && (
        <Alert kind="success" focus>
          Your email address is confirmed.
        </Alert>
      )}
      {state.kind === "failed" && (
        <Alert focus>
          {state.message} A link works once and for a day; signed in, you can ask for a new one.
        </Alert>
      )}
      <p>
        <Link href={status === "signedIn" ? "/uploads" : "/login"}>Continue</Link>
      </p>
    </Page>
  );
}
