/**
 * The browser of the e2e tests: Debian's Chromium (/usr/bin/chromium, installed by
 * scripts/ensure-tools.mjs before `npm test` runs the e2e files) driven by playwright-core,
 * with the launch flags this machine needs and a fresh profile. Usage:
 *
 *   let browser: Browser;
 *   beforeAll(async () => { browser = await launchBrowser(); });
 *   afterAll(() => browser?.close());
 *
 * Each test opens its own context (`browser.newContext()`): a context is a fresh cookie jar,
 * so one context is one user's browser and its SSO session.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
// Plain JavaScript module, shared with scripts/screenshots.mjs and scripts/ensure-tools.mjs.
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from "../../scripts/lib/browser.mjs";

export { CHROMIUM_ARGS, CHROMIUM_PATH };

/** Starts headless Chromium; throws a message saying what to install when it is missing. */
export function launchBrowser(): Promise<Browser> {
  return launchChromium() as Promise<Browser>;
}

/* ---------------------------------------------------------------------------------------------
 * Driving the hosted login (the HTML contract of issue 8: every page has an <h1>; the login
 * form's fields are labelled "Username" and "Password" with a "Sign in" button; the TOTP page
 * has "One-time code" and "Verify"; the consent page has "Allow" and "Deny" buttons).
 * ------------------------------------------------------------------------------------------- */

export type HostedPage = "login" | "totp" | "consent" | "other";

/** Which hosted-login page the browser shows now (after its navigation has loaded). */
export async function hostedPage(page: Page): Promise<HostedPage> {
  await page.waitForLoadState("load");
  if ((await page.getByLabel("One-time code", { exact: true }).count()) > 0) return "totp";
  if ((await page.getByLabel("Username", { exact: true }).count()) > 0) return "login";
  if ((await page.getByRole("button", { name: "Allow", exact: true }).count()) > 0) return "consent";
  return "other";
}

export interface SignInActions {
  /** Credentials typed when the login form appears (the test fails if it appears without them). */
  login?: { username: string; password: string };
  /** Gives the code to type when the TOTP page appears (the test fails if it appears without it). */
  otp?: () => string;
  /** What to answer on the consent page (the test fails if it appears without one). */
  consent?: "allow" | "deny";
  /** Called on each hosted page before acting on it (assertions, screenshots). */
  onPage?: (kind: HostedPage, page: Page) => Promise<void>;
}

export interface SignInResult {
  /** The URL the provider sent the browser back to (the redirect URI with code or error). */
  callback: URL;
  /** The hosted pages shown on the way, in order. */
  seen: HostedPage[];
}

/**
 * Opens an authorization URL in `page` and plays the user through the hosted pages until the
 * browser arrives at `redirectPrefix` (the relying party's callback). An unexpected page (an
 * error page, a login form when none was expected) fails with its heading and text.
 */
export async function signInThrough(page: Page, authorizationUrl: URL | string, redirectPrefix: string, actions: SignInActions = {}): Promise<SignInResult> {
  const seen: HostedPage[] = [];
  await page.goto(String(authorizationUrl));
  for (let step = 0; step < 8; step++) {
    await page.waitForLoadState("load");
    if (page.url().startsWith(redirectPrefix)) return { callback: new URL(page.url()), seen };
    const kind = await hostedPage(page);
    seen.push(kind);
    await actions.onPage?.(kind, page);
    if (kind === "login" && actions.login) {
      await page.getByLabel("Username", { exact: true }).fill(actions.login.username);
      await page.getByLabel("Password", { exact: true }).fill(actions.login.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
    } else if (kind === "totp" && actions.otp) {
      await page.getByLabel("One-time code", { exact: true }).fill(actions.otp());
      await page.getByRole("button", { name: "Verify", exact: true }).click();
    } else if (kind === "consent" && actions.consent) {
      await page.getByRole("button", { name: actions.consent === "allow" ? "Allow" : "Deny", exact: true }).click();
    } else {
      const text = (await page.locator("body").innerText().catch(() => "")).slice(0, 600);
      throw new Error(`unexpected ${kind} page at ${page.url()} (seen so far: ${seen.join(", ") || "none"}):\n${text}`);
    }
  }
  throw new Error(`no redirect to ${redirectPrefix} after 8 pages (seen: ${seen.join(", ")})`);
}

/**
 * A relying party's loopback redirect endpoint, as a native app runs one (RFC 8252 §7.3): an
 * HTTP server on 127.0.0.1 at a port the OS picks, answering every request with a small page.
 * `redirectUri` is `http://127.0.0.1:<port>/callback`.
 */
export interface LoopbackCallback {
  redirectUri: string;
  port: number;
  close(): Promise<void>;
}

export async function startLoopbackCallback(): Promise<LoopbackCallback> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end("<!doctype html><title>Callback</title><h1>Back at the application</h1>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    redirectUri: `http://127.0.0.1:${port}/callback`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
