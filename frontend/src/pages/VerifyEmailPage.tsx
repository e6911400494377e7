import { useEffect, useRef, useState } from "react";
import { ensure } from "../api/client";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { takeLinkToken } from "../linkToken";
import { Link } from "../router";

type State = { kind: "working" } | { kind: "done" } | { kind: "failed"; message: string };

/** The page a verification mail links to: spends the link's token once. */
export function VerifyEmailPage() {
  const { api, status, reloadUser } = useAuth();
  const [state, setState] = useState<State>({ kind: "working" });
  // A token works once: the request must not be sent twice (React runs
  // effects twice in development), so the first run keeps it here.
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    const token = takeLinkToken();
    if (!token) {
      setState({ kind: "failed", message: "This link is incomplete." });
      return;
    }
    (async () => {
      try {
        ensure(await api.POST("/api/auth/verify-email", { body: { token } }));
        setState({ kind: "done" });
      } catch (e) {
        setState({ kind: "failed", message: messageFor(e) });
      }
    })();
  }, [api]);

  useEffect(() => {
    if (state.kind === "done" && status === "signedIn") void reloadUser();
  }, [state.kind, status, reloadUser]);

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
