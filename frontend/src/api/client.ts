// The typed API client: openapi-fetch over the types generated from
// openapi.yaml (src/api/schema.d.ts, `npm run gen:api`), sending every
// request through the session (bearer token, one refresh + retry on 401).

import createClient from "openapi-fetch";
import { problemToError } from "./problem";
import type { components, paths } from "./schema";
import { Session } from "./session";

export type Schemas = components["schemas"];
export type User = Schemas["User"];
export type Upload = Schemas["Upload"];
export type UserList = Schemas["UserList"];
export type UploadList = Schemas["UploadList"];
export type PresignResponse = Schemas["PresignResponse"];

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(session: Session) {
  return createClient<paths>({
    baseUrl: session.baseUrl,
    fetch: (request: Request) => session.fetch(request),
  });
}

/** The data of a successful openapi-fetch result; throws ApiError otherwise. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  const { response } = result;
  if (!response.ok) {
    throw problemToError(response.status, result.error, response.headers.get("Retry-After"));
  }
  return result.data as T;
}

/** Like unwrap, for answers without a body (204). */
export function ensure(result: { error?: unknown; response: Response }): void {
  const { response } = result;
  if (!response.ok) {
    throw problemToError(response.status, result.error, response.headers.get("Retry-After"));
  }
}
