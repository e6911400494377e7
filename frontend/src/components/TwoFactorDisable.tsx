// Turning off two-factor sign-in (POST /api/auth/totp/disable): the
// password and a current code, or a recovery code for someone whose
// authenticator is gone.

import { useState } from "react";
import { ensure } from "../api/client";
import { ApiError, messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "./Alert";
import { CurrentPasswordField, Field } from "./Field";
import { useFormSubmit } from "./useFormSubmit";

export function TwoFactorDisable({
  onDisabled,
  onCancel,
  onStale,
}: {
  onDisabled: () => void;
  onCancel: () => void;
  /** It was off already (409), with the reason. */
  onStale: (reason: string) => Promise<void>;
}) {
  const { api } = useAuth();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(
    async () => {
      try {
        ensure(await api.POST("/api/auth/totp/disable", { body: { password, code } }));
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 409)) throw e;
        await onStale(messageFor(e));
        return;
      }
      onDisabled();
    },
    () => {
      setPassword("");
      setCode("");
    },
  );

  return (
    <form className="form" onSubmit={onSubmit} noValidate aria-busy={busy} aria-label="Turn off two-factor sign-in">
      {error != null && <Alert focus>{messageFor(error)}</Alert>}
      <CurrentPasswordField
        label="Password"
        name="password"
        autoFocus
        value={password}
        errors={fieldErrors("password")}
        onChange={(e) => setPassword(e.target.value)}
      />
      <Field
        label="Code"
        name="code"
        hint="A 6-digit code from your authenticator app, or a recovery code."
        autoComplete="one-time-code"
        autoCapitalize="none"
        spellCheck={false}
        required
        maxLength={64}
        value={code}
        errors={fieldErrors("code")}
        onChange={(e) => setCode(e.target.value)}
      />
      <div className="button-row">
        <button type="submit" className="button-danger" disabled={busy}>
          Turn off two-factor sign-in
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
