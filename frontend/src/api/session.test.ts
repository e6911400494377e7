import { describe, expect, it, vi } from "vitest";
import { fakeFetch, json, tokens } from "../test/fakeFetch";
import { ApiError, NetworkError } from "./problem";
import { Session, challengeRefused, readCookie } from "./session";

const BASE = "http://app.test";
const COOKIES = "other=1; __Host-spinstack-csrf=csrf-value";

function session(handler: Parameters<typeof fakeFetch>[0], cookies = COOKIES) {
  const fake = fakeFetch(handler);
  const s = new Session({ baseUrl: BASE, fetch: fake.fetch, cookies: () => cookies, withLock: (task) => task() });
  return { session: s, calls: fake.calls };
}

describe("readCookie", () => {
  it("finds a cookie among others", () => {
    expect(readCookie(COOKIES, "__Host-spinstack-csrf")).toBe("csrf-value");
    expect(readCookie("a=1;b=2", "b")).toBe("2");
    expect(readCookie("a=1", "__Host-spinstack-csrf")).toBeNull();
    expect(readCookie("__Host-spinstack-csrf=", "__Host-spinstack-csrf")).toBeNull();
  });
});

describe("login", () => {
  it("asks for cookie mode and keeps the access token in memory", async () => {
    const { session: s, calls } = session(() => json(200, tokens("at-1")));
    await s.login("ada@example.com", "correct horse");
    expect(calls[0].method).toBe("POST");
    expect(calls[0].path).toBe("/api/auth/login");
    expect(JSON.parse(calls[0].body)).toEqual({
      email: "ada@example.com",
      password: "correct horse",
      use_cookie: true,
    });
    expect(s.accessToken).toBe("at-1");
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
  });

  it("turns a 401 into an ApiError with the server's words", async () => {
    const { session: s } = session(() =>
      json(401, { title: "Unauthorized", status: 401, detail: "Wrong email or password." }),
    );
    const error = await s.login("ada@example.com", "nope").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).userMessage).toBe("Wrong email or password.");
    expect(s.signedIn).toBe(false);
  });

  it("reports a network failure as NetworkError", async () => {
    const s = new Session({
      baseUrl: BASE,
      fetch: () => Promise.reject(new TypeError("Failed to fetch")),
      cookies: () => "",
      withLock: (task) => task(),
    });
    await expect(s.login("a@b.c", "x")).rejects.toBeInstanceOf(NetworkError);
  });
});

describe("login with two-factor sign-in on", () => {
  const CHALLENGE = "c".repeat(43);
  const challenged = () => json(202, { challenge: CHALLENGE, second_factor: "totp", expires_in: 300 });

  it("answers the challenge of a 202 without signing in", async () => {
    const { session: s } = session(() => challenged());
    const heard = vi.fn();
    s.subscribe(heard);
    expect(await s.login("ada@example.com", "correct horse")).toEqual({
      status: "codeNeeded",
      challenge: CHALLENGE,
      expiresIn: 300,
    });
    expect(s.signedIn).toBe(false);
    expect(heard).not.toHaveBeenCalled();
  });

  it("says signedIn for a 200", async () => {
    const { session: s } = session(() => json(200, tokens("at")));
    expect(await s.login("ada@example.com", "correct horse")).toEqual({ status: "signedIn" });
  });

  it("refuses a 202 it cannot read rather than pretend to be signed in", async () => {
    const { session: s } = session(() => json(202, { status: "accepted" }));
    const error = await s.login("ada@example.com", "pw").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(s.signedIn).toBe(false);
  });

  it("finishes with the challenge and the code, keeping the access token in memory", async () => {
    const { session: s, calls } = session((call) =>
      call.path === "/api/auth/login" ? challenged() : json(200, tokens("at-2fa")),
    );
    const started = await s.login("ada@example.com", "correct horse");
    if (started.status !== "codeNeeded") throw new Error("no challenge");
    const heard = vi.fn();
    s.subscribe(heard);
    await s.loginWithCode(started.challenge, " 123 456 ");
    expect(calls[1].method).toBe("POST");
    expect(calls[1].path).toBe("/api/auth/login/totp");
    expect(calls[1].headers.get("Authorization")).toBeNull();
    // No use_cookie here: the challenge remembers what the login asked for.
    expect(JSON.parse(calls[1].body)).toEqual({ challenge: CHALLENGE, code: "123 456" });
    expect(s.accessToken).toBe("at-2fa");
    expect(heard).toHaveBeenCalledWith(true);
    expect(window.localStorage.length + window.sessionStorage.length).toBe(0);
  });

  it("tells a wrong code from a spent or expired challenge", async () => {
    const wrongCode = { title: "Unauthorized", status: 401, detail: "The code is wrong or was already used.", errors: { code: ["is wrong or was already used"] } };
    const spent = { title: "Unauthorized", status: 401, detail: "This sign-in has expired.", errors: { challenge: ["is invalid, expired, or already used"] } };
    for (const [body, refused] of [[wrongCode, false], [spent, true]] as const) {
      const { session: s } = session(() => json(401, body));
      const error = await s.loginWithCode(CHALLENGE, "000000").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect(challengeRefused(error)).toBe(refused);
      expect(s.signedIn).toBe(false);
    }
    expect(challengeRefused(new ApiError({ status: 422, fieldErrors: { challenge: ["is required"] } }))).toBe(false);
    expect(challengeRefused(new Error("x"))).toBe(false);
  });

  it("keeps the wait of a 429 (too many wrong codes)", async () => {
    const { session: s } = session(() => json(429, { title: "Too Many Requests", status: 429 }, { "Retry-After": "600" }));
    const error = (await s.loginWithCode(CHALLENGE, "000000").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(600);
    expect(challengeRefused(error)).toBe(false);
  });
});

describe("refresh", () => {
  it("sends the CSRF cookie's value as X-CSRF-Token, without a body", async () => {
    const { session: s, calls } = session(() => json(200, tokens("at-2")));
    expect(await s.refresh()).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0].path).toBe("/api/auth/refresh");
    expect(calls[0].headers.get("X-CSRF-Token")).toBe("csrf-value");
    expect(calls[0].body).toBe("");
    expect(s.accessToken).toBe("at-2");
  });

  it("does not call the server without a session cookie", async () => {
    const { session: s, calls } = session(() => json(200, tokens("x")), "other=1");
    expect(await s.refresh()).toBe(false);
    expect(calls).toHaveLength(0);
  });

  it("treats 401 and 403 as no session", async () => {
    for (const status of [401, 403]) {
      const { session: s } = session(() => json(status, { title: "No", status }));
      expect(await s.refresh()).toBe(false);
      expect(s.signedIn).toBe(false);
    }
  });

  it("throws on 429 with the wait, keeping the state", async () => {
    const { session: s } = session(() => json(429, { title: "Too Many Requests", status: 429 }, { "Retry-After": "7" }));
    const error = (await s.refresh().catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(7);
  });

  it("is single-flight: concurrent callers share one request", async () => {
    const { session: s, calls } = session(() => json(200, tokens("at-3")));
    const results = await Promise.all([s.refresh(), s.refresh(), s.refresh()]);
    expect(results).toEqual([true, true, true]);
    expect(calls).toHaveLength(1);
  });
});

describe("fetch: bearer, one refresh and one retry on 401", () => {
  async function signedIn(handler: Parameters<typeof fakeFetch>[0]) {
    let loggedIn = false;
    const made = session((call, i) => {
      if (!loggedIn) {
        loggedIn = true;
        return json(200, tokens("old"));
      }
      return handler(call, i);
    });
    await made.session.login("a@b.c", "pw");
    made.calls.length = 0;
    return made;
  }

  it("adds the bearer token", async () => {
    const { session: s, calls } = await signedIn(() => json(200, { ok: true }));
    const response = await s.fetch(`${BASE}/api/users/me`);
    expect(response.status).toBe(200);
    expect(calls[0].headers.get("Authorization")).toBe("Bearer old");
  });

  it("refreshes once and retries the request (body included) with the new token", async () => {
    const { session: s, calls } = await signedIn((call) => {
      if (call.path === "/api/auth/refresh") return json(200, tokens("new"));
      return call.headers.get("Authorization") === "Bearer new"
        ? json(200, { name: "renamed" })
        : json(401, { title: "Unauthorized", status: 401 });
    });
    const response = await s.fetch(`${BASE}/api/users/me`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "renamed" }),
    });
    expect(response.status).toBe(200);
    expect(calls.map((c) => c.path)).toEqual(["/api/users/me", "/api/auth/refresh", "/api/users/me"]);
    expect(calls[2].method).toBe("PATCH");
    expect(calls[2].body).toBe('{"name":"renamed"}');
    expect(s.accessToken).toBe("new");
  });

  it("gives up after one retry", async () => {
    const { session: s, calls } = await signedIn((call) =>
      call.path === "/api/auth/refresh" ? json(200, tokens("new")) : json(401, { title: "Unauthorized", status: 401 }),
    );
    const response = await s.fetch(`${BASE}/api/uploads`);
    expect(response.status).toBe(401);
    expect(calls.filter((c) => c.path === "/api/auth/refresh")).toHaveLength(1);
    expect(calls).toHaveLength(3);
  });

  it("ends the session when the refresh is refused, and says so", async () => {
    const { session: s, calls } = await signedIn((call) =>
      call.path === "/api/auth/refresh"
        ? json(401, { title: "Unauthorized", status: 401 })
        : json(401, { title: "Unauthorized", status: 401 }),
    );
    const heard = vi.fn();
    s.subscribe(heard);
    const response = await s.fetch(`${BASE}/api/uploads`);
    expect(response.status).toBe(401);
    expect(calls).toHaveLength(2);
    expect(s.signedIn).toBe(false);
    expect(heard).toHaveBeenCalledWith(false);
  });

  it("shares one refresh between requests that fail together", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { session: s, calls } = await signedIn(async (call) => {
      if (call.path === "/api/auth/refresh") {
        await gate;
        return json(200, tokens("new"));
      }
      return call.headers.get("Authorization") === "Bearer new"
        ? json(200, {})
        : json(401, { title: "Unauthorized", status: 401 });
    });
    const pending = Promise.all([s.fetch(`${BASE}/api/a`), s.fetch(`${BASE}/api/b`), s.fetch(`${BASE}/api/c`)]);
    await new Promise((r) => setTimeout(r, 0));
    release();
    const responses = await pending;
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(calls.filter((c) => c.path === "/api/auth/refresh")).toHaveLength(1);
  });

  it("does not refresh for other errors", async () => {
    const { session: s, calls } = await signedIn(() => json(403, { title: "Forbidden", status: 403 }));
    expect((await s.fetch(`${BASE}/api/users`)).status).toBe(403);
    expect(calls).toHaveLength(1);
  });
});

describe("logout", () => {
  it("sends the bearer token and forgets it", async () => {
    const { session: s, calls } = session((call) =>
      call.path === "/api/auth/login" ? json(200, tokens("at")) : new Response(null, { status: 204 }),
    );
    await s.login("a@b.c", "pw");
    await s.logout();
    expect(calls[1].path).toBe("/api/auth/logout");
    expect(calls[1].method).toBe("POST");
    expect(calls[1].headers.get("Authorization")).toBe("Bearer at");
    expect(s.signedIn).toBe(false);
  });
});
