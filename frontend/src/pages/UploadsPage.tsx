import { type DragEvent, useCallback, useEffect, useRef, useState } from "react";
import { type Upload, unwrap } from "../api/client";
import { CancelledError, messageFor } from "../api/problem";
import { deleteUpload, uploadFile } from "../api/uploads";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { type TransferItem, UploadProgressItem } from "../components/UploadProgressItem";
import { useLiveEvents } from "../events/LiveEvents";
import { formatBytes, formatDate } from "../format";

let counter = 0;

function UploadRow({
  upload,
  onDeleted,
  onError,
}: {
  upload: Upload;
  onDeleted: (id: string) => void;
  onError: (message: string) => void;
}) {
  const { api } = useAuth();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<string | null>(null);
  const [previewFailed, setPreviewFailed] = useState(false);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  const isImage = upload.content_type.startsWith("image/") && upload.status === "ready";

  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const details = async (): Promise<Upload> =>
    unwrap(await api.GET("/api/uploads/{id}", { params: { path: { id: upload.id } } }));

  const download = async () => {
    setBusy(true);
    try {
      const fresh = await details();
      if (!fresh.download_url) throw new Error("This file is not ready to download yet.");
      const link = document.createElement("a");
      link.href = fresh.download_url;
      link.download = upload.filename;
      link.rel = "noopener";
      document.body.append(link);
      link.click();
      link.remove();
    } catch (e) {
      onError(messageFor(e));
    } finally {
      setBusy(false);
    }
  };

  const showPreview = async () => {
    if (preview) {
      setPreview(null);
      return;
    }
    try {
      const fresh = await details();
      setPreviewFailed(false);
      setPreview(fresh.download_url ?? null);
    } catch (e) {
      onError(messageFor(e));
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await deleteUpload(api, upload.id);
      onDeleted(upload.id);
    } catch (e) {
      onError(messageFor(e));
      setConfirming(false);
      setBusy(false);
      deleteButton.current?.focus();
    }
  };

  return (
    <tr>
      <td data-label="Name">
        <span className="filename">{upload.filename}</span>
        {preview && (
          <div className="preview">
            {previewFailed ? (
              <p className="muted">The preview could not be shown.</p>
            ) : (
              <img src={preview} alt={`Preview of ${upload.filename}`} onError={() => setPreviewFailed(true)} />
            )}
          </div>
        )}
      </td>
      <td data-label="Type">{upload.content_type}</td>
      <td data-label="Size">{formatBytes(upload.size)}</td>
      <td data-label="Date">
        <time dateTime={upload.created_at}>{formatDate(upload.created_at)}</time>
      </td>
      <td data-label="Status">
        <span className={`badge badge-${upload.status}`}>{upload.status}</span>
      </td>
      <td data-label="Actions" className="actions">
        {confirming ? (
          <span className="confirm" role="group" aria-label={`Delete ${upload.filename}?`}>
            <span>Delete for good?</span>
            <button ref={confirmButton} type="button" className="button-danger button-small" disabled={busy} onClick={remove} aria-label={`Yes, delete ${upload.filename}`}>Yes, delete
            </button>
            <button
              type="button"
              className="button-small"
              onClick={() => {
                setConfirming(false);
                deleteButton.current?.focus();
              }}
            >
              Keep
            </button>
          </span>
        ) : (
          <>
            {isImage && (
              <button type="button" className="button-small" onClick={showPreview} aria-pressed={preview !== null} aria-label={`Preview ${upload.filename}`}>Preview
              </button>
            )}
            {upload.status === "ready" && (
              <button type="button" className="button-small" disabled={busy} onClick={download} aria-label={`Download ${upload.filename}`}>Download
              </button>
            )}
            <button
              ref={deleteButton}
              type="button"
              className="button-small"
              aria-label={`Delete ${upload.filename}`}
              onClick={() => setConfirming(true)}
            >
              Delete
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

export function UploadsPage() {
  const { api, session } = useAuth();
  const [transfers, setTransfers] = useState<TransferItem[]>([]);
  const controllers = useRef(new Map<string, AbortController>());
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const loadPage = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const page = unwrap(
          await api.GET("/api/uploads", { params: { query: after ? { cursor: after, limit: 20 } : { limit: 20 } } }),
        );
        setUploads((current) => (after ? [...current, ...page.items] : page.items));
        setCursor(page.next_cursor);
        setError(null);
      } catch (e) {
        setError(messageFor(e));
      } finally {
        setLoading(false);
      }
    },
    [api],
  );

  useEffect(() => {
    void loadPage(null);
    const running = controllers.current;
    return () => {
      for (const controller of running.values()) controller.abort();
    };
  }, [loadPage]);

  // Another tab or device uploaded or deleted a file: show it without a
  // reload. A ready upload already listed (announced, or sent from this tab)
  // is replaced where it is; a resync means events were missed: reload.
  useLiveEvents((event) => {
    if (event.type === "upload.ready") {
      const upload = (event.data as { upload?: Upload }).upload;
      if (!upload) return;
      setUploads((current) =>
        current.some((u) => u.id === upload.id)
          ? current.map((u) => (u.id === upload.id ? upload : u))
          : [upload, ...current],
      );
    } else if (event.type === "upload.deleted") {
      const id = (event.data as { id?: string }).id;
      setUploads((current) => current.filter((u) => u.id !== id));
    } else if (event.type === "resync") {
      void loadPage(null);
    }
  });

  const update = (key: string, patch: Partial<TransferItem>) =>
    setTransfers((items) => items.map((item) => (item.key === key ? { ...item, ...patch } : item)));

  const start = (files: FileList | File[]) => {
    const list = Array.from(files);
    if (list.length === 0) return;
    const items = list.map<TransferItem>((file) => ({
      key: `t${++counter}`,
      name: file.name,
      size: file.size,
      loaded: 0,
      state: "queued",
    }));
    setTransfers((current) => [...items, ...current]);
    list.forEach((file, i) => {
      const key = items[i].key;
      const controller = new AbortController();
      controllers.current.set(key, controller);
      uploadFile(session, api, file, {
        signal: controller.signal,
        onProgress: ({ loaded }) => update(key, { loaded, state: "uploading" }),
      })
        .then((upload) => {
          update(key, { loaded: file.size, state: "done" });
          setUploads((current) => [upload, ...current.filter((u) => u.id !== upload.id)]);
        })
        .catch((e: unknown) => {
          if (e instanceof CancelledError) update(key, { state: "cancelled" });
          else update(key, { state: "failed", error: messageFor(e) });
        })
        .finally(() => controllers.current.delete(key));
    });
  };

  const cancel = (key: string) => controllers.current.get(key)?.abort();

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    start(event.dataTransfer.files);
  };

  const finished = transfers.some((t) => t.state !== "queued" && t.state !== "uploading");
  return (
    <Page title="Uploads">
      <div
        className={dragging ? "dropzone dropzone-active" : "dropzone"}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drag files here, or</p>
        <label className="button button-primary file-button">
          Choose files
          <input
            ref={input}
            className="visually-hidden"
            type="file"
            multiple
            onChange={(event) => {
              if (event.target.files) start(event.target.files);
              event.target.value = "";
            }}
          />
        </label>
      </div>

      {transfers.length > 0 && (
        <section aria-labelledby="transfers-heading" className="transfers">
          <div className="section-head">
            <h2 id="transfers-heading">Sending</h2>
            {finished && (
              <button
                type="button"
                className="button-small"
                onClick={() => setTransfers((items) => items.filter((t) => t.state === "queued" || t.state === "uploading"))}
              >
                Clear finished
              </button>
            )}
          </div>
          <ul className="transfer-list">
            {transfers.map((item) => (
              <UploadProgressItem key={item.key} item={item} onCancel={cancel} />
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="files-heading">
        <h2 id="files-heading">Your files</h2>
        {error && <Alert>{error}</Alert>}
        {!loading && uploads.length === 0 && !error && <p className="muted">No files yet.</p>}
        {uploads.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">Date</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {uploads.map((upload) => (
                <UploadRow
                  key={upload.id}
                  upload={upload}
                  onDeleted={(id) => setUploads((current) => current.filter((u) => u.id !== id))}
                  onError={setError}
                />
              ))}
            </tbody>
          </table>
        )}
        {loading && <p aria-live="polite">Loading…</p>}
        {cursor && !loading && (
          <button type="button" onClick={() => void loadPage(cursor)}>
            Show more
          </button>
        )}
      </section>
    </Page>
  );
}
