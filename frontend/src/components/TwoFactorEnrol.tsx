// Turning on two-factor sign-in: the password (POST /api/auth/totp/enrol
// gives a new secret), then the secret as a QR code and as text, then the
// first code from the app (POST /api/auth/totp/confirm), which turns it on
// and gives the recovery codes. The secret is shown only here, once.

import { useState } from "react";
import { unwrap } from "../api/client";
import { ApiError, messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "./Alert";
import { CurrentPasswordField, Field } from "./Field";
import { QrCode } from "./QrCode";
import { useFormSubmit } from "./useFormSubmit";

interface Props {
  onEnabled: (recoveryCodes: string[]) => void;
  onCancel: () => void;
  /** The state changed elsewhere (409), with the reason. */
  onStale: (reason: string) => Promise<void>;
}

/** Base32 in groups of four, easier to type; apps ignore the spaces. */
export function groupSecret(secret: string): string {
  return secret.replace(/=+$/, "").match(/.{1,4}/g)?.join(" ") ?? "";
}

async function unlessStale<T>(action: () => Promise<T>, onStale: Props["onStale"]): Promise<T | undefined> {
  try {
    return await action();
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      await onStale(messageFor(e));
      return undefined;
    }
    throw e;
  }
}

export function TwoFactorEnrol({ onEnabled, onCancel, onStale }: Props) {
  const { api } = useAuth();
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");

  const enrol = useFormSubmit(
    async () => {
      const made = await unlessStale(() => api.POST("/api/auth/totp/enrol", { body: { password } }).then(unwrap), onStale);
      setPassword("");
      if (made) setEnrolment(made);
    },
    () => setPassword(""),
  );
  const confirm = useFormSubmit(
    async () => {
      const done = await unlessStale(() => api.POST("/api/auth/totp/confirm", { body: { code } }).then(unwrap), onStale);
      if (done) onEnabled(done.recovery_codes);
    },
    () => setCode(""),
  );

  const cancel = (
    <button type="button" onClick={onCancel}>
      Cancel
    </button>
  );

  if (enrolment === null) {
    return (
      <form className="form" onSubmit={enrol.onSubmit} noValidate aria-busy={enrol.busy} aria-label="Confirm your password">
        {enrol.error != null && <Alert focus>{messageFor(enrol.error)}</Alert>}
        <CurrentPasswordField
          label="Password"
          name="password"
          hint="Your password, to show that it is you."
          // The form replaces the Turn on button, which had focus.
          autoFocus
          value={password}
          errors={enrol.fieldErrors("password")}
          onChange={(e) => setPassword(e.target.value)}
        />
        <div className="button-row">
          <button type="submit" className="button-primary" disabled={enrol.busy}>
            Continue
          </button>
          {cancel}
        </div>
      </form>
    );
  }

  return (
    <>
      <p>
        Scan this QR code with your authenticator app, then enter the 6-digit code the app shows.
      </p>
      <QrCode text={enrolment.otpauth_uri} label="QR code with the key for your authenticator app" />
      <p>Cannot scan it? Add the account in the app by hand, as a time-based key:</p>
      <p>
        <code className="totp-secret">{groupSecret(enrolment.secret)}</code>
      </p>
      <form className="form" onSubmit={confirm.onSubmit} noValidate aria-busy={confirm.busy} aria-label="Confirm the code">
        {confirm.error != null && <Alert focus>{messageFor(confirm.error)}</Alert>}
        <Field
          label="Code from the app"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          maxLength={64}
          value={code}
          errors={confirm.fieldErrors("code")}
          onChange={(e) => setCode(e.target.value)}
        />
        <div className="button-row">
          <button type="submit" className="button-primary" disabled={confirm.busy}>
            Turn on
          </button>
          {cancel}
        </div>
      </form>
    </>
  );
}
