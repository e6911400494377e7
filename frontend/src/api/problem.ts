// Errors from the API, as the person using the app should see them.
//
// Every 4xx/5xx answer of the API is an RFC 9457 problem document
// (openapi.yaml, schema `Problem`). `ApiError` keeps what matters to the UI:
// the status, a sentence to show (`detail`, else `title`), the per-field
// reasons, and for 429 the seconds to wait from `Retry-After`.

import type { components } from "./schema";

export type Problem = components["schemas"]["Problem"];
export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly fieldErrors: FieldErrors;
  /** Seconds to wait before trying again (429, 503), when the server said. */
  readonly retryAfter: number | undefined;

  constructor(init: {
    status: number;
    title?: string;
    detail?: string;
    fieldErrors?: FieldErrors;
    retryAfter?: number;
  }) {
    super(init.detail ?? init.title ?? `HTTP ${init.status}`);
    this.name = "ApiError";
    this.status = init.status;
    this.title = init.title ?? defaultTitle(init.status);
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors ?? {};
    this.retryAfter = init.retryAfter;
  }

  /** The sentence to show the person. */
  get userMessage(): string {
    return messageFor(this);
  }

  /** Reasons for one field, or an empty list. */
  field(name: string): string[] {
    return this.fieldErrors[name] ?? [];
  }
}

/** A request that never got an HTTP answer (offline, blocked, aborted). */
export class NetworkError extends Error {
  constructor(message = "The server could not be reached. Check your connection and try again.") {
    super(message);
    this.name = "NetworkError";
  }
}

/** The request was cancelled by the person. */
export class CancelledError extends Error {
  constructor() {
    super("Cancelled.");
    this.name = "CancelledError";
  }
}

/**
 * Seconds from a `Retry-After` header: delta-seconds, or an HTTP date
 * (counted from `now`). Undefined when absent or unusable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  // An HTTP date names its day and month ("Fri, 31 Jan 2025 09:15:30 GMT");
  // anything else (such as "-5", which Date.parse takes for a year) is unusable.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keeps only well-formed `errors` entries: field → list of strings. */
function fieldErrorsOf(value: unknown): FieldErrors {
  if (!isObject(value)) return {};
  const out: FieldErrors = {};
  for (const [field, reasons] of Object.entries(value)) {
    if (Array.isArray(reasons)) {
      const strings = reasons.filter((r): r is string => typeof r === "string");
      if (strings.length > 0) out[field] = strings;
    } else if (typeof reasons === "string") {
      out[field] = [reasons];
    }
  }
  return out;
}

/** Builds an ApiError from a parsed body (problem+json or anything else). */
export function problemToError(status: number, body: unknown, retryAfterHeader?: string | null): ApiError {
  const problem = isObject(body) ? body : {};
  const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v : undefined);
  return new ApiError({
    status,
    title: str(problem.title),
    detail: str(problem.detail),
    fieldErrors: fieldErrorsOf(problem.errors),
    retryAfter: parseRetryAfter(retryAfterHeader),
  });
}

/** Reads an error response into an ApiError (never throws). */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = undefined;
  try {
    const text = await response.text();
    if (text) body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the status speaks.
  }
  return problemToError(response.status, body, response.headers.get("Retry-After"));
}

function defaultTitle(status: number): string {
  switch (status) {
    case 400: return "Bad request";
    case 401: return "Not signed in";
    case 403: return "Not allowed";
    case 404: return "Not found";
    case 409: return "Conflict";
    case 413: return "Too large";
    case 415: return "Unsupported type";
    case 422: return "Invalid input";
    case 429: return "Too many requests";
    case 503: return "Service unavailable";
    default: return status >= 500 ? "Server error" : `Error ${status}`;
  }
}

/** Plain words for an error of any kind. */
export function messageFor(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) {
      const wait = error.retryAfter;
      return wait !== undefined
        ? `Too many attempts. Try again in ${wait} s.`
        : "Too many attempts. Try again in a moment.";
    }
    if (error.detail) return error.detail;
    if (error.status === 503) {
      return error.retryAfter !== undefined
        ? `The service is busy. Try again in ${error.retryAfter} s.`
        : "The service is unavailable right now. Try again shortly.";
    }
    if (error.status >= 500) return "Something went wrong on the server. Try again shortly.";
    return error.title;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
