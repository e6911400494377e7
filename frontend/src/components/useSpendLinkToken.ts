// What a page behind a mailed link does (verify-email, confirm-email): take
// the token from the fragment once, spend it with one request, and show how
// that went. A token works once, so the request is never sent twice, also
// when React runs the effect twice in development.

import { useEffect, useRef, useState } from "react";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { takeLinkToken } from "../linkToken";

export type LinkState = { kind: "working" } | { kind: "done" } | { kind: "failed"; message: string };

/** Spends the link's token with `spend`; a signed-in user is re-read after. */
export function useSpendLinkToken(spend: (token: string) => Promise<void>): LinkState {
  const { status, reloadUser } = useAuth();
  const [state, setState] = useState<LinkState>({ kind: "working" });
  const sent = useRef(false);
  const spendRef = useRef(spend);

  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    const token = takeLinkToken();
    if (!token) {
      setState({ kind: "failed", message: "This link is incomplete." });
      return;
    }
    spendRef.current(token).then(
      () => setState({ kind: "done" }),
      (e: unknown) => setState({ kind: "failed", message: messageFor(e) }),
    );
  }, []);

  useEffect(() => {
    if (state.kind === "done" && status === "signedIn") void reloadUser();
  }, [state.kind, status, reloadUser]);

  return state;
}
