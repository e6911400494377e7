// An admin's reset of a user's two-factor sign-in, for someone who lost
// both the authenticator and the recovery codes: asks first, then
// DELETE /api/users/{id}/totp, then reads the account again for its row.

import { useEffect, useRef, useState } from "react";
import { type User, ensure, unwrap } from "../api/client";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";

export function ResetTwoFactor({
  user,
  onChanged,
  onError,
}: {
  user: User;
  onChanged: (user: User) => void;
  onError: (message: string | null) => void;
}) {
  const { api, user: me, setUser } = useAuth();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const resetButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const keep = () => {
    setConfirming(false);
    resetButton.current?.focus();
  };

  const reset = async () => {
    setBusy(true);
    const path = { params: { path: { id: user.id } } };
    try {
      ensure(await api.DELETE("/api/users/{id}/totp", path));
    } catch (e) {
      onError(messageFor(e));
      setBusy(false);
      keep();
      return;
    }
    onError(null);
    let fresh: User;
    try {
      fresh = unwrap(await api.GET("/api/users/{id}", path));
    } catch {
      // The reset is done either way; the row says what is known.
      fresh = { ...user, totp_enabled: false };
    }
    onChanged(fresh);
    // An admin's own row: the profile page shows it too.
    if (fresh.id === me?.id) setUser(fresh);
    // The row no longer shows this (2FA is off), so the state ends here.
  };

  if (confirming) {
    return (
      <span className="confirm" role="group" aria-label={`Reset two-factor sign-in of ${user.email}?`}>
        <span>Turn off two-factor sign-in for this account?</span>
        <button
          ref={confirmButton}
          type="button"
          className="button-danger button-small"
          disabled={busy}
          onClick={reset}
          aria-label={`Yes, reset two-factor sign-in of ${user.email}`}
        >
          Yes, reset
        </button>
        <button type="button" className="button-small" disabled={busy} onClick={keep}>
          Keep
        </button>
      </span>
    );
  }
  return (
    <button
      ref={resetButton}
      type="button"
      className="button-small"
      onClick={() => setConfirming(true)}
      aria-label={`Reset two-factor sign-in of ${user.email}`}
    >
      Reset 2FA
    </button>
  );
}
