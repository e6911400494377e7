import { describe, expect, it } from "vitest";
import { Session } from "../api/session";
import { type Call, fakeFetch, json, tokens } from "../test/fakeFetch";
import { followEvents, type LiveEvent } from "./followEvents";

const BASE = "http://app.test";

function stream(text: string): Response {
  return new Response(text, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

function frame(id: number, type: string, data: Record<string, unknown>): string {
  const event = { id, type, occurred_at: "2026-12-04T00:00:00Z", data };
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A signed-in session whose event streams `answer` gives, and a recorder of waits. */
async function signedIn(answer: (call: Call, streams: number) => Response) {
  let streams = 0;
  const fake = fakeFetch((call) => {
    if (call.path === "/api/auth/login") return json(200, tokens("at-1"));
    if (call.path === "/api/events") return answer(call, streams++);
    if (call.path === "/api/auth/refresh") return json(401, { title: "Unauthorized", status: 401 });
    return json(404, { title: "Not Found", status: 404 });
  });
  const cookies = "__Host-spinstack-csrf=c";
  const session = new Session({ baseUrl: BASE, fetch: fake.fetch, cookies: () => cookies, withLock: (t) => t() });
  await session.login("ada@example.com", "pw");
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  const streamCalls = () => fake.calls.filter((c) => c.path === "/api/events");
  return { session, waits, sleep, streamCalls };
}

describe("followEvents", () => {
  it("resumes each new stream after the last id seen, the opening cursor included", async () => {
    const stop = new AbortController();
    const { session, waits, sleep, streamCalls } = await signedIn((_call, n) => {
      if (n === 0) return stream("retry: 2500\nid: 10\n\n: keep-alive\n\n");
      if (n === 1) return stream(`retry: 2500\nid: 10\n\n${frame(11, "upload.ready", { upload: {} })}`);
      stop.abort();
      return stream("retry: 2500\nid: 11\n\n");
    });
    const seen: LiveEvent[] = [];
    await followEvents(session, { signal: stop.signal, sleep, onEvent: (e) => seen.push(e) });
    const calls = streamCalls();
    expect(calls).toHaveLength(3);
    expect(calls[0].headers.get("Last-Event-ID")).toBeNull();
    expect(calls[0].headers.get("Accept")).toBe("text/event-stream");
    expect(calls[0].headers.get("Authorization")).toBe("Bearer at-1");
    expect(calls[1].headers.get("Last-Event-ID")).toBe("10");
    expect(calls[2].headers.get("Last-Event-ID")).toBe("11");
    expect(seen.map((e) => [e.id, e.type])).toEqual([[11, "upload.ready"]]);
    // A stream that ended as streams do waits what the server asked for.
    expect(waits.slice(0, 2)).toEqual([2500, 2500]);
  });

  it("backs off after failures, at least as long as Retry-After says", async () => {
    const stop = new AbortController();
    const { session, waits, sleep } = await signedIn((_call, n) => {
      if (n === 0) return json(503, { title: "Service Unavailable", status: 503 }, { "Retry-After": "20" });
      if (n === 1) return json(500, { title: "Internal Server Error", status: 500 });
      stop.abort();
      return stream("id: 1\n\n");
    });
    await followEvents(session, { signal: stop.signal, sleep, onEvent: () => {} });
    expect(waits[0]).toBeGreaterThanOrEqual(20_000);
    // The second failure in a row: half to all of twice the default 3 s.
    expect(waits[1]).toBeGreaterThanOrEqual(3000);
    expect(waits[1]).toBeLessThanOrEqual(6000);
  });

  it("stops when the session is over: a 401 the refresh cannot mend", async () => {
    const { session, streamCalls, sleep } = await signedIn(() => json(401, { title: "Unauthorized", status: 401 }));
    let heard: boolean | null = null;
    session.subscribe((signedInNow) => {
      heard = signedInNow;
    });
    await followEvents(session, { signal: new AbortController().signal, sleep, onEvent: () => {} });
    expect(streamCalls()).toHaveLength(1);
    expect(session.signedIn).toBe(false);
    expect(heard).toBe(false);
  });

  it("stops on a refusal that asking again would not change", async () => {
    const { session, streamCalls, sleep } = await signedIn(() => json(403, { title: "Forbidden", status: 403 }));
    await followEvents(session, { signal: new AbortController().signal, sleep, onEvent: () => {} });
    expect(streamCalls()).toHaveLength(1);
    expect(session.signedIn).toBe(true);
  });
});
