import { beforeEach, describe, expect, it } from "vitest";
import { fakeFetch, json, tokens } from "../test/fakeFetch";
import { FakeXhr, makeXhr, tick } from "../test/fakeXhr";
import { createApiClient } from "./client";
import { ApiError, CancelledError } from "./problem";
import { Session } from "./session";
import type { Progress } from "./transfer";
import { uploadFile } from "./uploads";

const BASE = "http://app.test";
const upload = (over: Record<string, unknown> = {}) => ({
  id: "3f1c2b9e-8d4a-4c6f-9b1e-2a7d5c0e9f13",
  filename: "notes.txt",
  content_type: "text/plain",
  size: 11,
  status: "ready",
  created_at: "2025-01-31T09:20:00Z",
  ...over,
});

async function setup(handler: Parameters<typeof fakeFetch>[0] = () => json(500, {})) {
  const fake = fakeFetch((call, i) => {
    if (call.path === "/api/auth/login") return json(200, tokens("at-1"));
    if (call.path === "/api/auth/refresh") return json(200, tokens("at-2"));
    return handler(call, i);
  });
  const session = new Session({
    baseUrl: BASE,
    fetch: fake.fetch,
    cookies: () => "__Host-spinstack-csrf=c",
    withLock: (task) => task(),
  });
  await session.login("a@b.c", "pw");
  return { session, api: createApiClient(session), calls: fake.calls };
}

const file = (text: string, name = "notes.txt", type = "text/plain") => new File([text], name, { type });

beforeEach(() => {
  FakeXhr.instances = [];
});

describe("direct uploads", () => {
  it("posts the raw bytes with the type, name and token, reporting progress to 100%", async () => {
    const { session, api } = await setup();
    const seen: Progress[] = [];
    const pending = uploadFile(session, api, file("hello world", "my notes.txt"), {
      xhr: makeXhr,
      onProgress: (p) => seen.push(p),
    });
    await tick();
    const xhr = FakeXhr.instances[0];
    expect(xhr.method).toBe("POST");
    expect(xhr.url).toBe(`${BASE}/api/uploads?filename=my%20notes.txt`);
    expect(xhr.headers["Content-Type"]).toBe("text/plain");
    expect(xhr.headers.Authorization).toBe("Bearer at-1");
    expect(xhr.body).toBeInstanceOf(File);
    xhr.progress(5, 11);
    xhr.respond(201, upload());
    expect((await pending).id).toBe(upload().id);
    expect(seen[0]).toEqual({ loaded: 0, total: 11 });
    expect(seen).toContainEqual({ loaded: 5, total: 11 });
    expect(seen[seen.length - 1]).toEqual({ loaded: 11, total: 11 });
  });

  it("uses application/octet-stream when the browser knows no type", async () => {
    const { session, api } = await setup();
    const pending = uploadFile(session, api, file("x", "blob", ""), { xhr: makeXhr });
    await tick();
    expect(FakeXhr.instances[0].headers["Content-Type"]).toBe("application/octet-stream");
    FakeXhr.instances[0].respond(201, upload());
    await pending;
  });

  it("refreshes once on 401 and sends the file again", async () => {
    const { session, api, calls } = await setup();
    const pending = uploadFile(session, api, file("hello"), { xhr: makeXhr });
    await tick();
    FakeXhr.instances[0].respond(401, { title: "Unauthorized", status: 401 });
    await tick();
    await tick();
    expect(calls.map((c) => c.path)).toContain("/api/auth/refresh");
    const second = FakeXhr.instances[1];
    expect(second.headers.Authorization).toBe("Bearer at-2");
    second.respond(201, upload());
    await expect(pending).resolves.toMatchObject({ status: "ready" });
  });

  it("shows the problem of a refused upload", async () => {
    const { session, api } = await setup();
    const pending = uploadFile(session, api, file("x"), { xhr: makeXhr });
    await tick();
    FakeXhr.instances[0].respond(415, { title: "Unsupported Media Type", status: 415, detail: "This file type is not allowed." });
    const error = (await pending.catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.userMessage).toBe("This file type is not allowed.");
  });

  it("can be cancelled", async () => {
    const { session, api } = await setup();
    const controller = new AbortController();
    const pending = uploadFile(session, api, file("hello"), { xhr: makeXhr, signal: controller.signal });
    await tick();
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect(FakeXhr.instances[0].aborted).toBe(true);
  });
});

describe("presigned uploads", () => {
  it("presigns, PUTs to the store with the given headers, then completes", async () => {
    const presigned = {
      upload: upload({ status: "pending", size: 20 }),
      upload_url: "http://store.test/app/key?X-Amz-Signature=abc",
      method: "PUT",
      headers: { "Content-Type": "text/plain" },
      expires_in: 300,
    };
    const { session, api, calls } = await setup((call) => {
      if (call.path === "/api/uploads/presign") return json(200, presigned);
      if (call.path.endsWith("/complete")) return json(200, upload({ size: 20 }));
      return json(404, {});
    });
    const pending = uploadFile(session, api, file("x".repeat(20)), { xhr: makeXhr, directLimit: 10 });
    await tick();
    await tick();
    const presign = calls.find((c) => c.path === "/api/uploads/presign");
    expect(JSON.parse(presign!.body)).toEqual({ filename: "notes.txt", content_type: "text/plain", size: 20 });
    const put = FakeXhr.instances[0];
    expect(put.method).toBe("PUT");
    expect(put.url).toBe(presigned.upload_url);
    expect(put.headers).toEqual({ "Content-Type": "text/plain" });
    put.respond(200);
    await expect(pending).resolves.toMatchObject({ status: "ready" });
    expect(calls[calls.length - 1].path).toBe(`/api/uploads/${presigned.upload.id}/complete`);
    expect(calls[calls.length - 1].method).toBe("POST");
  });

  it("deletes the pending record when the transfer is cancelled", async () => {
    const { session, api, calls } = await setup((call) =>
      call.path === "/api/uploads/presign"
        ? json(200, { upload: upload({ status: "pending" }), upload_url: "http://store.test/k", method: "PUT", headers: {}, expires_in: 60 })
        : new Response(null, { status: 204 }),
    );
    const controller = new AbortController();
    const pending = uploadFile(session, api, file("x".repeat(20)), { xhr: makeXhr, directLimit: 10, signal: controller.signal });
    await tick();
    await tick();
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    await tick();
    expect(calls.some((c) => c.method === "DELETE" && c.path === `/api/uploads/${upload().id}`)).toBe(true);
  });
});
