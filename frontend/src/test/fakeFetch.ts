// A scripted fetch for tests: each call is recorded (method, path, headers,
// body) and answered by the handler.

export interface Call {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

export type Handler = (call: Call, index: number) => Response | Promise<Response>;

export function fakeFetch(handler: Handler) {
  const calls: Call[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const call: Call = {
      method: request.method,
      path: url.pathname + url.search,
      headers: request.headers,
      body: await request.text(),
    };
    calls.push(call);
    return handler(call, calls.length - 1);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": type, ...headers } });
}

export const tokens = (access: string) => ({
  access_token: access,
  token_type: "Bearer",
  expires_in: 900,
  csrf_token: "csrf",
});

/** A user as `GET /api/users/me` returns one (address not verified yet, two-factor sign-in off). */
export const ada = {
  id: "6b0e7c52-1f3a-4d8e-a9b2-0c4d5e6f7a81",
  email: "ada@example.com",
  name: "Ada",
  role: "user",
  created_at: "2025-01-31T09:15:00Z",
  updated_at: "2025-01-31T09:15:00Z",
  email_verified_at: null as string | null,
  totp_enabled: false,
};
