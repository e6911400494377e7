// The profile's "Two-factor sign-in" card: whether it is on, and the way
// to turn it on (TwoFactorEnrol, then the recovery codes, shown once) or
// off (TwoFactorDisable). The account's `totp_enabled` is the truth; the
// card's steps are this tab's own.

import { useState } from "react";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "./Alert";
import { RecoveryCodes } from "./RecoveryCodes";
import { TwoFactorDisable } from "./TwoFactorDisable";
import { TwoFactorEnrol } from "./TwoFactorEnrol";

type Stage = { step: "status" } | { step: "enrol" } | { step: "codes"; codes: string[] } | { step: "disable" };

export function TwoFactorSettings() {
  const { user, setUser, reloadUser } = useAuth();
  const [stage, setStage] = useState<Stage>({ step: "status" });
  const [notice, setNotice] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  if (!user) return null;
  const on = user.totp_enabled;

  const go = (next: Stage) => {
    setNotice(null);
    setStage(next);
  };
  // A 409: another tab (or an admin) changed it meanwhile. Show what is true now.
  const stale = async (reason: string) => {
    await reloadUser();
    setStage({ step: "status" });
    setNotice({ kind: "error", text: reason });
  };

  return (
    <section className="card" aria-labelledby="two-factor-heading">
      <h2 id="two-factor-heading">Two-factor sign-in</h2>
      {stage.step === "status" && (
        <>
          {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
          <p>
            {on ? (
              <>
                <strong>On.</strong> Signing in asks for a code from your authenticator app after your password.
              </>
            ) : (
              <>
                <strong>Off.</strong> Turn it on to be asked for a code from an authenticator app (such as a phone
                app) after your password, so a stolen password alone cannot sign in.
              </>
            )}
          </p>
          {on ? (
            <button type="button" onClick={() => go({ step: "disable" })}>
              Turn off
            </button>
          ) : (
            <button type="button" className="button-primary" onClick={() => go({ step: "enrol" })}>
              Turn on
            </button>
          )}
        </>
      )}
      {stage.step === "enrol" && (
        <TwoFactorEnrol
          onEnabled={(codes) => {
            setUser({ ...user, totp_enabled: true });
            setStage({ step: "codes", codes });
          }}
          onCancel={() => go({ step: "status" })}
          onStale={stale}
        />
      )}
      {stage.step === "codes" && (
        <RecoveryCodes
          codes={stage.codes}
          onDone={() => {
            setStage({ step: "status" });
            setNotice({ kind: "success", text: "Two-factor sign-in is on." });
          }}
        />
      )}
      {stage.step === "disable" && (
        <TwoFactorDisable
          onDisabled={() => {
            setUser({ ...user, totp_enabled: false });
            setStage({ step: "status" });
            setNotice({ kind: "success", text: "Two-factor sign-in is off." });
          }}
          onCancel={() => go({ step: "status" })}
          onStale={stale}
        />
      )}
    </section>
  );
}
