// The browser session, in the auth component's cookie mode.
//
// The refresh token lives in the `__Host-spinstack-refresh` cookie (HttpOnly:
// scripts never see it); the access token lives only in this object's memory;
// nothing is written to localStorage or sessionStorage. `fetch` adds the
// bearer token and, when the API answers 401, refreshes once and retries the
// request once. Refreshes are single-flight within the page and serialized
// across tabs (Web Locks), because a refresh token is single-use: two tabs
// spending the same one at once would look like theft and end the session.
//
// A login is one or two steps: for an account with two-factor sign-in on,
// the password step answers 202 with a challenge instead of tokens, and
// `loginWithCode` spends it with a code from the authenticator app (or a
// recovery code). The challenge stays in the caller's memory only.

import { ApiError, NetworkError, errorFromResponse } from "./problem";
import type { components } from "./schema";

export type User = components["schemas"]["User"];
export type RegisterRequest = components["schemas"]["RegisterRequest"];
export type LoginChallenge = components["schemas"]["LoginChallenge"];

/** What the password step of a login came to. */
export type LoginResult =
  | { status: "signedIn" }
  /** The password is right; a code must follow (`loginWithCode`) within `expiresIn` seconds. */
  | { status: "codeNeeded"; challenge: string; expiresIn: number };

/** What login and refresh return in cookie mode. */
export interface CookieTokens {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  csrf_token?: string;
}

export const CSRF_COOKIE = "__Host-spinstack-csrf";
const REFRESH_LOCK = "spinstack-refresh";

export interface SessionOptions {
  /** Origin the API is on; the page's own by default. */
  baseUrl?: string;
  /** The fetch to use (tests pass a fake). */
  fetch?: typeof fetch;
  /** The page's cookies as `document.cookie` shows them. */
  cookies?: () => string;
  /** Runs `task` holding a lock shared by every tab; default: Web Locks when available. */
  withLock?: <T>(task: () => Promise<T>) => Promise<T>;
}

type Listener = (signedIn: boolean) => void;

/** Reads one cookie from a `document.cookie` string. */
export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === "" ? null : decodeURIComponent(value);
    }
  }
  return null;
}

function defaultLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  // request() resolves with what the task's promise resolves with.
  return locks ? (locks.request(REFRESH_LOCK, task) as unknown as Promise<T>) : task();
}

export class Session {
  private token: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<Listener>();
  readonly baseUrl: string;
  private readonly doFetch: typeof fetch;
  private readonly cookies: () => string;
  private readonly withLock: <T>(task: () => Promise<T>) => Promise<T>;

  constructor(options: SessionOptions = {}) {
    this.baseUrl = options.baseUrl ?? window.location.origin;
    // Bound so that calling it detached does not lose `window`.
    this.doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.cookies = options.cookies ?? (() => document.cookie);
    this.withLock = options.withLock ?? defaultLock;
  }

  /** The current access token (memory only), if signed in. */
  get accessToken(): string | null {
    return this.token;
  }

  get signedIn(): boolean {
    return this.token !== null;
  }

  /** Calls `listener` whenever the person signs in or out (also when a session ends by itself). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setToken(token: string | null) {
    const changed = (token === null) !== (this.token === null);
    this.token = token;
    if (changed) for (const listener of this.listeners) listener(token !== null);
  }

  url(path: string): string {
    return this.baseUrl + path;
  }

  private async post(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.doFetch(this.url(path), {
        method: "POST",
        credentials: "same-origin",
        ...init,
      });
    } catch {
      throw new NetworkError();
    }
  }

  /**
   * The password step of a login: signed in (the refresh token goes to the
   * HttpOnly cookie), or, with two-factor sign-in on, a challenge for
   * `loginWithCode`.
   */
  async login(email: string, password: string): Promise<LoginResult> {
    const response = await this.post("/api/auth/login", {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password, use_cookie: true }),
    });
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 202) {
      const body = (await response.json()) as Partial<LoginChallenge>;
      // The only second factor there is; anything else is a server this app does not know.
      if (typeof body.challenge !== "string" || body.second_factor !== "totp") {
        throw new ApiError({ status: 502, detail: "The server asked for a kind of sign-in this app does not know." });
      }
      return { status: "codeNeeded", challenge: body.challenge, expiresIn: body.expires_in ?? 300 };
    }
    await this.startSession(response);
    return { status: "signedIn" };
  }

  /**
   * The second step: a 6-digit code (spaces allowed) or a recovery code
   * for the challenge `login` gave. The answer is in the cookie mode the
   * login asked for. A wrong code leaves the challenge usable; see
   * `challengeRefused` for one that is spent or expired.
   */
  async loginWithCode(challenge: string, code: string): Promise<void> {
    const response = await this.post("/api/auth/login/totp", {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ challenge, code: code.trim() }),
    });
    if (!response.ok) throw await errorFromResponse(response);
    await this.startSession(response);
  }

  private async startSession(response: Response): Promise<void> {
    const tokens = (await response.json()) as CookieTokens;
    this.setToken(tokens.access_token);
  }

  /** Creates an account (does not sign in). */
  async register(request: RegisterRequest): Promise<User> {
    const response = await this.post("/api/auth/register", {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
    if (!response.ok) throw await errorFromResponse(response);
    return (await response.json()) as User;
  }

  /**
   * Gets a new access token from the session cookie. Resolves true when
   * signed in, false when there is no usable session (no cookie, 401, 403);
   * throws for anything else (429, 503, offline), leaving the state alone.
   */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.withLock(() => this.refreshNow()).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async refreshNow(): Promise<boolean> {
    // Read inside the lock: another tab may have just rotated the session.
    const csrf = readCookie(this.cookies(), CSRF_COOKIE);
    if (csrf === null) {
      // No session cookie, so no session: do not spend a rate-limited call.
      this.setToken(null);
      return false;
    }
    const response = await this.post("/api/auth/refresh", {
      headers: { "X-CSRF-Token": csrf },
    });
    if (response.status === 401 || response.status === 403) {
      this.setToken(null);
      return false;
    }
    if (!response.ok) throw await errorFromResponse(response);
    const tokens = (await response.json()) as CookieTokens;
    this.setToken(tokens.access_token);
    return true;
  }

  /** Ends the session on the server (cookies cleared) and here. */
  async logout(): Promise<void> {
    try {
      const response = await this.fetch(this.url("/api/auth/logout"), { method: "POST" });
      if (!response.ok && response.status !== 401) throw await errorFromResponse(response);
    } finally {
      this.setToken(null);
    }
  }

  /** Forgets the access token without calling the server. */
  forget(): void {
    this.setToken(null);
  }

  /**
   * fetch with the bearer token; on 401, one refresh and one retry. When the
   * refresh fails the session is over (listeners hear it) and the 401 is
   * returned as is. Network failures reject with NetworkError.
   */
  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, { credentials: "same-origin", ...init });
    const retry = request.clone();
    const used = this.token;
    const first = await this.send(request, used);
    if (first.status !== 401) return first;
    // Someone else already refreshed while this request was in flight.
    if (this.token !== null && this.token !== used) return this.send(retry, this.token);
    let refreshed: boolean;
    try {
      refreshed = await this.refresh();
    } catch {
      return first;
    }
    if (!refreshed) return first;
    return this.send(retry, this.token);
  };

  private async send(request: Request, token: string | null): Promise<Response> {
    if (token !== null) request.headers.set("Authorization", `Bearer ${token}`);
    else request.headers.delete("Authorization");
    try {
      return await this.doFetch(request);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new NetworkError();
    }
  }
}

/**
 * Whether `loginWithCode` failed because the challenge itself is no longer
 * good (expired, spent, unknown): the person must give the password again.
 */
export function challengeRefused(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401 && error.field("challenge").length > 0;
}

/** Throws the response's problem as an ApiError unless it is a success. */
export async function ensureOk(response: Response): Promise<Response> {
  if (!response.ok) throw await errorFromResponse(response);
  return response;
}

export { ApiError };
