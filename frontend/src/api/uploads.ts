// Sending files: small ones straight to `POST /api/uploads` (raw body), large
// ones through `POST /api/uploads/presign` → PUT to the store →
// `POST /api/uploads/{id}/complete`. Both report progress and can be
// cancelled.

import { type ApiClient, type Upload, ensure, unwrap } from "./client";
import { ApiError, CancelledError, problemToError } from "./problem";
import type { Session } from "./session";
import { type Progress, type TransferResult, transfer } from "./transfer";

/** Files up to this size go directly; larger ones through presign. */
export const DIRECT_UPLOAD_LIMIT = 8 * 1024 * 1024;

export interface UploadOptions {
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  directLimit?: number;
  xhr?: () => XMLHttpRequest;
}

export function contentTypeOf(file: File): string {
  return file.type || "application/octet-stream";
}

function errorOf(result: TransferResult): ApiError {
  let body: unknown;
  try {
    body = result.body ? JSON.parse(result.body) : undefined;
  } catch {
    body = undefined;
  }
  return problemToError(result.status, body, result.header("Retry-After"));
}

/** Uploads `file`, choosing the route by size. */
export async function uploadFile(
  session: Session,
  api: ApiClient,
  file: File,
  options: UploadOptions = {},
): Promise<Upload> {
  const limit = options.directLimit ?? DIRECT_UPLOAD_LIMIT;
  return file.size <= limit
    ? uploadDirect(session, file, options)
    : uploadPresigned(api, file, options);
}

/** `POST /api/uploads?filename=` with the bytes; one refresh + retry on 401. */
export async function uploadDirect(session: Session, file: File, options: UploadOptions = {}): Promise<Upload> {
  const url = session.url(`/api/uploads?filename=${encodeURIComponent(file.name)}`);
  const send = () => {
    const headers: Record<string, string> = { "Content-Type": contentTypeOf(file) };
    if (session.accessToken) headers.Authorization = `Bearer ${session.accessToken}`;
    return transfer({ method: "POST", url, body: file, headers, ...options });
  };
  let result = await send();
  if (result.status === 401 && (await session.refresh().catch(() => false))) {
    result = await send();
  }
  if (result.status !== 201 && result.status !== 200) throw errorOf(result);
  return JSON.parse(result.body) as Upload;
}

/** The presigned flow. A cancelled or failed transfer removes the pending record. */
export async function uploadPresigned(
  api: ApiClient,
  file: File,
  options: UploadOptions = {},
): Promise<Upload> {
  const presign = unwrap(
    await api.POST("/api/uploads/presign", {
      body: { filename: file.name, content_type: contentTypeOf(file), size: file.size },
      signal: options.signal,
    }),
  );
  const id = presign.upload.id;
  try {
    const result = await transfer({
      method: presign.method,
      url: presign.upload_url,
      body: file,
      headers: presign.headers,
      onProgress: options.onProgress,
      signal: options.signal,
      xhr: options.xhr,
    });
    if (result.status < 200 || result.status >= 300) {
      throw new ApiError({
        status: result.status,
        detail: `The storage refused the file (HTTP ${result.status}).`,
      });
    }
  } catch (error) {
    // Best effort: do not leave a pending record behind.
    void api.DELETE("/api/uploads/{id}", { params: { path: { id } } }).catch(() => undefined);
    throw error;
  }
  if (options.signal?.aborted) throw new CancelledError();
  return unwrap(await api.POST("/api/uploads/{id}/complete", { params: { path: { id } } }));
}

export async function deleteUpload(api: ApiClient, id: string): Promise<void> {
  ensure(await api.DELETE("/api/uploads/{id}", { params: { path: { id } } }));
}
