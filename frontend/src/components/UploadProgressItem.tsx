import { formatBytes, percent } from "../format";

export type TransferState = "queued" | "uploading" | "done" | "failed" | "cancelled";

export interface TransferItem {
  key: string;
  name: string;
  size: number;
  loaded: number;
  state: TransferState;
  error?: string;
}

const STATE_TEXT: Record<TransferState, string> = {
  queued: "Waiting",
  uploading: "Uploading",
  done: "Uploaded",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** One file being sent: a progress bar with bytes and percent, and Cancel while it runs. */
export function UploadProgressItem({ item, onCancel }: { item: TransferItem; onCancel?: (key: string) => void }) {
  const pct = percent(item.loaded, item.size);
  const running = item.state === "queued" || item.state === "uploading";
  const label = `${item.name}: ${STATE_TEXT[item.state]}`;
  return (
    <li className={`transfer transfer-${item.state}`}>
      <div className="transfer-head">
        <span className="transfer-name">{item.name}</span>
        <span className="transfer-state">{STATE_TEXT[item.state]}</span>
      </div>
      <progress max={100} value={pct} aria-label={label} aria-valuetext={`${pct}%`} />
      <div className="transfer-foot">
        <span className="transfer-bytes">
          {formatBytes(Math.min(item.loaded, item.size))} of {formatBytes(item.size)} ({pct}%)
        </span>
        {running && onCancel && (
          <button
            type="button"
            className="button-small"
            aria-label={`Cancel ${item.name}`}
            onClick={() => onCancel(item.key)}
          >
            Cancel
          </button>
        )}
      </div>
      {item.error && (
        <p className="transfer-error" role="alert">
          {item.error}
        </p>
      )}
    </li>
  );
}
