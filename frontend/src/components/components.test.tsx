import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { Session } from "../api/session";
import { AuthProvider } from "../auth/AuthContext";
import { fakeFetch, json, tokens } from "../test/fakeFetch";
import { UploadProgressItem } from "./UploadProgressItem";

afterEach(cleanup);

describe("UploadProgressItem", () => {
  it("shows bytes and percent on an accessible progress bar", () => {
    render(
      <ul>
        <UploadProgressItem
          item={{ key: "k", name: "photo.png", size: 2048, loaded: 512, state: "uploading" }}
          onCancel={() => undefined}
        />
      </ul>,
    );
    const bar = screen.getByRole("progressbar", { name: "photo.png: Uploading" });
    expect(bar.getAttribute("value")).toBe("25");
    expect(bar.getAttribute("aria-valuetext")).toBe("25%");
    expect(screen.getByText("512 B of 2.0 KB (25%)")).toBeTruthy();
  });

  it("offers Cancel only while running, and reports which item", () => {
    const cancelled: string[] = [];
    const { rerender } = render(
      <ul>
        <UploadProgressItem
          item={{ key: "k1", name: "a.txt", size: 10, loaded: 0, state: "uploading" }}
          onCancel={(key) => cancelled.push(key)}
        />
      </ul>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Cancel a.txt" }));
    expect(cancelled).toEqual(["k1"]);
    rerender(
      <ul>
        <UploadProgressItem
          item={{ key: "k1", name: "a.txt", size: 10, loaded: 10, state: "done" }}
          onCancel={(key) => cancelled.push(key)}
        />
      </ul>,
    );
    expect(screen.queryByRole("button", { name: /Cancel/ })).toBeNull();
    expect(screen.getByText("10 B of 10 B (100%)")).toBeTruthy();
  });

  it("announces a failure", () => {
    render(
      <ul>
        <UploadProgressItem item={{ key: "k", name: "big.iso", size: 10, loaded: 3, state: "failed", error: "Too large." }} />
      </ul>,
    );
    expect(screen.getByRole("alert").textContent).toBe("Too large.");
  });
});

function renderApp(handler: Parameters<typeof fakeFetch>[0], cookies = "") {
  const fake = fakeFetch(handler);
  const session = new Session({
    baseUrl: "http://app.test",
    fetch: fake.fetch,
    cookies: () => cookies,
    withLock: (task) => task(),
  });
  render(
    <AuthProvider session={session}>
      <App />
    </AuthProvider>,
  );
  return { session, calls: fake.calls };
}

const ada = {
  id: "6b0e7c52-1f3a-4d8e-a9b2-0c4d5e6f7a81",
  email: "ada@example.com",
  name: "Ada",
  role: "user",
  created_at: "2025-01-31T09:15:00Z",
  updated_at: "2025-01-31T09:15:00Z",
  email_verified_at: null,
};

describe("login page", () => {
  beforeEach(() => window.history.replaceState(null, "", "/login"));

  async function submit(email: string, password: string) {
    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: email } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: password } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
  }

  it("shows the server's detail for a wrong password and clears the field", async () => {
    renderApp(() => json(401, { type: "about:blank", title: "Unauthorized", status: 401, detail: "Wrong email or password." }));
    await submit("ada@example.com", "wrong-password");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Wrong email or password.");
    expect(document.activeElement).toBe(alert);
    expect((screen.getByLabelText("Password") as HTMLInputElement).value).toBe("");
  });

  it("puts field errors next to their fields", async () => {
    renderApp(() =>
      json(422, { title: "Unprocessable Content", status: 422, detail: "Check the fields.", errors: { email: ["is required"] } }),
    );
    await submit("", "x");
    await screen.findByRole("alert");
    const email = screen.getByLabelText("Email");
    expect(email.getAttribute("aria-invalid")).toBe("true");
    const described = document.getElementById(email.getAttribute("aria-describedby")!.split(" ").pop()!);
    expect(described?.textContent).toBe("is required");
    expect(screen.getByLabelText("Password").getAttribute("aria-invalid")).toBeNull();
  });

  it("says when to try again after 429", async () => {
    renderApp(() => json(429, { title: "Too Many Requests", status: 429 }, { "Retry-After": "37" }));
    await submit("ada@example.com", "whatever1");
    expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Try again in 37 s.");
  });

  it("signs in, loads the account and goes to the uploads page", async () => {
    const { calls } = renderApp((call) => {
      if (call.path === "/api/auth/login") return json(200, tokens("at"));
      if (call.path === "/api/users/me") return json(200, ada);
      if (call.path.startsWith("/api/uploads")) return json(200, { items: [], next_cursor: null });
      return json(404, { title: "Not Found", status: 404 });
    });
    await submit("ada@example.com", "correct horse");
    expect(await screen.findByRole("heading", { level: 1, name: "Uploads" })).toBeTruthy();
    expect(window.location.pathname).toBe("/uploads");
    expect(screen.queryByRole("link", { name: "Admin" })).toBeNull();
    expect(calls.find((c) => c.path === "/api/users/me")?.headers.get("Authorization")).toBe("Bearer at");
  });
});

describe("session restore", () => {
  it("restores the session from the cookie on load, and shows Admin to admins", async () => {
    window.history.replaceState(null, "", "/admin");
    const { calls } = renderApp(
      (call) => {
        if (call.path === "/api/auth/refresh") return json(200, tokens("at"));
        if (call.path === "/api/users/me") return json(200, { ...ada, role: "admin" });
        if (call.path.startsWith("/api/users")) return json(200, { items: [{ ...ada, role: "admin" }], next_cursor: null });
        return json(404, { title: "Not Found", status: 404 });
      },
      "__Host-spinstack-csrf=abc",
    );
    expect(await screen.findByRole("heading", { level: 1, name: "Users" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Admin" })).toBeTruthy();
    await waitFor(() => expect(screen.getByRole("cell", { name: "ada@example.com" })).toBeTruthy());
    expect(calls.filter((c) => c.path === "/api/auth/refresh")).toHaveLength(1);
    expect(calls.find((c) => c.path.startsWith("/api/users?"))?.path).toBe("/api/users?limit=20");
  });

  it("sends a visitor without a session to the login page", async () => {
    window.history.replaceState(null, "", "/profile");
    const { calls } = renderApp(() => json(500, {}));
    expect(await screen.findByRole("heading", { level: 1, name: "Log in" })).toBeTruthy();
    expect(window.location.pathname + window.location.search).toBe("/login?next=%2Fprofile");
    expect(calls).toHaveLength(0);
  });
});
