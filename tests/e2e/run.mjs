// End-to-end tests of the web app in a real browser: Debian's Chromium
// (/usr/bin/chromium, or $CHROMIUM) driven by playwright-core, against
// `spinstack up` on the project's spin.toml with embedded Postgres and S3.
//
// usage: node tests/e2e/run.mjs            (after `spinstack build`)
//   E2E_BASE_URL=http://host:port   test a running deployment instead
//   E2E_ONLY=substring              run only the matching tests
//   E2E_TLS=1                       serve over HTTPS and HTTP/2 (--tls-self-signed)
//                                   at https://localhost
//
// Any failure fails the run (a component missing from the manifest too).
// Screenshots of every page go to tests/e2e/screenshots/ (gitignored).
// Ends with "N passed, N failed".

import { execFileSync, spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const require = createRequire(join(root, "frontend/package.json"));
const { chromium } = require("playwright-core");

const SHOTS = join(here, "screenshots");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ADMIN_EMAIL = "admin@e2e.example.com";
const ADMIN_PASSWORD = "admin-e2e-password-1";
const TLS = process.env.E2E_TLS === "1";
const FIRST_LOAD_BUDGET = 200 * 1024;
const manifest = readFileSync(join(root, "spin.toml"), "utf8");
const routed = (component) => new RegExp(`component\\s*=\\s*"${component}"`).test(manifest);

// ---------------------------------------------------------------- harness

const results = [];
function requireComponent(name) {
  if (!routed(name)) throw new Error(`spin.toml has no route to component "${name}"`);
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}
function equal(actual, expected, message) {
  if (actual !== expected) throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function startHost() {
  const binary = join(root, "target/debug/spinstack");
  if (!existsSync(binary)) throw new Error("target/debug/spinstack is missing: run `cargo build -p spinstack` and `target/debug/spinstack build` first");
  const state = mkdtempSync(join(tmpdir(), "spinstack-e2e-"));
  // The embedded Postgres runs as an unprivileged user when we are root: it
  // must be able to reach its data directory inside.
  chmodSync(state, 0o755);
  const port = await freePort();
  const log = [];
  const child = spawn(
    binary,
    [
      "up",
      "-f", join(root, "spin.toml"),
      "--gateway", "none",
      "--listen", `127.0.0.1:${port}`,
      "--state-dir", state,
      "--cache-dir", join(root, "target/spinstack-e2e-cache"),
      ...(TLS ? ["--tls-self-signed"] : []),
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        RUST_LOG: process.env.RUST_LOG ?? "warn",
        SPIN_VARIABLE_ADMIN_EMAIL: ADMIN_EMAIL,
        SPIN_VARIABLE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`spinstack did not start in 240 s:\n${log.join("")}`)), 240_000);
    child.stdout.on("data", (chunk) => {
      const text = chunk.toString();
      log.push(text);
      const match = /^Serving (\S+)/m.exec(text);
      if (match) {
        clearTimeout(timer);
        // The local CA's certificate names localhost (a secure context
        // either way; the __Host- cookie needs https or localhost).
        resolve(match[1].replace(/\/$/, "").replace("https://127.0.0.1:", "https://localhost:"));
      }
    });
    child.stderr.on("data", (chunk) => log.push(chunk.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`spinstack exited (${code}) before serving:\n${log.join("")}`));
    });
  });
  child.removeAllListeners("exit");
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => {
        const force = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.on("exit", () => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    rmSync(state, { recursive: true, force: true });
  };
  // The embedded mail catcher keeps each message here (spinstack up without mail_api_url).
  return { baseUrl, stop, log, mailDir: join(state, "mail/messages") };
}

// ---------------------------------------------------------------- helpers

const unique = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const user = { name: "Erin E2E", email: `erin-${unique}@e2e.example.com`, password: "erin-password-1" };

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function heading(page, text) {
  await page.getByRole("heading", { level: 1, name: text }).waitFor({ timeout: 15_000 });
}

async function login(page, base, email, password) {
  // Start signed out whatever an earlier step left behind.
  await page.context().clearCookies();
  await page.goto(`${base}/login`);
  await heading(page, "Log in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** A file of `size` pseudo-random bytes (so compression cannot shrink it). */
function makeFile(size) {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(unique).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/** The first message to `to` whose subject is `subject`, waiting for its delivery (after the response). */
async function mailTo(mailDir, to, subject) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const files = existsSync(mailDir) ? readdirSync(mailDir).sort() : [];
    for (const file of files) {
      const message = JSON.parse(readFileSync(join(mailDir, file), "utf8"));
      if (message.To === to && message.Subject === subject) return message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail "${subject}" to ${to} in ${mailDir} within 20 s`);
}

/** The path and fragment of the account link in a message (its host is `public_url`, not this test's). */
function linkIn(message, page) {
  const match = new RegExp(`/${page}#token=[A-Za-z0-9_-]+`).exec(message.TextBody);
  assert(match, `a /${page} link in the mail`);
  return match[0];
}

/** The text of the QR code in a PNG, decoded by Debian's zbarimg (zbar-tools). */
function scanQr(png) {
  const file = join(mkdtempSync(join(tmpdir(), "e2e-qr-")), "qr.png");
  writeFileSync(file, png);
  try {
    return execFileSync("zbarimg", ["-q", "--raw", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } finally {
    rmSync(dirname(file), { recursive: true, force: true });
  }
}

/** RFC 4648 base32 (A-Z, 2-7; spaces and padding ignored) to bytes. */
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const out = [];
  let value = 0;
  let bits = 0;
  for (const char of text.replace(/[\s=]/g, "").toUpperCase()) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

/**
 * The code an authenticator app shows at `unixSeconds` for a base32 secret
 * (RFC 6238: HMAC-SHA-1 over the 8-byte big-endian count of 30 s steps,
 * RFC 4226's dynamic truncation, 6 digits). The test's own, so that it
 * checks the server rather than sharing its code.
 */
function totp(secret, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * A code for the next 30 s step. The server accepts one step of skew either
 * way but never a step at or before the last one it accepted, so right
 * after a code was used (a confirm, a login) only the next step's is good.
 */
const nextTotp = (secret) => totp(secret, Date.now() / 1000 + 30);

// ---------------------------------------------------------------- tests

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("first load: under 200 KB transferred, nothing from another origin", async ({ browser, base }) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: TLS });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const requests = new Map();
  let transferred = 0;
  cdp.on("Network.requestWillBeSent", (e) => requests.set(e.requestId, { url: e.request.url }));
  cdp.on("Network.responseReceived", (e) => {
    const r = requests.get(e.requestId);
    if (r) {
      r.status = e.response.status;
      r.encoding = e.response.headers["content-encoding"] ?? e.response.headers["Content-Encoding"] ?? "";
    }
  });
  cdp.on("Network.loadingFinished", (e) => {
    const r = requests.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
    transferred += e.encodedDataLength;
  });
  const violations = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto(`${base}/login`, { waitUntil: "networkidle" });
  await heading(page, "Log in");
  const origin = new URL(base).origin;
  const foreign = [...requests.values()].filter((r) => !r.url.startsWith(origin) && !r.url.startsWith("data:"));
  equal(foreign.length, 0, `requests to other origins: ${foreign.map((r) => r.url).join(", ")}`);
  equal(violations.length, 0, `CSP violations: ${violations.join(" | ")}`);
  const report = { url: `${base}/login`, transferred_bytes: transferred, budget_bytes: FIRST_LOAD_BUDGET, requests: [...requests.values()] };
  writeFileSync(join(SHOTS, "first-load.json"), JSON.stringify(report, null, 2));
  console.log(`  first load: ${transferred} bytes over the wire in ${requests.size} requests`);
  for (const r of requests.values()) console.log(`    ${r.status} ${r.encoding || "identity"} ${r.bytes} ${r.url}`);
  assert(transferred > 0, "nothing was measured");
  assert(transferred < FIRST_LOAD_BUDGET, `first load transferred ${transferred} bytes, over the ${FIRST_LOAD_BUDGET} budget`);
  await context.close();
});

test("register, then log in (cookie mode): __Host- cookies are kept on http://127.0.0.1", async ({ page, context, base }) => {
  await page.goto(`${base}/register`);
  await heading(page, "Create an account");
  await shot(page, "register");
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await heading(page, "Log in");
  await page.getByText("Your account is ready").waitFor();
  equal(await page.getByLabel("Email").inputValue(), user.email, "the email is carried to the login form");
  await shot(page, "login");
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await heading(page, "Uploads");
  equal(new URL(page.url()).pathname, "/uploads", "lands on the uploads page");
  const cookies = await context.cookies(base);
  const refresh = cookies.find((c) => c.name === "__Host-spinstack-refresh");
  const csrf = cookies.find((c) => c.name === "__Host-spinstack-csrf");
  assert(refresh, `Chromium did not keep the refresh cookie on ${base} (cookies: ${cookies.map((c) => c.name).join(", ")})`);
  assert(refresh.httpOnly && refresh.secure && refresh.sameSite === "Strict", "refresh cookie is HttpOnly, Secure, SameSite=Strict");
  assert(csrf && !csrf.httpOnly, "the CSRF cookie is readable by the page");
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  equal(stored, "{}{}", "nothing in localStorage or sessionStorage");
});

test("the session survives a reload (one refresh from the cookie)", async ({ page, base }) => {
  const refreshes = [];
  page.on("request", (r) => r.url().endsWith("/api/auth/refresh") && refreshes.push(r));
  await page.reload();
  await heading(page, "Uploads");
  equal(refreshes.length, 1, "one refresh on load");
  await page.getByRole("button", { name: "Log out" }).waitFor();
  await page.goto(`${base}/profile`);
  await heading(page, "Profile");
  await shot(page, "profile");
});

test("profile: change the name, and the password (current one required)", async ({ page, base }) => {
  requireComponent("users");
  await page.goto(`${base}/profile`);
  await heading(page, "Profile");
  await page.getByText(user.email, { exact: true }).waitFor();
  await page.getByLabel("Display name").fill("Erin Renamed");
  await page.getByRole("button", { name: "Save name" }).click();
  await page.getByText("Your name was saved.").waitFor();
  await page.reload();
  await heading(page, "Profile");
  await page.waitForFunction(() => document.querySelector("input[name=name]")?.value === "Erin Renamed");
  // The address form has a "Current password" too: this is the password form's.
  const passwordForm = page.locator("form", { has: page.getByRole("heading", { name: "Password", exact: true }) });
  await passwordForm.getByLabel("Current password").fill("not-the-password");
  await page.getByLabel("New password", { exact: true }).fill("erin-password-2");
  await page.getByLabel("New password, again").fill("erin-password-2");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.locator(".card .alert-error").first().waitFor();
  await shot(page, "profile-error");
  await passwordForm.getByLabel("Current password").fill(user.password);
  await page.getByLabel("New password", { exact: true }).fill("erin-password-2");
  await page.getByLabel("New password, again").fill("erin-password-2");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Your password was changed.").waitFor();
  user.password = "erin-password-2";
});

test("upload a file: progress to 100%, download the same bytes, delete it", async ({ page, base, context }) => {
  requireComponent("uploads");
  await page.goto(`${base}/uploads`);
  await heading(page, "Uploads");
  const bytes = makeFile(3 * 1024 * 1024 + 123);
  const name = `e2e-${unique}.bin`;
  // Slow the link so the progress bar has something to show.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 20,
    downloadThroughput: 50 * 1024 * 1024,
    uploadThroughput: 2 * 1024 * 1024,
  });
  const seen = new Set();
  const bar = page.getByRole("progressbar", { name: new RegExp(`^${name}`) });
  await page.locator("input[type=file]").setInputFiles({ name, mimeType: "application/octet-stream", buffer: bytes });
  await bar.waitFor();
  for (let i = 0; i < 600; i += 1) {
    seen.add(Number(await bar.getAttribute("value")));
    if ((await bar.getAttribute("aria-label"))?.endsWith("Uploaded") || (await bar.getAttribute("aria-label"))?.endsWith("Failed")) break;
    await page.waitForTimeout(50);
  }
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await shot(page, "uploads-progress");
  const label = await bar.getAttribute("aria-label");
  const failure = await page.locator(".transfer-error").allTextContents();
  equal(label, `${name}: Uploaded`, `the upload finished (${failure.join(" ")})`);
  equal(Number(await bar.getAttribute("value")), 100, "the bar ends at 100%");
  await page.getByText("3.0 MB of 3.0 MB (100%)").waitFor();
  console.log(`  progress values seen: ${[...seen].sort((a, b) => a - b).join(", ")}`);
  assert([...seen].some((v) => v > 0 && v < 100), "the bar showed progress between 0 and 100%");

  const row = page.getByRole("row", { name: new RegExp(name) });
  await row.waitFor();
  assert((await row.textContent()).includes("ready"), "the new upload is listed as ready");
  await shot(page, "uploads");

  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 20_000 }),
    page.getByRole("button", { name: `Download ${name}` }).click(),
  ]);
  const saved = await download.path();
  assert(Buffer.compare(readFileSync(saved), bytes) === 0, "the downloaded bytes are the uploaded ones");

  await page.getByRole("button", { name: `Delete ${name}` }).click();
  await page.getByRole("button", { name: `Yes, delete ${name}` }).click();
  await row.waitFor({ state: "detached" });
  // Not "networkidle": a signed-in page keeps its event stream open.
  const listed = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/uploads" && r.request().method() === "GET");
  await page.reload();
  await heading(page, "Uploads");
  await listed;
  await page.getByText("Loading…").waitFor({ state: "detached" });
  equal(await page.getByRole("row", { name: new RegExp(name) }).count(), 0, "the deleted upload stays gone after a reload");
});

test("a large file goes through presign → PUT to the store → complete", async ({ page, base }) => {
  requireComponent("uploads");
  // Where does a presigned upload go? Ask the API directly (body-mode login).
  const session = await page.request.post(`${base}/api/auth/login`, { data: { email: user.email, password: user.password } });
  equal(session.status(), 200, "API login");
  const { access_token: token } = await session.json();
  const auth = { Authorization: `Bearer ${token}` };
  const presign = await page.request.post(`${base}/api/uploads/presign`, {
    headers: auth,
    data: { filename: "probe.bin", content_type: "application/octet-stream", size: 1 },
  });
  equal(presign.status(), 200, "presign");
  const { upload, upload_url: uploadUrl } = await presign.json();
  await page.request.delete(`${base}/api/uploads/${upload.id}`, { headers: auth });
  const csp = (await page.request.get(`${base}/`)).headers()["content-security-policy"] ?? "";
  const store = new URL(uploadUrl, base).origin;
  // The gateway serves the store on the app's own origin (/_storage), so
  // the page may PUT there under the CSP.
  assert(
    store === new URL(base).origin || csp.includes(store),
    `the presigned URL is on ${store}, another origin, which "${csp}" forbids the page to reach`,
  );
  await page.goto(`${base}/uploads`);
  await heading(page, "Uploads");
  const bytes = makeFile(9 * 1024 * 1024);
  const name = `e2e-large-${unique}.bin`;
  await page.locator("input[type=file]").setInputFiles({ name, mimeType: "application/octet-stream", buffer: bytes });
  const bar = page.getByRole("progressbar", { name: `${name}: Uploaded` });
  await bar.waitFor({ timeout: 60_000 });
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 20_000 }),
    page.getByRole("button", { name: `Download ${name}` }).click(),
  ]);
  assert(Buffer.compare(readFileSync(await download.path()), bytes) === 0, "the downloaded bytes are the uploaded ones");
  await page.getByRole("button", { name: `Delete ${name}` }).click();
  await page.getByRole("button", { name: `Yes, delete ${name}` }).click();
  await page.getByRole("row", { name: new RegExp(name) }).waitFor({ state: "detached" });
});

test("live updates: an upload and a delete in one tab show in another; a logout there sends it to login", async ({ page, base, context }) => {
  requireComponent("events");
  requireComponent("uploads");
  // A second tab of the same browser (same cookies), as the person would open.
  const other = await context.newPage();
  const errors = [];
  other.on("pageerror", (e) => errors.push(String(e)));
  try {
    const streaming = other.waitForResponse((r) => new URL(r.url()).pathname === "/api/events" && r.status() === 200, { timeout: 20_000 });
    await other.goto(`${base}/uploads`);
    await heading(other, "Uploads");
    await streaming;
    await page.goto(`${base}/uploads`);
    await heading(page, "Uploads");

    const name = `e2e-live-${unique}.txt`;
    await page.locator("input[type=file]").setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from("seen elsewhere\n") });
    const there = other.getByRole("row", { name: new RegExp(name) });
    await there.waitFor({ timeout: 20_000 });
    assert((await there.textContent()).includes("ready"), "the other tab lists the new upload as ready, without a reload");
    await shot(other, "uploads-live");

    await page.getByRole("button", { name: `Delete ${name}` }).click();
    await page.getByRole("button", { name: `Yes, delete ${name}` }).click();
    await there.waitFor({ state: "detached", timeout: 20_000 });

    await page.getByRole("button", { name: "Log out" }).click();
    await heading(page, "Log in");
    // The other tab's stream ends with the session; its next one is refused.
    await heading(other, "Log in");
    equal(errors.length, 0, `no errors in the other tab (${errors.join(" | ")})`);
  } finally {
    await other.close();
  }
  await login(page, base, user.email, user.password);
  await heading(page, "Uploads");
});

test("log out: the session ends and does not come back on reload", async ({ page, base, context }) => {
  await page.goto(`${base}/uploads`);
  await heading(page, "Uploads");
  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");
  const names = (await context.cookies(base)).map((c) => c.name);
  assert(!names.includes("__Host-spinstack-refresh"), `cookies cleared (left: ${names.join(", ")})`);
  await page.goto(`${base}/uploads`);
  await heading(page, "Log in");
  equal(new URL(page.url()).search, "?next=%2Fuploads", "protected pages send to the login page");
});

test("forgot password: the mailed link sets a new password; the verification link confirms the address", async ({ page, base, mailDir }) => {
  if (!mailDir) return "skipped (E2E_BASE_URL: no mail catcher to read)";
  const person = { email: `forgetful-${unique}@e2e.example.com`, password: "first-password-1", next: "second-password-2" };
  const registered = await page.request.post(`${base}/api/auth/register`, {
    data: { email: person.email, password: person.password, name: "Forgetful" },
  });
  equal(registered.status(), 201, "register");
  await page.context().clearCookies();
  await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await heading(page, "Reset your password");
  await page.getByLabel("Email").fill(person.email);
  await page.getByRole("button", { name: "Send me a link" }).click();
  await page.getByText("If an account has this address").waitFor();

  const reset = await mailTo(mailDir, person.email, "Reset your password");
  await page.goto(`${base}${linkIn(reset, "reset-password")}`);
  await heading(page, "Choose a new password");
  equal(new URL(page.url()).hash, "", "the token leaves the address bar");
  await page.getByLabel("New password", { exact: true }).fill(person.next);
  await shot(page, "reset-password");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await heading(page, "Log in");
  await page.getByText("Your password is changed").waitFor();

  await login(page, base, person.email, person.password);
  await page.getByRole("alert").waitFor();
  await login(page, base, person.email, person.next);
  await heading(page, "Uploads");
  // A used reset link proves the address as well: no banner.
  equal(await page.getByText("Please confirm your email address").count(), 0, "no banner after a reset");

  // The registration's verification link still works (a confirmed address stays confirmed).
  const verify = await mailTo(mailDir, person.email, "Confirm your email address");
  await page.goto(`${base}${linkIn(verify, "verify-email")}`);
  await page.getByText("Your email address is confirmed.").waitFor();
  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");
});

test("email change: a link to the new address moves the account; the old address is told", async ({ page, base, mailDir }) => {
  requireComponent("users");
  if (!mailDir) return "skipped (E2E_BASE_URL: no mail catcher to read)";
  const person = {
    email: `moving-${unique}@e2e.example.com`,
    next: `moved-${unique}@e2e.example.com`,
    password: "moving-password-1",
  };
  const registered = await page.request.post(`${base}/api/auth/register`, {
    data: { email: person.email, password: person.password, name: "Mo Ving" },
  });
  equal(registered.status(), 201, "register");
  await login(page, base, person.email, person.password);
  await heading(page, "Uploads");
  await page.goto(`${base}/profile`);
  await heading(page, "Profile");
  const form = page.locator("form", { has: page.getByRole("heading", { name: "Email address" }) });
  await form.getByLabel("New email address").fill(person.next);
  await form.getByLabel("Current password").fill(person.password);
  await form.getByRole("button", { name: "Send a confirmation link" }).click();
  await page.getByText(`A link is on its way to ${person.next}`).waitFor();
  await shot(page, "email-change-sent");
  // Nothing moved yet: the profile still shows the old address.
  await page.getByText(person.email, { exact: true }).waitFor();

  const link = await mailTo(mailDir, person.next, "Confirm your new email address");
  await page.goto(`${base}${linkIn(link, "confirm-email")}`);
  await page.getByText("Your account has its new address now").waitFor();
  equal(new URL(page.url()).hash, "", "the token leaves the address bar");
  await shot(page, "email-change-confirmed");
  const notice = await mailTo(mailDir, person.email, "Your email address was changed");
  assert(notice.TextBody.includes(person.next), "the old address is told the new one");

  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");
  await login(page, base, person.email, person.password);
  await page.getByRole("alert").waitFor();
  await login(page, base, person.next, person.password);
  await heading(page, "Uploads");
  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");
});

test("two-factor sign-in: turn it on from the QR code, log in with a code and with a recovery code, turn it off", async ({ page, context, base }) => {
  requireComponent("auth");
  // The test's TOTP against RFC 6238's SHA-1 vector (key "12345678901234567890", T = 59 s).
  equal(totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59), "287082", "the test's TOTP matches RFC 6238");
  const person = { email: `two-factor-${unique}@e2e.example.com`, password: "two-factor-password-1" };
  const registered = await page.request.post(`${base}/api/auth/register`, {
    data: { email: person.email, password: person.password, name: "Tess Two-Factor" },
  });
  equal(registered.status(), 201, "register");
  await login(page, base, person.email, person.password);
  await heading(page, "Uploads");
  const violations = [];
  const onConsole = (m) => m.type() === "error" && /Content Security Policy/i.test(m.text()) && violations.push(m.text());
  page.on("console", onConsole);

  // Turn it on: password, the QR code and the key, the first code.
  await page.goto(`${base}/profile`);
  await heading(page, "Profile");
  const card = page.getByRole("region", { name: "Two-factor sign-in" });
  await card.getByText("Off.").waitFor();
  await card.getByRole("button", { name: "Turn on" }).click();
  await card.getByLabel("Password", { exact: true }).fill(person.password);
  await card.getByRole("button", { name: "Continue" }).click();
  const qr = card.getByRole("img", { name: "QR code with the key for your authenticator app" });
  await qr.waitFor();
  // Drawn by the lazily loaded encoder, inline (the CSP allows no data: image).
  const modules = (await qr.locator("path").getAttribute("d")).match(/M/g)?.length ?? 0;
  assert(modules > 200, `the QR code has its modules (${modules})`);
  const secret = (await card.locator(".totp-secret").textContent()).replace(/\s/g, "");
  assert(/^[A-Z2-7]{32}$/.test(secret), `a 160-bit base32 key is shown as text (${secret})`);
  // What a phone reads from the drawn code: Debian's zbar decodes it.
  const scanned = scanQr(await qr.screenshot());
  assert(scanned.startsWith("otpauth://totp/Spinstack:"), `the QR code is an otpauth URI (${scanned})`);
  equal(new URL(scanned).searchParams.get("secret"), secret, "the QR code carries the key shown as text");
  page.off("console", onConsole);
  equal(violations.length, 0, `CSP violations while drawing the QR code: ${violations.join(" | ")}`);
  await shot(page, "two-factor-qr");
  await card.getByLabel("Code from the app").fill(totp(secret));
  await card.getByRole("button", { name: "Turn on" }).click();
  await card.getByRole("heading", { name: "Save these recovery codes now" }).waitFor();
  const codes = (await card.getByRole("list", { name: "Recovery codes" }).getByRole("listitem").allTextContents()).map((c) => c.trim());
  equal(codes.length, 10, "ten recovery codes");
  assert(codes.every((c) => /^[0-9a-z]{5}-[0-9a-z]{5}$/.test(c)), `recovery codes look like xxxxx-xxxxx (${codes.join(" ")})`);
  await shot(page, "two-factor-recovery-codes");
  await card.getByRole("button", { name: "Done" }).click();
  await card.getByText("Two-factor sign-in is on.").waitFor();
  equal(await card.getByRole("listitem").count(), 0, "the recovery codes are gone once done");
  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");

  // The password alone no longer signs in: the code step follows.
  await login(page, base, person.email, person.password);
  const code = page.getByLabel("Code", { exact: true });
  await code.waitFor();
  await page.getByText("Enter the 6-digit code from your authenticator app (or a recovery code).").waitFor();
  equal(await context.cookies(base).then((all) => all.some((c) => c.name === "__Host-spinstack-refresh")), false, "no session before the code");
  await shot(page, "login-code");
  await code.fill(nextTotp(secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await heading(page, "Uploads");
  // Cookie mode, as the password step asked: the session survives a reload.
  await page.reload();
  await heading(page, "Uploads");
  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");

  // A recovery code instead of a code: a wrong one is refused and can be retyped.
  await login(page, base, person.email, person.password);
  await code.waitFor();
  await code.fill("zzzzz-zzzzz");
  await page.getByRole("button", { name: "Verify" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  equal((await alert.textContent()).trim(), "The code is wrong or was already used.", "a wrong recovery code's error");
  await shot(page, "login-code-error");
  await code.fill(codes[0]);
  await page.getByRole("button", { name: "Verify" }).click();
  await heading(page, "Uploads");

  // Turn it off: the spent recovery code does not do, another one does.
  await page.goto(`${base}/profile`);
  await heading(page, "Profile");
  await card.getByText("On.").waitFor();
  await card.getByRole("button", { name: "Turn off" }).click();
  await card.getByLabel("Password", { exact: true }).fill(person.password);
  await card.getByLabel("Code", { exact: true }).fill(codes[0]);
  await card.getByRole("button", { name: "Turn off two-factor sign-in" }).click();
  await card.getByText("is wrong or was already used").waitFor();
  await card.getByLabel("Password", { exact: true }).fill(person.password);
  await card.getByLabel("Code", { exact: true }).fill(codes[1]);
  await card.getByRole("button", { name: "Turn off two-factor sign-in" }).click();
  await card.getByText("Two-factor sign-in is off.").waitFor();
  await login(page, base, person.email, person.password);
  await heading(page, "Uploads");
});

test("a wrong password shows the error", async ({ page, base }) => {
  await login(page, base, user.email, "definitely-wrong");
  const alert = page.getByRole("alert");
  await alert.waitFor();
  equal((await alert.textContent()).trim(), "Wrong email or password.", "the API's detail is shown");
  equal(await page.getByLabel("Password", { exact: true }).inputValue(), "", "the password field is cleared");
  await shot(page, "login-error");
});

test("admin: users table with pages, change a role, delete a user", async ({ page, base }) => {
  requireComponent("users");
  // Enough accounts for two pages of 20.
  for (let i = 0; i < 21; i += 1) {
    const response = await page.request.post(`${base}/api/auth/register`, {
      data: { email: `filler-${i}-${unique}@e2e.example.com`, password: "filler-password", name: `Filler ${i}` },
    });
    equal(response.status(), 201, `registering filler ${i}`);
  }
  await login(page, base, ADMIN_EMAIL, ADMIN_PASSWORD);
  await heading(page, "Uploads");
  await page.getByRole("link", { name: "Admin" }).click();
  await heading(page, "Users");
  const emails = () => page.locator("tbody tr td:nth-child(2)").allTextContents();
  await page.locator("tbody tr").nth(19).waitFor();
  await shot(page, "admin");
  const first = await emails();
  equal(first.length, 20, "a full first page");
  await page.getByRole("button", { name: "Next page" }).click();
  await page.getByText("Page 2").waitFor();
  await page.waitForFunction((firstEmail) => !document.querySelector("tbody")?.textContent?.includes(firstEmail), first[0]);
  const second = await emails();
  assert(second.length >= 3, `the second page has the rest (${second.length})`);
  assert(!second.some((e) => first.includes(e)), "pages do not overlap");
  const everyone = new Set([...first, ...second]);
  for (const email of [user.email, ADMIN_EMAIL, ...Array.from({ length: 21 }, (_, i) => `filler-${i}-${unique}@e2e.example.com`)]) {
    assert(everyone.has(email), `${email} is on one of the pages`);
  }
  await page.getByRole("button", { name: "Previous page" }).click();
  await page.getByText("Page 1").waitFor();
  await page.getByRole("cell", { name: first[0], exact: true }).waitFor();
  equal(JSON.stringify(await emails()), JSON.stringify(first), "back to the same first page");

  const target = first.find((e) => e.startsWith("filler-"));
  assert(target, "a filler account on the first page");
  await page.getByLabel(`Role of ${target}`).selectOption("admin");
  await page.getByRole("button", { name: `Save role of ${target}` }).click();
  await page.getByRole("button", { name: `Save role of ${target}` }).waitFor({ state: "detached" });
  await page.reload();
  await heading(page, "Users");
  await page.getByRole("cell", { name: target, exact: true }).waitFor();
  equal(await page.getByLabel(`Role of ${target}`).inputValue(), "admin", "the role change is stored");

  await page.getByRole("button", { name: `Delete ${target}` }).click();
  await page.getByRole("button", { name: `Yes, delete ${target}` }).click();
  await page.getByRole("cell", { name: target, exact: true }).waitFor({ state: "detached" });
  await shot(page, "admin-after-delete");
  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");
});

test("admin: sees who verified their address and who has two-factor sign-in, and resets it", async ({ page, base }) => {
  requireComponent("users");
  requireComponent("auth");
  // Someone who turned it on through the API (body-mode login) and then lost the app and the codes.
  const person = { email: `lost-phone-${unique}@e2e.example.com`, password: "lost-phone-password-1" };
  equal((await page.request.post(`${base}/api/auth/register`, { data: { ...person, name: "Lost Phone" } })).status(), 201, "register");
  const tokens = await page.request.post(`${base}/api/auth/login`, { data: person });
  equal(tokens.status(), 200, "API login");
  const auth = { Authorization: `Bearer ${(await tokens.json()).access_token}` };
  const enrolled = await page.request.post(`${base}/api/auth/totp/enrol`, { headers: auth, data: { password: person.password } });
  equal(enrolled.status(), 201, "enrol");
  const { secret } = await enrolled.json();
  const confirmed = await page.request.post(`${base}/api/auth/totp/confirm`, { headers: auth, data: { code: totp(secret) } });
  equal(confirmed.status(), 200, "confirm");
  equal((await page.request.post(`${base}/api/auth/login`, { data: person })).status(), 202, "login now asks for a code");

  await login(page, base, ADMIN_EMAIL, ADMIN_PASSWORD);
  await heading(page, "Uploads");
  await page.getByRole("link", { name: "Admin" }).click();
  await heading(page, "Users");
  const row = page.getByRole("row").filter({ has: page.getByRole("cell", { name: person.email, exact: true }) });
  await row.waitFor();
  equal((await row.locator('td[data-label="Address"]').textContent()).trim(), "not verified", "the new address is not verified");
  const adminRow = page.getByRole("row").filter({ has: page.getByRole("cell", { name: ADMIN_EMAIL, exact: true }) });
  if (await adminRow.count()) {
    equal((await adminRow.locator('td[data-label="Address"]').textContent()).trim(), "verified", "the first admin is verified");
  }
  const cell = row.locator('td[data-label="2FA"]');
  assert((await cell.textContent()).includes("on"), "two-factor sign-in shows as on");
  await row.getByRole("button", { name: `Reset two-factor sign-in of ${person.email}` }).click();
  await row.getByRole("group", { name: `Reset two-factor sign-in of ${person.email}?` }).waitFor();
  await shot(page, "admin-reset-two-factor");
  await row.getByRole("button", { name: `Yes, reset two-factor sign-in of ${person.email}` }).click();
  await cell.getByText("off", { exact: true }).waitFor();
  equal((await cell.textContent()).trim(), "off", "the row shows it off, without a reset button");
  equal((await page.request.post(`${base}/api/auth/login`, { data: person })).status(), 200, "the password alone signs in again");
  await page.reload();
  await heading(page, "Users");
  await row.waitFor();
  equal((await cell.textContent()).trim(), "off", "still off after a reload");
  await page.getByRole("button", { name: "Log out" }).click();
  await heading(page, "Log in");
});

test("a non-admin does not see the admin page", async ({ page, base }) => {
  await login(page, base, user.email, user.password);
  await heading(page, "Uploads");
  // Registered without following its verification link: reminded.
  await page.getByText("Please confirm your email address").waitFor();
  equal(await page.getByRole("link", { name: "Admin" }).count(), 0, "no Admin link");
  await page.goto(`${base}/admin`);
  await page.getByRole("heading", { level: 1 }).waitFor();
  const title = await page.getByRole("heading", { level: 1 }).textContent();
  assert(title !== "Users", "the users table is not shown");
});

test("phone-sized screen: the pages fit without horizontal scrolling", async ({ browser, base }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, ignoreHTTPSErrors: TLS });
  const page = await context.newPage();
  for (const path of ["/login", "/register"]) {
    await page.goto(`${base}${path}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 0, `${path} scrolls sideways by ${overflow}px`);
    await shot(page, `phone${path.replace("/", "-")}`);
  }
  await context.close();
});

// ---------------------------------------------------------------- main

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const host = process.env.E2E_BASE_URL ? { baseUrl: process.env.E2E_BASE_URL.replace(/\/$/, ""), stop: async () => {}, log: [] } : await startHost();
  console.log(`e2e: app at ${host.baseUrl}; browser ${CHROMIUM}`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root (CI) Chromium's sandbox cannot start.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  // One browser context for the person's journey: cookies carry across steps.
  // Over TLS the certificate is the local development CA's, which this
  // throwaway browser profile does not trust: certificate errors are
  // ignored (the browser's and Playwright's API requests alike), against
  // this one local host. Trust itself is tested in infra/host/tests/tls.rs.
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, acceptDownloads: true, ignoreHTTPSErrors: TLS });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const only = process.env.E2E_ONLY;
  try {
    for (const { name, fn } of tests) {
      if (only && !name.includes(only)) continue;
      const started = Date.now();
      try {
        const skipped = await fn({ browser, context, page, base: host.baseUrl, mailDir: host.mailDir });
        if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.splice(0).join(" | ")}`);
        if (typeof skipped === "string") {
          results.push({ name, outcome: "skipped" });
          console.log(`skip    ${name}: ${skipped}`);
          continue;
        }
        results.push({ name, outcome: "passed" });
        console.log(`ok      ${name} (${Date.now() - started} ms)`);
      } catch (error) {
        results.push({ name, outcome: "failed", why: error.message });
        console.log(`FAILED  ${name}\n        ${String(error.stack ?? error).split("\n").slice(0, 6).join("\n        ")}`);
        await shot(page, `failure-${results.length}`).catch(() => undefined);
      }
    }
  } finally {
    await browser.close();
    await host.stop();
  }
  const count = (o) => results.filter((r) => r.outcome === o).length;
  const failed = count("failed");
  if (failed && host.log.length) {
    const lines = host.log.join("").split("\n").filter((l) => !l.includes('"request_id"') || /"status":5\d\d/.test(l));
    console.log(`--- spinstack log (tail, without ordinary access lines) ---\n${lines.slice(-40).join("\n")}`);
  }
  console.log(`screenshots: ${SHOTS}`);
  console.log(`${count("passed")} passed, ${failed} failed, ${count("skipped")} skipped`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
