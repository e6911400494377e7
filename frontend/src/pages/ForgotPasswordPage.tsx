import { useState } from "react";
import { ensure } from "../api/client";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Field } from "../components/Field";
import { Page } from "../components/Page";
import { useFormSubmit } from "../components/useFormSubmit";
import { Link } from "../router";

/** Asks for a reset link. The API answers the same for every address, so the page does too. */
export function ForgotPasswordPage() {
  const { api } = useAuth();
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(async () => {
    ensure(await api.POST("/api/auth/password-reset", { body: { email } }));
    setSent(true);
  });

  return (
    <Page title="Reset your password">
      {sent ? (
        <Alert kind="success" focus>
          If an account has this address, a link to choose a new password is on its way. It works for 30 minutes.
        </Alert>
      ) : (
        <>
          {error != null && <Alert focus>{messageFor(error)}</Alert>}
          <form className="form" onSubmit={onSubmit} noValidate aria-busy={busy}>
            <Field
              label="Email"
              type="email"
              name="email"
              autoComplete="username"
              required
              value={email}
              errors={fieldErrors("email")}
              onChange={(e) => setEmail(e.target.value)}
            />
            <button type="submit" className="button-primary" disabled={busy}>
              {busy ? "Sending…" : "Send me a link"}
            </button>
          </form>
        </>
      )}
      <p>
        <Link href="/login">Back to log in</Link>
      </p>
    </Page>
  );
}
