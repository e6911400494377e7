import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "../App";
import { Session } from "../api/session";
import { AuthProvider } from "../auth/AuthContext";
import { ada, fakeFetch, json, tokens } from "../test/fakeFetch";
import { QrCode } from "./QrCode";
import { groupSecret } from "./TwoFactorEnrol";
import { qrMatrix } from "./qrMatrix";

afterEach(cleanup);

const CHALLENGE = "k".repeat(43);
const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const URI = `otpauth://totp/Spinstack:ada%40example.com?secret=${SECRET}&issuer=Spinstack`;
const CODES = Array.from({ length: 10 }, (_, i) => `abcd${i}-efgh${i}`);
const notFound = () => json(404, { title: "Not Found", status: 404 });

function renderApp(handler: Parameters<typeof fakeFetch>[0], cookies = "") {
  const fake = fakeFetch(handler);
  const session = new Session({ baseUrl: "http://app.test", fetch: fake.fetch, cookies: () => cookies, withLock: (task) => task() });
  render(
    <AuthProvider session={session}>
      <App />
    </AuthProvider>,
  );
  return { session, calls: fake.calls };
}

describe("login with two-factor sign-in", () => {
  async function passwordStep() {
    window.history.replaceState(null, "", "/login");
    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));
  }
  const challenged = () => json(202, { challenge: CHALLENGE, second_factor: "totp", expires_in: 300 });

  it("asks for the code after the password, lets a wrong one be retyped, then signs in", async () => {
    let tries = 0;
    const { calls } = renderApp((call) => {
      if (call.path === "/api/auth/login") return challenged();
      if (call.path === "/api/auth/login/totp") {
        tries += 1;
        return tries === 1
          ? json(401, { title: "Unauthorized", status: 401, detail: "The code is wrong or was already used.", errors: { code: ["is wrong or was already used"] } })
          : json(200, tokens("at"));
      }
      if (call.path === "/api/users/me") return json(200, { ...ada, totp_enabled: true });
      if (call.path.startsWith("/api/uploads")) return json(200, { items: [], next_cursor: null });
      return notFound();
    });
    await passwordStep();
    const code = await screen.findByLabelText("Code");
    expect(screen.getByText("Enter the 6-digit code from your authenticator app (or a recovery code).")).toBeTruthy();
    expect(document.activeElement).toBe(code);
    expect(screen.queryByLabelText("Password")).toBeNull();

    fireEvent.change(code, { target: { value: "111111" } });
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The code is wrong or was already used.");
    expect(screen.getByText("is wrong or was already used")).toBeTruthy();
    expect((screen.getByLabelText("Code") as HTMLInputElement).value).toBe("");

    fireEvent.change(screen.getByLabelText("Code"), { target: { value: "222 222" } });
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Uploads" })).toBeTruthy();
    const finishes = calls.filter((c) => c.path === "/api/auth/login/totp");
    expect(finishes.map((c) => JSON.parse(c.body))).toEqual([
      { challenge: CHALLENGE, code: "111111" },
      { challenge: CHALLENGE, code: "222 222" },
    ]);
    expect(calls.find((c) => c.path === "/api/users/me")?.headers.get("Authorization")).toBe("Bearer at");
  });

  it("goes back to the password step when the challenge is spent or expired", async () => {
    renderApp((call) => {
      if (call.path === "/api/auth/login") return challenged();
      if (call.path === "/api/auth/login/totp") {
        return json(401, {
          title: "Unauthorized",
          status: 401,
          detail: "This sign-in has expired or was already finished: sign in again.",
          errors: { challenge: ["is invalid, expired, or already used"] },
        });
      }
      return notFound();
    });
    await passwordStep();
    fireEvent.change(await screen.findByLabelText("Code"), { target: { value: "123456" } });
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("This sign-in has expired or was already finished: sign in again.");
    expect(screen.queryByLabelText("Code")).toBeNull();
    expect((screen.getByLabelText("Email") as HTMLInputElement).value).toBe("ada@example.com");
    expect((screen.getByLabelText("Password") as HTMLInputElement).value).toBe("");
  });

  it("offers a way back to the password step", async () => {
    renderApp((call) => (call.path === "/api/auth/login" ? challenged() : notFound()));
    await passwordStep();
    await screen.findByLabelText("Code");
    fireEvent.click(screen.getByRole("button", { name: "Start again with the password" }));
    expect(await screen.findByLabelText("Password")).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says when to try again after too many wrong codes", async () => {
    renderApp((call) => {
      if (call.path === "/api/auth/login") return challenged();
      return json(429, { title: "Too Many Requests", status: 429 }, { "Retry-After": "540" });
    });
    await passwordStep();
    fireEvent.change(await screen.findByLabelText("Code"), { target: { value: "123456" } });
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Try again in 540 s.");
    expect(screen.getByLabelText("Code")).toBeTruthy();
  });
});

describe("profile: two-factor sign-in", () => {
  const signedInAs = (user: typeof ada, answer: (path: string, body: string) => Response | undefined) => {
    window.history.replaceState(null, "", "/profile");
    return renderApp((call) => {
      if (call.path === "/api/auth/refresh") return json(200, tokens("at"));
      const answered = answer(call.path, call.body);
      if (answered) return answered;
      if (call.path === "/api/users/me") return json(200, user);
      return notFound();
    }, "__Host-spinstack-csrf=c");
  };
  const card = async () => within(await screen.findByRole("region", { name: "Two-factor sign-in" }));

  it("turns on: password, QR code and key, first code, then the recovery codes once", async () => {
    const { calls } = signedInAs(ada, (path, body) => {
      if (path === "/api/auth/totp/enrol") {
        return JSON.parse(body).password === "correct horse"
          ? json(201, { secret: SECRET, otpauth_uri: URI })
          : json(422, { title: "Unprocessable Content", status: 422, detail: "Check the fields.", errors: { password: ["is not your current password"] } });
      }
      if (path === "/api/auth/totp/confirm") return json(200, { recovery_codes: CODES });
      return undefined;
    });
    const twoFactor = await card();
    expect(twoFactor.getByText("Off.")).toBeTruthy();
    fireEvent.click(twoFactor.getByRole("button", { name: "Turn on" }));

    fireEvent.change(twoFactor.getByLabelText("Password"), { target: { value: "wrong" } });
    fireEvent.click(twoFactor.getByRole("button", { name: "Continue" }));
    expect(await twoFactor.findByText("is not your current password")).toBeTruthy();
    fireEvent.change(twoFactor.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.click(twoFactor.getByRole("button", { name: "Continue" }));

    const qr = await twoFactor.findByRole("img", { name: "QR code with the key for your authenticator app" });
    expect(qr.tagName.toLowerCase()).toBe("svg");
    expect(qr.querySelector("path")?.getAttribute("d")).toMatch(/^M\d+ \d+h1v1h-1z/);
    expect(twoFactor.getByText("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")).toBeTruthy();

    fireEvent.change(twoFactor.getByLabelText("Code from the app"), { target: { value: "123456" } });
    fireEvent.click(twoFactor.getByRole("button", { name: "Turn on" }));
    expect(await twoFactor.findByRole("heading", { name: "Save these recovery codes now" })).toBeTruthy();
    const list = twoFactor.getByRole("list", { name: "Recovery codes" });
    expect(within(list).getAllByRole("listitem").map((li) => li.textContent)).toEqual(CODES);
    // Focus moves in an effect, which may run just after the codes show.
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Save these recovery codes now"));

    fireEvent.click(twoFactor.getByRole("button", { name: "Done" }));
    expect(await twoFactor.findByText("Two-factor sign-in is on.")).toBeTruthy();
    expect(twoFactor.getByText("On.")).toBeTruthy();
    expect(twoFactor.queryByText(CODES[0])).toBeNull();
    expect(twoFactor.getByRole("button", { name: "Turn off" })).toBeTruthy();

    expect(JSON.parse(calls.find((c) => c.path === "/api/auth/totp/confirm")!.body)).toEqual({ code: "123456" });
    expect(calls.filter((c) => c.path.startsWith("/api/auth/totp")).every((c) => c.headers.get("Authorization") === "Bearer at")).toBe(true);
  });

  it("shows the reason for a wrong first code and keeps the QR step", async () => {
    signedInAs(ada, (path) => {
      if (path === "/api/auth/totp/enrol") return json(201, { secret: SECRET, otpauth_uri: URI });
      if (path === "/api/auth/totp/confirm") {
        return json(422, { title: "Unprocessable Content", status: 422, detail: "Check the fields.", errors: { code: ["is wrong or was already used"] } });
      }
      return undefined;
    });
    const twoFactor = await card();
    fireEvent.click(twoFactor.getByRole("button", { name: "Turn on" }));
    fireEvent.change(twoFactor.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.click(twoFactor.getByRole("button", { name: "Continue" }));
    fireEvent.change(await twoFactor.findByLabelText("Code from the app"), { target: { value: "000000" } });
    fireEvent.click(twoFactor.getByRole("button", { name: "Turn on" }));
    expect(await twoFactor.findByText("is wrong or was already used")).toBeTruthy();
    expect(twoFactor.getByText("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")).toBeTruthy();
  });

  it("turns off with the password and a code", async () => {
    const { calls } = signedInAs({ ...ada, totp_enabled: true }, (path) =>
      path === "/api/auth/totp/disable" ? new Response(null, { status: 204 }) : undefined,
    );
    const twoFactor = await card();
    expect(twoFactor.getByText("On.")).toBeTruthy();
    fireEvent.click(twoFactor.getByRole("button", { name: "Turn off" }));
    fireEvent.change(twoFactor.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.change(twoFactor.getByLabelText("Code"), { target: { value: "abcde-fghij" } });
    fireEvent.click(twoFactor.getByRole("button", { name: "Turn off two-factor sign-in" }));
    expect(await twoFactor.findByText("Two-factor sign-in is off.")).toBeTruthy();
    expect(twoFactor.getByText("Off.")).toBeTruthy();
    expect(JSON.parse(calls.find((c) => c.path === "/api/auth/totp/disable")!.body)).toEqual({
      password: "correct horse",
      code: "abcde-fghij",
    });
  });

  it("shows the account as it is when another tab already turned it on (409)", async () => {
    let on = false;
    signedInAs(ada, (path) => {
      if (path === "/api/auth/totp/enrol") {
        on = true;
        return json(409, { title: "Conflict", status: 409, detail: "Two-factor sign-in is already on." });
      }
      if (path === "/api/users/me") return json(200, { ...ada, totp_enabled: on });
      return undefined;
    });
    const twoFactor = await card();
    fireEvent.click(twoFactor.getByRole("button", { name: "Turn on" }));
    fireEvent.change(twoFactor.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.click(twoFactor.getByRole("button", { name: "Continue" }));
    expect((await twoFactor.findByRole("alert")).textContent).toBe("Two-factor sign-in is already on.");
    expect(twoFactor.getByText("On.")).toBeTruthy();
  });
});

describe("admin: verification and two-factor sign-in per user", () => {
  it("shows both, and resets a user's two-factor sign-in after asking", async () => {
    window.history.replaceState(null, "", "/admin");
    const admin = { ...ada, role: "admin", email_verified_at: "2025-01-31T09:15:00Z" };
    const bob = { ...ada, id: "0b0b0b0b-1f3a-4d8e-a9b2-0c4d5e6f7a81", email: "bob@example.com", name: "Bob", totp_enabled: true };
    let bobNow = bob;
    const { calls } = renderApp(
      (call) => {
        if (call.path === "/api/auth/refresh") return json(200, tokens("at"));
        if (call.path === "/api/users/me") return json(200, admin);
        if (call.path.startsWith("/api/users?")) return json(200, { items: [bob, admin], next_cursor: null });
        if (call.path === `/api/users/${bob.id}/totp` && call.method === "DELETE") {
          bobNow = { ...bob, totp_enabled: false };
          return new Response(null, { status: 204 });
        }
        if (call.path === `/api/users/${bob.id}`) return json(200, bobNow);
        return notFound();
      },
      "__Host-spinstack-csrf=abc",
    );
    const bobRow = within((await screen.findByRole("cell", { name: "bob@example.com" })).closest("tr")!);
    const adminRow = within(screen.getByRole("cell", { name: "ada@example.com" }).closest("tr")!);
    expect(bobRow.getByText("not verified")).toBeTruthy();
    expect(bobRow.getByText("on")).toBeTruthy();
    expect(adminRow.getByText("verified")).toBeTruthy();
    expect(adminRow.getByText("off")).toBeTruthy();
    expect(adminRow.queryByRole("button", { name: /Reset two-factor/ })).toBeNull();

    fireEvent.click(bobRow.getByRole("button", { name: "Reset two-factor sign-in of bob@example.com" }));
    const yes = bobRow.getByRole("button", { name: "Yes, reset two-factor sign-in of bob@example.com" });
    await waitFor(() => expect(document.activeElement).toBe(yes));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    fireEvent.click(bobRow.getByRole("button", { name: "Keep" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);

    fireEvent.click(bobRow.getByRole("button", { name: "Reset two-factor sign-in of bob@example.com" }));
    fireEvent.click(bobRow.getByRole("button", { name: "Yes, reset two-factor sign-in of bob@example.com" }));
    await waitFor(() => expect(bobRow.getByText("off")).toBeTruthy());
    expect(bobRow.queryByRole("button", { name: /Reset two-factor/ })).toBeNull();
    const deleted = calls.find((c) => c.method === "DELETE")!;
    expect(deleted.path).toBe(`/api/users/${bob.id}/totp`);
    expect(deleted.headers.get("Authorization")).toBe("Bearer at");
  });
});

describe("QR code", () => {
  it("encodes an otpauth URI in a square matrix with the three finder patterns", () => {
    const modules = qrMatrix(URI);
    const size = modules.length;
    expect((size - 21) % 4).toBe(0);
    expect(modules.every((row) => row.length === size)).toBe(true);
    // Each finder pattern: a dark 7×7 ring with a light ring inside it.
    for (const [r, c] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
      expect(modules[r][c] && modules[r + 6][c + 6] && modules[r + 3][c + 3]).toBe(true);
      expect(modules[r + 1][c + 1]).toBe(false);
    }
    expect(modules[size - 1][size - 1] !== undefined).toBe(true);
  });

  it("is drawn as an SVG image with a label once the encoder has loaded", async () => {
    render(<QrCode text={URI} label="Scan me" />);
    expect(screen.getByRole("status").textContent).toBe("Drawing the QR code…");
    const svg = await screen.findByRole("img", { name: "Scan me" });
    const size = qrMatrix(URI).length + 8;
    expect(svg.getAttribute("viewBox")).toBe(`0 0 ${size} ${size}`);
  });

  it("groups the key in fours", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP");
    expect(groupSecret("ABCDEF==")).toBe("ABCD EF");
  });
});
