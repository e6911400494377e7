// The `text/event-stream` format (WHATWG HTML, "Server-sent events"), parsed
// as the browser's EventSource does, for a stream read with fetch (EventSource
// cannot send the bearer token).
//
// Our own rather than eventsource-parser: that package does not report the
// `id:` of a frame without `data:`, and the server opens every stream with
// exactly such a frame (the cursor it starts from). EventSource keeps that id
// as its last event id; so must we, or a client that drops before the first
// event would resume from whenever it reconnects and miss what came between.

export interface StreamEvent {
  /** The `event:` field; "message" when the frame has none. */
  type: string;
  data: string;
  /** The last event id after this event (its own `id:`, or an earlier one). */
  lastEventId: string;
}

export class EventStreamParser {
  /** The id to send as `Last-Event-ID` when reconnecting ("" for none). */
  lastEventId = "";
  /** The reconnection delay the server asked for (`retry:`), in ms. */
  retryMs: number | null = null;
  private pending = "";
  private data: string[] = [];
  private type = "";
  private id = "";

  /**
   * Forgets a frame cut off by a broken connection (a new stream starts
   * afresh); keeps the last event id and the retry delay, as EventSource does.
   */
  reset(): void {
    this.pending = "";
    this.data = [];
    this.type = "";
    this.id = this.lastEventId;
  }

  /** Feeds decoded text (any chunking); returns the events it completed. */
  feed(text: string): StreamEvent[] {
    const events: StreamEvent[] = [];
    const buffer = this.pending + text;
    let start = 0;
    for (;;) {
      const match = /\r\n|\r|\n/g;
      match.lastIndex = start;
      const found = match.exec(buffer);
      if (!found) break;
      // A CR at the very end may be the first half of a CRLF: keep it.
      if (found[0] === "\r" && found.index === buffer.length - 1) break;
      this.line(buffer.slice(start, found.index), events);
      start = found.index + found[0].length;
    }
    this.pending = buffer.slice(start);
    return events;
  }

  private line(line: string, events: StreamEvent[]) {
    if (line === "") {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(":")) return; // a comment (the server's keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.type = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(events: StreamEvent[]) {
    this.lastEventId = this.id;
    if (this.data.length > 0) {
      events.push({ type: this.type || "message", data: this.data.join("\n"), lastEventId: this.lastEventId });
    }
    this.data = [];
    this.type = "";
  }
}
