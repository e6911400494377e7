// Request bodies with upload progress: fetch cannot report how much of a
// request body has been sent, XMLHttpRequest can (`xhr.upload.onprogress`).

import { CancelledError, NetworkError } from "./problem";

export interface Progress {
  loaded: number;
  total: number;
}

export interface TransferResult {
  status: number;
  body: string;
  header(name: string): string | null;
}

export interface TransferOptions {
  method: string;
  url: string;
  body: Blob;
  headers?: Record<string, string>;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** The XMLHttpRequest constructor (tests pass a fake). */
  xhr?: () => XMLHttpRequest;
}

/**
 * Sends `body`, reporting progress; resolves with any HTTP answer (the
 * caller decides what a status means), rejects with CancelledError when
 * `signal` aborts and NetworkError when no answer came.
 */
export function transfer(options: TransferOptions): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new CancelledError());
      return;
    }
    const xhr = options.xhr ? options.xhr() : new XMLHttpRequest();
    const total = options.body.size;
    xhr.open(options.method, options.url, true);
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      xhr.setRequestHeader(name, value);
    }
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => options.signal?.removeEventListener("abort", onAbort);
    xhr.upload.onprogress = (event: ProgressEvent) => {
      options.onProgress?.({ loaded: event.loaded, total: event.lengthComputable ? event.total : total });
    };
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) options.onProgress?.({ loaded: total, total });
      resolve({
        status: xhr.status,
        body: typeof xhr.responseText === "string" ? xhr.responseText : "",
        header: (name) => xhr.getResponseHeader(name),
      });
    };
    xhr.onerror = () => {
      done();
      reject(new NetworkError("The upload failed: the server could not be reached."));
    };
    xhr.onabort = () => {
      done();
      reject(new CancelledError());
    };
    options.onProgress?.({ loaded: 0, total });
    xhr.send(options.body);
  });
}
