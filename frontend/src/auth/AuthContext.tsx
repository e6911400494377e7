// Who is signed in, for the whole app. On load the session is restored from
// the refresh cookie (one refresh call), then the account is read from
// `GET /api/users/me`.

import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { type ApiClient, type User, createApiClient, unwrap } from "../api/client";
import { messageFor } from "../api/problem";
import { type LoginResult, Session } from "../api/session";

export type AuthStatus = "loading" | "signedOut" | "signedIn";

export interface Auth {
  status: AuthStatus;
  /** The account, once read (null while unknown or when it could not be read). */
  user: User | null;
  /** Why the account could not be read, if it could not. */
  userError: string | null;
  /** Why the session could not be restored on load, if not for lack of one. */
  restoreError: string | null;
  session: Session;
  api: ApiClient;
  /** The password step; with two-factor sign-in on, a challenge for `loginWithCode`. */
  login(email: string, password: string): Promise<LoginResult>;
  /** The second step of a login, with a code from the authenticator app or a recovery code. */
  loginWithCode(challenge: string, code: string): Promise<void>;
  logout(): Promise<void>;
  reloadUser(): Promise<void>;
  setUser(user: User): void;
}

const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

// One restore per page load, even when React mounts twice (StrictMode).
const restores = new WeakMap<Session, Promise<boolean>>();

export function AuthProvider({ session, children }: { session: Session; children: ReactNode }) {
  const api = useMemo(() => createApiClient(session), [session]);
  const [status, setStatus] = useState<AuthStatus>("loading");
  const [user, setUserState] = useState<User | null>(null);
  const [userError, setUserError] = useState<string | null>(null);
  const [restoreError, setRestoreError] = useState<string | null>(null);

  const reloadUser = useCallback(async () => {
    try {
      setUserState(unwrap(await api.GET("/api/users/me")));
      setUserError(null);
    } catch (error) {
      setUserState(null);
      setUserError(messageFor(error));
    }
  }, [api]);

  useEffect(() => {
    return session.subscribe((signedIn) => {
      setStatus(signedIn ? "signedIn" : "signedOut");
      if (!signedIn) setUserState(null);
    });
  }, [session]);

  useEffect(() => {
    let restore = restores.get(session);
    if (!restore) {
      restore = session.refresh();
      restores.set(session, restore);
    }
    let live = true;
    restore.then(
      async (signedIn) => {
        if (!live) return;
        if (signedIn) await reloadUser();
        if (live) setStatus(signedIn ? "signedIn" : "signedOut");
      },
      (error: unknown) => {
        if (!live) return;
        setRestoreError(messageFor(error));
        setStatus("signedOut");
      },
    );
    return () => {
      live = false;
    };
  }, [session, reloadUser]);

  const signedIn = useCallback(async () => {
    setRestoreError(null);
    await reloadUser();
    setStatus("signedIn");
  }, [reloadUser]);

  const login = useCallback(
    async (email: string, password: string) => {
      const result = await session.login(email, password);
      if (result.status === "signedIn") await signedIn();
      return result;
    },
    [session, signedIn],
  );

  const loginWithCode = useCallback(
    async (challenge: string, code: string) => {
      await session.loginWithCode(challenge, code);
      await signedIn();
    },
    [session, signedIn],
  );

  const logout = useCallback(async () => {
    try {
      await session.logout();
    } finally {
      setUserState(null);
      setStatus("signedOut");
    }
  }, [session]);

  const value = useMemo<Auth>(
    () => ({
      status,
      user,
      userError,
      restoreError,
      session,
      api,
      login,
      loginWithCode,
      logout,
      reloadUser,
      setUser: setUserState,
    }),
    [status, user, userError, restoreError, session, api, login, loginWithCode, logout, reloadUser],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
