#!/usr/bin/env node
// `npm run screenshots`: pictures of the hosted login for the README (docs/screenshots/*.png).
// Starts a throwaway Worker seeded with the demo (scripts/lib/worker.mjs, as the e2e tests do),
// drives Debian's Chromium through each page as a user would, and saves one PNG per page.
// Not part of `npm test`: run it when a page's look changes, and commit the pictures.
//
// Pages: login, login with a form error, TOTP (the demo's user with TOTP), consent, an error page
// (unknown client), sign-out confirmation (when the provider asks) and signed out.
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ensureChromium, launchChromium } from "./lib/browser.mjs";
import { totpCode } from "./lib/totp.mjs";
import { ROOT, startLocalWorker } from "./lib/worker.mjs";

const OUT = join(ROOT, "docs", "screenshots");
const VIEWPORT = { width: 960, height: 720 };

/** A loopback redirect endpoint for the demo public client (any port, RFC 8252 §7.3). */
async function loopbackCallback() {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Callback</title><h1>Back at the application</h1>");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { redirectUri: `http://127.0.0.1:${server.address().port}/callback`, close: () => new Promise((r) => server.close(r)) };
}

/** An authorization URL of the demo public client: PKCE S256 (RFC 7636 §4.2), state, nonce. */
function authorizationUrl(metadata, clientId, redirectUri, scope) {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(metadata.authorization_endpoint);
  const params = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state: randomBytes(16).toString("base64url"),
    nonce: randomBytes(16).toString("base64url"),
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url;
}

async function main() {
  ensureChromium();
  await mkdir(OUT, { recursive: true });
  console.log("• starting a throwaway Worker with the demo seed");
  const w = await startLocalWorker();
  const rp = await loopbackCallback();
  const browser = await launchChromium();
  const saved = [];
  try {
    const metadata = await (await fetch(`${w.demo.oidc.issuer}/.well-known/openid-configuration`)).json();
    const nativeApp = w.demo.oidc.clients.find((c) => !c.client_secret);
    const page = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
    const shot = async (name) => {
      await page.waitForLoadState("load");
      const path = join(OUT, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      saved.push(path);
      console.log(`  ${name}.png  ${page.url().slice(0, 100)}`);
    };

    // Login, then the same form after a wrong password (its role="alert" message).
    await page.goto(authorizationUrl(metadata, nativeApp.client_id, rp.redirectUri, "openid profile email").href);
    await shot("login");
    await page.getByLabel("Username", { exact: true }).fill(w.demo.user.username);
    await page.getByLabel("Password", { exact: true }).fill("not-the-password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").first().waitFor({ timeout: 10_000 });
    await shot("login-error");

    // The right password: `email` is consent_required in the demo IdP, so the consent page.
    await page.getByLabel("Username", { exact: true }).fill(w.demo.user.username);
    await page.getByLabel("Password", { exact: true }).fill(w.demo.user.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("button", { name: "Allow", exact: true }).waitFor({ timeout: 10_000 });
    await shot("consent");
    await page.getByRole("button", { name: "Allow", exact: true }).click();
    await page.waitForURL((u) => u.href.startsWith(rp.redirectUri), { timeout: 10_000 });

    // The TOTP page, in a browser of its own: the demo user with TOTP after his password.
    const bobPage = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
    await bobPage.goto(authorizationUrl(metadata, nativeApp.client_id, rp.redirectUri, "openid").href);
    await bobPage.getByLabel("Username", { exact: true }).fill(w.demo.totpUser.username);
    await bobPage.getByLabel("Password", { exact: true }).fill(w.demo.totpUser.password);
    await bobPage.getByRole("button", { name: "Sign in", exact: true }).click();
    await bobPage.getByLabel("One-time code", { exact: true }).waitFor({ timeout: 10_000 });
    await bobPage.screenshot({ path: join(OUT, "totp.png"), fullPage: true });
    saved.push(join(OUT, "totp.png"));
    console.log("  totp.png");
    await bobPage.getByLabel("One-time code", { exact: true }).fill(totpCode(w.demo.totpUser.totpSecret));
    await bobPage.getByRole("button", { name: "Verify", exact: true }).click();
    await bobPage.waitForURL((u) => u.href.startsWith(rp.redirectUri), { timeout: 10_000 });

    // An error page: a client the community does not know (shown, never redirected).
    const unknown = authorizationUrl(metadata, "no-such-client", rp.redirectUri, "openid");
    await page.goto(unknown.href);
    await shot("error");

    // Signed out: end_session without a post_logout_redirect_uri stays at the provider. A
    // provider that asks to confirm first gets its confirmation pictured too.
    await page.goto(metadata.end_session_endpoint);
    const confirm = page.getByRole("button", { name: /^(yes|sign|log)[^]*out/i });
    if ((await confirm.count()) > 0) {
      await shot("sign-out-confirm");
      await confirm.first().click();
    }
    await shot("signed-out");
  } finally {
    await browser.close();
    await rp.close();
    await w.stop();
  }
  console.log(`• saved ${saved.length} screenshots in docs/screenshots/`);
}

main().catch((e) => {
  console.error(`\n! ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
