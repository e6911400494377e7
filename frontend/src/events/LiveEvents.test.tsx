import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { Session } from "../api/session";
import { AuthProvider } from "../auth/AuthContext";
import { ada, fakeFetch, json, tokens } from "../test/fakeFetch";
import { LiveEventsProvider } from "./LiveEvents";

afterEach(cleanup);

const verifiedAda = { ...ada, email_verified_at: "2025-01-31T09:16:00Z" };

const listed = {
  id: "0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  filename: "listed.txt",
  content_type: "text/plain",
  size: 5,
  status: "ready",
  created_at: "2025-02-01T10:00:00Z",
};

/** An event stream the test writes to, frame by frame. */
function openStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const encoder = new TextEncoder();
  let id = 100;
  return {
    response: new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    send(type: string, data: Record<string, unknown>) {
      id += 1;
      const event = { id, type, occurred_at: "2025-02-01T10:00:00Z", data };
      controller.enqueue(encoder.encode(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(event)}\n\n`));
    },
    close: () => controller.close(),
  };
}

function renderSignedIn(stream: ReturnType<typeof openStream>) {
  const fake = fakeFetch((call) => {
    if (call.path === "/api/auth/refresh") return json(200, tokens("at-1"));
    if (call.path === "/api/users/me") return json(200, verifiedAda);
    if (call.path.startsWith("/api/uploads")) return json(200, { items: [listed], next_cursor: null });
    if (call.path === "/api/events") return stream.response;
    return json(404, { title: "Not Found", status: 404 });
  });
  const session = new Session({
    baseUrl: "http://app.test",
    fetch: fake.fetch,
    cookies: () => "__Host-spinstack-csrf=c",
    withLock: (task) => task(),
  });
  render(
    <AuthProvider session={session}>
      <LiveEventsProvider>
        <App />
      </LiveEventsProvider>
    </AuthProvider>,
  );
  return fake.calls;
}

describe("live events on the uploads page", () => {
  beforeEach(() => window.history.replaceState(null, "", "/uploads"));

  it("adds an upload made elsewhere and drops one deleted elsewhere, without reloading", async () => {
    const stream = openStream();
    const calls = renderSignedIn(stream);
    await screen.findByText("listed.txt");
    await waitFor(() => expect(calls.some((c) => c.path === "/api/events")).toBe(true));
    const lists = calls.filter((c) => c.path.startsWith("/api/uploads")).length;

    const arrived = { ...listed, id: "1e2d3c4b-5a6f-4b7c-8d9e-0f1a2b3c4d5e", filename: "from-phone.jpg" };
    stream.send("upload.ready", { upload: arrived });
    await screen.findByText("from-phone.jpg");

    stream.send("upload.deleted", { id: listed.id });
    await waitFor(() => expect(screen.queryByText("listed.txt")).toBeNull());
    expect(screen.getByText("from-phone.jpg")).toBeTruthy();
    expect(calls.filter((c) => c.path.startsWith("/api/uploads")).length).toBe(lists);
    stream.close();
  });

  it("reloads the list on resync, and follows a role changed elsewhere (the Admin link appears)", async () => {
    const stream = openStream();
    const calls = renderSignedIn(stream);
    await screen.findByText("listed.txt");
    await waitFor(() => expect(calls.some((c) => c.path === "/api/events")).toBe(true));
    const lists = () => calls.filter((c) => c.path.startsWith("/api/uploads")).length;
    const before = lists();
    stream.send("resync", { reason: "cursor_outside_retention" });
    await waitFor(() => expect(lists()).toBe(before + 1));

    stream.send("user.updated", { user: { ...verifiedAda, role: "admin" } });
    await screen.findByRole("link", { name: "Admin" });
    stream.close();
  });
});
