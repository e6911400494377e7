import { useState } from "react";
import { ensure } from "../api/client";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "./Alert";

/**
 * Shown to a signed-in user whose address is not confirmed yet (the
 * deployment lets them in: `require_verified_email` is false by default).
 */
export function VerifyEmailBanner() {
  const { api, user } = useAuth();
  const [state, setState] = useState<"idle" | "busy" | "sent" | string>("idle");
  if (!user || user.email_verified_at !== null) return null;

  const resend = async () => {
    setState("busy");
    try {
      ensure(await api.POST("/api/auth/verify-email/resend"));
      setState("sent");
    } catch (e) {
      setState(messageFor(e));
    }
  };

  return (
    <Alert kind="info">
      {state === "sent" ? (
        <>A new link is on its way to {user.email}.</>
      ) : (
        <>
          Please confirm your email address: open the link we sent to {user.email}.{" "}
          <button type="button" className="link-button" onClick={resend} disabled={state === "busy"}>
            Send it again
          </button>
          {state !== "idle" && state !== "busy" && <> ({state})</>}
        </>
      )}
    </Alert>
  );
}
