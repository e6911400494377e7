import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { Session } from "../api/session";
import { AuthProvider } from "../auth/AuthContext";
import { ada, fakeFetch, json, tokens } from "../test/fakeFetch";
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
    // The alert takes focus in an effect, which may run just after the alert shows.
    await waitFor(() => expect(document.activeElement).toBe(alert));
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

describe("account links", () => {
  const notFound = () => json(404, { title: "Not Found", status: 404 });

  it("asks for a reset link and says the same whatever the address", async () => {
    window.history.replaceState(null, "", "/forgot-password");
    const { calls } = renderApp((call) =>
      call.path === "/api/auth/password-reset" ? new Response(JSON.stringify({ status: "accepted" }), { status: 202 }) : notFound(),
    );
    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: "nobody@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Send me a link" }));
    expect((await screen.findByRole("status")).textContent).toContain("If an account has this address");
    expect(JSON.parse(calls.find((c) => c.path === "/api/auth/password-reset")!.body)).toEqual({ email: "nobody@example.com" });
  });

  it("sets a new password with the token from the fragment, then drops the fragment", async () => {
    window.history.replaceState(null, "", "/reset-password#token=tok_123");
    const { calls } = renderApp((call) =>
      call.path === "/api/auth/password-reset/confirm" ? new Response(null, { status: 204 }) : notFound(),
    );
    fireEvent.change(await screen.findByLabelText(/New password/), { target: { value: "a new password" } });
    expect(window.location.hash).toBe("");
    fireEvent.click(screen.getByRole("button", { name: "Set the new password" }));
    expect(await screen.findByText("Your password is changed. Log in with the new one.")).toBeTruthy();
    expect(window.location.pathname + window.location.search).toBe("/login?reset=1");
    const confirm = calls.find((c) => c.path === "/api/auth/password-reset/confirm")!;
    expect(JSON.parse(confirm.body)).toEqual({ token: "tok_123", password: "a new password" });
  });

  it("says when a reset link is spent and offers a new one", async () => {
    window.history.replaceState(null, "", "/reset-password#token=used");
    renderApp(() =>
      json(400, { title: "Bad Request", status: 400, detail: "The link is not valid.", errors: { token: ["is not valid"] } }),
    );
    fireEvent.change(await screen.findByLabelText(/New password/), { target: { value: "a new password" } });
    fireEvent.click(screen.getByRole("button", { name: "Set the new password" }));
    expect((await screen.findByRole("alert")).textContent).toContain("This link is not valid");
    expect(screen.getByRole("link", { name: "Ask for a new one" }).getAttribute("href")).toBe("/forgot-password");
  });

  it("confirms an address once, from the fragment", async () => {
    window.history.replaceState(null, "", "/verify-email#token=verify_1");
    const { calls } = renderApp((call) =>
      call.path === "/api/auth/verify-email" ? new Response(null, { status: 204 }) : notFound(),
    );
    expect((await screen.findByRole("status")).textContent).toBe("Your email address is confirmed.");
    const posts = calls.filter((c) => c.path === "/api/auth/verify-email");
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0].body)).toEqual({ token: "verify_1" });
    expect(window.location.hash).toBe("");
  });

  it("moves the account to the new address once, from the fragment", async () => {
    window.history.replaceState(null, "", "/confirm-email#token=change_1");
    const { calls } = renderApp((call) =>
      call.path === "/api/auth/email-change/confirm" ? new Response(null, { status: 204 }) : notFound(),
    );
    expect((await screen.findByRole("status")).textContent).toContain("Your account has its new address now");
    const posts = calls.filter((c) => c.path === "/api/auth/email-change/confirm");
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0].body)).toEqual({ token: "change_1" });
    expect(window.location.hash).toBe("");
  });

  it("says when the new address was taken before the link was used", async () => {
    window.history.replaceState(null, "", "/confirm-email#token=late");
    renderApp(() =>
      json(409, { title: "Conflict", status: 409, detail: "Another account has this address now: ask for a link to another one." }),
    );
    expect((await screen.findByRole("alert")).textContent).toContain("Another account has this address now");
  });

  it("asks for an address change with the password and says where the link went", async () => {
    window.history.replaceState(null, "", "/profile");
    const { calls } = renderApp(
      (call) => {
        if (call.path === "/api/auth/refresh") return json(200, tokens("at"));
        if (call.path === "/api/users/me" && call.method === "GET") return json(200, { ...ada, email_verified_at: "2025-02-01T00:00:00Z" });
        if (call.path === "/api/users/me" && call.method === "PATCH") {
          const body = JSON.parse(call.body);
          if (body.current_password !== "right password") {
            return json(422, { title: "Unprocessable Content", status: 422, detail: "Check the fields.", errors: { current_password: ["is not your current password"] } });
          }
          return json(202, { message: "A link to confirm the new address is on its way to it." });
        }
        return notFound();
      },
      "__Host-spinstack-csrf=abc",
    );
    const form = (await screen.findByRole("heading", { name: "Email address" })).closest("form")!;
    const email = form.querySelector<HTMLInputElement>('input[name="email"]')!;
    const password = form.querySelector<HTMLInputElement>('input[name="current_password"]')!;
    fireEvent.change(email, { target: { value: "ada.new@example.com" } });
    fireEvent.change(password, { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Send a confirmation link" }));
    expect(await screen.findByText("is not your current password")).toBeTruthy();
    expect(password.value).toBe("");
    fireEvent.change(password, { target: { value: "right password" } });
    fireEvent.click(screen.getByRole("button", { name: "Send a confirmation link" }));
    expect(await screen.findByText(/A link is on its way to ada.new@example.com/)).toBeTruthy();
    const patches = calls.filter((c) => c.path === "/api/users/me" && c.method === "PATCH");
    expect(JSON.parse(patches[1].body)).toEqual({ email: "ada.new@example.com", current_password: "right password" });
    // The account keeps its address until the link is used.
    expect(screen.getByText("ada@example.com")).toBeTruthy();
  });

  it("reminds a signed-in user with an unconfirmed address and resends the link", async () => {
    window.history.replaceState(null, "", "/profile");
    const { calls } = renderApp(
      (call) => {
        if (call.path === "/api/auth/refresh") return json(200, tokens("at"));
        if (call.path === "/api/users/me") return json(200, ada);
        if (call.path === "/api/auth/verify-email/resend") return new Response(JSON.stringify({ status: "accepted" }), { status: 202 });
        return notFound();
      },
      "__Host-spinstack-csrf=abc",
    );
    fireEvent.click(await screen.findByRole("button", { name: "Send it again" }));
    expect(await screen.findByText("A new link is on its way to ada@example.com.")).toBeTruthy();
    expect(calls.find((c) => c.path === "/api/auth/verify-email/resend")?.headers.get("Authorization")).toBe("Bearer at");
  });
});

describe("forms", () => {
  const signedInAs = (user: typeof ada, answer: (path: string, body: string) => Response | undefined) =>
    renderApp((call) => {
      if (call.path === "/api/auth/refresh") return json(200, tokens("at-1"));
      const answered = answer(call.path, call.body);
      if (answered) return answered;
      if (call.path === "/api/users/me") return json(200, user);
      return json(404, { title: "Not Found", status: 404 });
    }, "__Host-spinstack-csrf=c");

  it("refuses a new password typed differently twice without asking the server", async () => {
    window.history.replaceState(null, "", "/profile");
    const { calls } = signedInAs(ada, () => undefined);
    // The address form has a "Current password" too: this one is the password form's.
    const form = (await screen.findByRole("heading", { name: "Password" })).closest("form")!;
    fireEvent.change(within(form).getByLabelText("Current password"), { target: { value: "old password" } });
    fireEvent.change(screen.getByLabelText(/^New password$/), { target: { value: "new password 1" } });
    fireEvent.change(screen.getByLabelText("New password, again"), { target: { value: "new password 2" } });
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The new passwords do not match.");
    expect(calls.some((c) => c.method === "PATCH")).toBe(false);
  });

  it("shows the server's reason next to the field, then the saved name", async () => {
    window.history.replaceState(null, "", "/profile");
    let tries = 0;
    signedInAs(ada, (path, body) => {
      if (path !== "/api/users/me" || body === "") return undefined;
      tries += 1;
      return tries === 1
        ? json(422, { title: "Unprocessable Content", status: 422, detail: "Check the fields.", errors: { name: ["is too long"] } })
        : json(200, { ...ada, name: JSON.parse(body).name });
    });
    const name = await screen.findByLabelText("Display name");
    fireEvent.change(name, { target: { value: "Ada L." } });
    fireEvent.click(screen.getByRole("button", { name: "Save name" }));
    expect(await screen.findByText("is too long")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Save name" }));
    expect(await screen.findByText("Your name was saved.")).toBeTruthy();
    expect(screen.queryByText("is too long")).toBeNull();
  });

  it("offers to log in when the address is taken", async () => {
    window.history.replaceState(null, "", "/register");
    renderApp(() => json(409, { title: "Conflict", status: 409, detail: "This email is already registered." }));
    fireEvent.change(await screen.findByLabelText("Name"), { target: { value: "Ada" } });
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect((await screen.findByRole("alert")).textContent).toContain("This email is already registered.");
    expect(screen.getByRole("link", { name: "Log in instead" }).getAttribute("href")).toBe("/login?email=ada%40example.com");
  });
});
