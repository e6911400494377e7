// The profile's address change: a new address and the current password.
// The server only mails a link to the new address (202); the account keeps
// its address until that link is used (ConfirmEmailPage), so the form says
// where to look instead of showing a changed address.

import { useState } from "react";
import { ensure } from "../api/client";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "./Alert";
import { CurrentPasswordField, Field } from "./Field";
import { useFormSubmit } from "./useFormSubmit";

export function EmailChangeForm() {
  const { api } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);

  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(
    async () => {
      setSentTo(null);
      ensure(await api.PATCH("/api/users/me", { body: { email, current_password: password } }));
      setSentTo(email.trim());
      setEmail("");
      setPassword("");
    },
    () => setPassword(""),
  );
  return (
    <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby="email-heading">
      <h2 id="email-heading">Email address</h2>
      {error != null && <Alert>{messageFor(error)}</Alert>}
      {sentTo != null && (
        <Alert kind="success">
          A link is on its way to {sentTo}. Your address changes when you open it; until then, sign in with the
          current one.
        </Alert>
      )}
      <Field
        label="New email address"
        type="email"
        name="email"
        autoComplete="email"
        required
        value={email}
        errors={fieldErrors("email")}
        onChange={(e) => setEmail(e.target.value)}
      />
      <CurrentPasswordField
        value={password}
        errors={fieldErrors("current_password")}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button type="submit" className="button-primary" disabled={busy}>
        Send a confirmation link
      </button>
    </form>
  );
}
