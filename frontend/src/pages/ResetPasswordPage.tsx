import { useState } from "react";
import { ensure } from "../api/client";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Field } from "../components/Field";
import { Page } from "../components/Page";
import { useFormSubmit } from "../components/useFormSubmit";
import { takeLinkToken } from "../linkToken";
import { Link, navigate } from "../router";

/** The page a reset mail links to: a new password for the link's token. */
export function ResetPasswordPage() {
  const { api } = useAuth();
  const [token] = useState(takeLinkToken);
  const [password, setPassword] = useState("");
  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(
    async () => {
      ensure(await api.POST("/api/auth/password-reset/confirm", { body: { token, password } }));
      navigate("/login?reset=1", { replace: true });
    },
    () => setPassword(""),
  );

  const badLink = !token || fieldErrors("token").length > 0;
  return (
    <Page title="Choose a new password">
      {badLink ? (
        <Alert focus>
          This link is not valid: it was used already, it has expired, or it is incomplete.{" "}
          <Link href="/forgot-password">Ask for a new one</Link>.
        </Alert>
      ) : (
        <>
          {error != null && <Alert focus>{messageFor(error)}</Alert>}
          <form className="form" onSubmit={onSubmit} noValidate aria-busy={busy}>
            <Field
              label="New password"
              type="password"
              name="password"
              autoComplete="new-password"
              required
              hint="At least 8 characters. Every signed-in device will be logged out."
              value={password}
              errors={fieldErrors("password")}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button type="submit" className="button-primary" disabled={busy}>
              {busy ? "Saving…" : "Set the new password"}
            </button>
          </form>
        </>
      )}
    </Page>
  );
}
