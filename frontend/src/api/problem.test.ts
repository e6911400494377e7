import { describe, expect, it } from "vitest";
import { ApiError, errorFromResponse, messageFor, parseRetryAfter, problemToError } from "./problem";

describe("parseRetryAfter", () => {
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("12")).toBe(12);
    expect(parseRetryAfter(" 0 ")).toBe(0);
  });
  it("reads an HTTP date relative to now", () => {
    const now = Date.parse("2025-01-31T09:15:00Z");
    expect(parseRetryAfter("Fri, 31 Jan 2025 09:15:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Fri, 31 Jan 2025 09:14:00 GMT", now)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("")).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter("-5")).toBeUndefined();
  });
});

describe("problem documents", () => {
  it("keeps detail and field errors", async () => {
    const response = new Response(
      JSON.stringify({
        type: "about:blank",
        title: "Unprocessable Content",
        status: 422,
        detail: "Some fields are invalid.",
        errors: { password: ["must be at least 8 characters"], email: ["is not an email address"] },
      }),
      { status: 422, headers: { "Content-Type": "application/problem+json" } },
    );
    const error = await errorFromResponse(response);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(422);
    expect(error.userMessage).toBe("Some fields are invalid.");
    expect(error.field("password")).toEqual(["must be at least 8 characters"]);
    expect(error.field("email")).toEqual(["is not an email address"]);
    expect(error.field("name")).toEqual([]);
  });

  it("drops malformed errors members instead of crashing", () => {
    const error = problemToError(422, { errors: { a: [1, "ok"], b: "single", c: null, d: [] } });
    expect(error.fieldErrors).toEqual({ a: ["ok"], b: ["single"] });
    expect(problemToError(422, { errors: ["x"] }).fieldErrors).toEqual({});
  });

  it("survives a body that is not JSON", async () => {
    const error = await errorFromResponse(new Response("<html>Bad Gateway</html>", { status: 502 }));
    expect(error.status).toBe(502);
    expect(error.userMessage).toBe("Something went wrong on the server. Try again shortly.");
  });

  it("falls back to the title, then to plain words for the status", () => {
    expect(problemToError(404, { title: "Not Found" }).userMessage).toBe("Not Found");
    expect(problemToError(403, null).userMessage).toBe("Not allowed");
  });

  it("says how long to wait on 429", async () => {
    const response = new Response(JSON.stringify({ title: "Too Many Requests", status: 429, detail: "Slow down." }), {
      status: 429,
      headers: { "Retry-After": "42", "Content-Type": "application/problem+json" },
    });
    const error = await errorFromResponse(response);
    expect(error.retryAfter).toBe(42);
    expect(messageFor(error)).toBe("Too many attempts. Try again in 42 s.");
    expect(messageFor(problemToError(429, {}))).toBe("Too many attempts. Try again in a moment.");
  });

  it("words other errors", () => {
    expect(messageFor(new Error("boom"))).toBe("boom");
    expect(messageFor("?")).toBe("Something went wrong.");
  });
});
