/**
 * The browser of the e2e tests: Debian's Chromium (/usr/bin/chromium, installed by
 * scripts/ensure-browser.mjs before `npm test` runs the e2e files) driven by playwright-core,
 * with the launch flags this machine needs and a fresh profile. Usage:
 *
 *   let browser: Browser;
 *   beforeAll(async () => { browser = await launchBrowser(); });
 *   afterAll(() => browser?.close());
 *
 * Each test opens its own context (`browser.newContext()`): a context is a fresh cookie jar,
 * so one context is one user's browser and its SSO session.
 */
import type { Browser } from "playwright-core";
// Plain JavaScript module, shared with scripts/screenshots.mjs and scripts/ensure-browser.mjs.
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from "../../scripts/lib/browser.mjs";

export { CHROMIUM_ARGS, CHROMIUM_PATH };

/** Starts headless Chromium; throws a message saying what to install when it is missing. */
export function launchBrowser(): Promise<Browser> {
  return launchChromium() as Promise<Browser>;
}
