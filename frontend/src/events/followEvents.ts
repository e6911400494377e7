// Follows `GET /api/events` for as long as the person is signed in: each
// stream ends by design (after about a minute, at token expiry, at logout,
// when a server drains), and the next one resumes with `Last-Event-ID`, so
// every event arrives once and in order. Failures wait and retry with
// backoff; a 401 the session cannot refresh ends the session (its listeners
// send the page to login), and then this stops.

import { NetworkError, parseRetryAfter } from "../api/problem";
import type { components } from "../api/schema";
import type { Session } from "../api/session";
import { EventStreamParser } from "./eventStream";

export type LiveEvent = components["schemas"]["Event"];

export interface FollowOptions {
  signal: AbortSignal;
  onEvent: (event: LiveEvent) => void;
  /** Waits `ms` or until `signal` aborts (tests pass a fake clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** When the server names no `retry:`: what EventSource implementations use. */
const DEFAULT_RETRY_MS = 3000;
const MAX_BACKOFF_MS = 60_000;

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Resolves when `signal` aborts or the session ends; never rejects. */
export async function followEvents(session: Session, options: FollowOptions): Promise<void> {
  const { signal, onEvent } = options;
  const wait = options.sleep ?? sleep;
  const parser = new EventStreamParser();
  let failures = 0;
  while (!signal.aborted && session.signedIn) {
    const outcome = await oneStream(session, parser, signal, onEvent);
    if (outcome.kind === "over" || signal.aborted) return;
    const retryMs = parser.retryMs ?? DEFAULT_RETRY_MS;
    if (outcome.kind === "ended") {
      failures = 0;
      await wait(retryMs, signal);
      continue;
    }
    failures += 1;
    const backoff = Math.min(MAX_BACKOFF_MS, retryMs * 2 ** (failures - 1));
    // Jitter, so that the tabs of a restarted server do not all come back at once.
    const delay = Math.max(outcome.retryAfterMs ?? 0, backoff * (0.5 + Math.random() / 2));
    await wait(delay, signal);
  }
}

type Outcome =
  /** The stream ended as streams do: reconnect after `retry`. */
  | { kind: "ended" }
  /** It could not be had or broke off: reconnect with backoff. */
  | { kind: "failed"; retryAfterMs?: number }
  /** Retrying would not help (signed out, or refused for good). */
  | { kind: "over" };

async function oneStream(
  session: Session,
  parser: EventStreamParser,
  signal: AbortSignal,
  onEvent: (event: LiveEvent) => void,
): Promise<Outcome> {
  parser.reset();
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  if (parser.lastEventId !== "") headers["Last-Event-ID"] = parser.lastEventId;
  let response: Response;
  try {
    response = await session.fetch(session.url("/api/events"), { headers, signal, cache: "no-store" });
  } catch (error) {
    if (error instanceof NetworkError) return { kind: "failed" };
    return { kind: "over" }; // aborted
  }
  if (response.status === 401) return { kind: "over" }; // the session is over; its listeners know
  if (response.status === 429 || response.status >= 500) {
    const seconds = parseRetryAfter(response.headers.get("Retry-After"));
    return { kind: "failed", retryAfterMs: seconds === undefined ? undefined : seconds * 1000 };
  }
  const type = response.headers.get("Content-Type") ?? "";
  if (!response.ok || !type.startsWith("text/event-stream") || !response.body) {
    return { kind: "over" }; // a 4xx, or not an event stream: asking again gets the same
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { kind: "ended" };
      for (const frame of parser.feed(value)) {
        let event: LiveEvent;
        try {
          event = JSON.parse(frame.data) as LiveEvent;
        } catch {
          continue; // not one of ours; the id still moved the cursor
        }
        onEvent(event);
      }
    }
  } catch {
    return signal.aborted ? { kind: "over" } : { kind: "failed" };
  } finally {
    reader.releaseLock();
  }
}
