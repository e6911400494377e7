import { describe, expect, it } from "vitest";
import { EventStreamParser } from "./eventStream";

describe("EventStreamParser", () => {
  it("keeps the id of a frame without data, as EventSource does", () => {
    const parser = new EventStreamParser();
    expect(parser.feed("retry: 3000\nid: 41\n\n")).toEqual([]);
    expect(parser.lastEventId).toBe("41");
    expect(parser.retryMs).toBe(3000);
  });

  it("dispatches typed events with their ids, skipping comments", () => {
    const parser = new EventStreamParser();
    const events = parser.feed(': keep-alive\n\nid: 42\nevent: upload.ready\ndata: {"a":1}\n\n');
    expect(events).toEqual([{ type: "upload.ready", data: '{"a":1}', lastEventId: "42" }]);
  });

  it("joins data lines, defaults the type, and strips one leading space only", () => {
    const parser = new EventStreamParser();
    const events = parser.feed("data:  two\ndata:lines\n\n");
    expect(events).toEqual([{ type: "message", data: " two\nlines", lastEventId: "" }]);
  });

  it("completes frames split anywhere, CRLF split between chunks included", () => {
    const text = "id: 7\r\nevent: user.updated\r\ndata: {}\r\n\r\nid: 8\rdata: x\r\r";
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new EventStreamParser();
      const events = [...parser.feed(text.slice(0, cut)), ...parser.feed(text.slice(cut)), ...parser.feed("\n")];
      expect(events.map((e) => [e.type, e.data, e.lastEventId])).toEqual([
        ["user.updated", "{}", "7"],
        ["message", "x", "8"],
      ]);
    }
  });

  it("ignores a retry that is not a number and an id with NUL", () => {
    const parser = new EventStreamParser();
    parser.feed("retry: soon\nid: 1\0\n\n");
    expect(parser.retryMs).toBeNull();
    expect(parser.lastEventId).toBe("");
  });

  it("forgets a frame cut off by a broken connection but keeps the cursor", () => {
    const parser = new EventStreamParser();
    parser.feed("id: 5\n\nid: 6\nevent: upload.deleted\ndata: {}");
    parser.reset();
    expect(parser.lastEventId).toBe("5");
    expect(parser.feed("data: y\n\n")).toEqual([{ type: "message", data: "y", lastEventId: "5" }]);
  });
});
