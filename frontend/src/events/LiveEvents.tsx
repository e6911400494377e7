// The signed-in person's live events for the whole page: one stream per tab
// (followEvents), opened at sign-in and closed at sign-out, handed to every
// page that listens (useLiveEvents). A change to the account itself (an
// admin's role change, the profile edited in another tab) is applied here;
// a revoked session needs nothing here: its next stream is refused, the
// session ends, and the routes send the page to login.

import { createContext, type ReactNode, useContext, useEffect, useRef } from "react";
import type { User } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { followEvents, type LiveEvent } from "./followEvents";

type Listener = (event: LiveEvent) => void;

const ListenersContext = createContext<Set<Listener> | null>(null);

export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const { status, session, setUser } = useAuth();
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    if (status !== "signedIn") return;
    const stop = new AbortController();
    void followEvents(session, {
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === "user.updated") {
          const user = (event.data as { user?: User }).user;
          if (user) setUser(user);
        }
        for (const listener of listeners.current) listener(event);
      },
    });
    return () => stop.abort();
  }, [status, session, setUser]);

  return <ListenersContext.Provider value={listeners.current}>{children}</ListenersContext.Provider>;
}

/** Calls `listener` with each live event while the calling component is mounted. */
export function useLiveEvents(listener: Listener): void {
  const listeners = useContext(ListenersContext);
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => {
    if (!listeners) return;
    const forward: Listener = (event) => latest.current(event);
    listeners.add(forward);
    return () => {
      listeners.delete(forward);
    };
  }, [listeners]);
}
