import { ensure } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { useSpendLinkToken } from "../components/useSpendLinkToken";
import { Link } from "../router";

/** The page an address change's mail links to: moves the account to the new address. */
export function ConfirmEmailPage() {
  const { api, status } = useAuth();
  const state = useSpendLinkToken(async (token) => {
    ensure(await api.POST("/api/auth/email-change/confirm", { body: { token } }));
  });

  return (
    <Page title="Confirm your new email address">
      {state.kind === "working" && (
        <p className="loading" aria-live="polite">
          Changing your address…
        </p>
      )}
      {state.kind === "done" && (
        <Alert kind="success" focus>
          Your account has its new address now: sign in with it from now on.
        </Alert>
      )}
      {state.kind === "failed" && (
        <Alert focus>
          {state.message} A link works once and for a day; you can ask for a new one on your profile page.
        </Alert>
      )}
      <p>
        <Link href={status === "signedIn" ? "/profile" : "/login"}>Continue</Link>
      </p>
    </Page>
  );
}
