// The second step of a login for an account with two-factor sign-in on:
// a code from the authenticator app, or one of the recovery codes. A wrong
// code can be typed again (the challenge stays good); a challenge that is
// spent or expired sends the person back to the password step.

import { useState } from "react";
import { messageFor } from "../api/problem";
import { challengeRefused } from "../api/session";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "./Alert";
import { Field } from "./Field";
import { useFormSubmit } from "./useFormSubmit";

export function LoginCodeForm({
  challenge,
  onSignedIn,
  onRestart,
}: {
  challenge: string;
  onSignedIn: () => void;
  /** Back to the password step, with the reason to show (null when the person asked). */
  onRestart: (reason: string | null) => void;
}) {
  const auth = useAuth();
  const [code, setCode] = useState("");
  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(
    async () => {
      try {
        await auth.loginWithCode(challenge, code);
      } catch (e) {
        if (!challengeRefused(e)) throw e;
        onRestart(messageFor(e));
        return;
      }
      onSignedIn();
    },
    () => setCode(""),
  );

  return (
    <>
      {error != null && <Alert focus>{messageFor(error)}</Alert>}
      <form className="form" onSubmit={onSubmit} noValidate aria-busy={busy} aria-labelledby="code-step-title">
        <h2 id="code-step-title">Two-factor sign-in</h2>
        <Field
          label="Code"
          name="code"
          hint="Enter the 6-digit code from your authenticator app (or a recovery code)."
          autoComplete="one-time-code"
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
          // Focus moves here from the password step, which is gone.
          autoFocus
          required
          maxLength={64}
          value={code}
          errors={fieldErrors("code")}
          onChange={(e) => setCode(e.target.value)}
        />
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? "Checking…" : "Verify"}
        </button>
      </form>
      <p>
        <button type="button" className="link-button" onClick={() => onRestart(null)}>
          Start again with the password
        </button>
      </p>
    </>
  );
}
