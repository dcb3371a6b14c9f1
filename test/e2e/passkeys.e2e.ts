/**
 * Passkeys in the hosted login (issue 11), end to end: the Worker under wrangler, Debian's
 * Chromium with the DevTools protocol's virtual authenticator (WebAuthn domain: a CTAP2
 * platform authenticator with resident keys and user verification, presence simulated), an
 * unmodified relying party (openid-client) redeeming the codes.
 *
 * The WebAuthn RP ID is the tenant's public hostname (core/webauthn/relying-party.ts). The demo
 * tenant is bound to `localhost` and `127.0.0.1`; an IP address cannot be an RP ID (WebAuthn L3
 * §5.1.4.1, a valid domain string), so the browser and the RP use http://localhost:<port>
 * (a potentially trustworthy origin, so WebAuthn works over plain http there).
 *
 * The tests run in order and share one browser context (one user's device):
 *  1. a password sign-in offers "Create a passkey"; the authenticator makes one;
 *  2. sign out; sign in with the passkey and no password: amr fido+mfa in the ID token;
 *  3. a second credential on the device (a second account's), signed in by the button;
 *  4. a cloned authenticator (the credential re-added with a lower signCount) is refused.
 */
import * as oidc from "openid-client";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, startLoopbackCallback, type LoopbackCallback } from "./browser";
import { startWorker, type DemoOidcClient, type StartedWorker } from "./harness";

let w: StartedWorker;
let browser: Browser;
let rp: LoopbackCallback;
let origin: string;
let issuer: string;
let client: DemoOidcClient;
let config: oidc.Configuration;
let ctx: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;

const allowHttp = { execute: [oidc.allowInsecureRequests] };
const AUTHENTICATOR = { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } as const;

beforeAll(async () => {
  [w, browser, rp] = await Promise.all([startWorker({ settings: { hostedLogin: { offerPasskeys: true } } }), launchBrowser(), startLoopbackCallback()]);
  origin = w.url.replace("//127.0.0.1:", "//localhost:");
  issuer = `${origin}/oidc/${w.demo.communityId}`;
  client = w.demo.oidc.clients[0]!;
  config = await oidc.discovery(new URL(issuer), client.client_id, { client_secret: client.client_secret! }, oidc.ClientSecretBasic(client.client_secret!), allowHttp);
  ctx = await browser.newContext();
  page = await ctx.newPage();
  cdp = await ctx.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  authenticatorId = (await cdp.send("WebAuthn.addVirtualAuthenticator", { options: AUTHENTICATOR })).authenticatorId;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await w?.stop();
});

/** Starts an authorization request in the page; answers the flow to finish it with. */
async function authorize() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: rp.redirectUri, scope: "openid", code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", state, nonce });
  await page.goto(url.href);
  await page.waitForLoadState("load");
  return {
    /** Waits for the callback and redeems its code with openid-client's checks. */
    async finish() {
      await page.waitForURL((u) => u.href.startsWith(rp.redirectUri), { timeout: 20_000 });
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      return tokens.claims()!;
    },
  };
}

async function signOut() {
  await page.goto(`${issuer}/end_session`);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.waitForLoadState("load");
}

async function heading(): Promise<string> {
  return (await page.locator("h1").first().innerText()).trim();
}

type VirtualCredential = { credentialId: string; isResidentCredential: boolean; rpId?: string; privateKey: string; userHandle?: string; signCount: number };
const credentials = async (id = authenticatorId) => (await cdp.send("WebAuthn.getCredentials", { authenticatorId: id })).credentials as VirtualCredential[];

/**
 * The virtual authenticator answers by itself when presence is simulated, so a conditional
 * request (the one the login page makes on load) completes as soon as the page asks: that is
 * the conditional-UI sign-in. Turned off, requests wait, so a password can be typed.
 */
const presence = (enabled: boolean) => cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled });

describe("passkeys in the hosted login (Chromium's virtual authenticator)", () => {
  it("the login page offers passkeys in the username field (conditional UI) and by a button", async () => {
    await authorize();
    await expect.poll(() => page.getByRole("button", { name: "Sign in with a passkey", exact: true }).isVisible()).toBe(true);
    expect(await page.locator("#username").getAttribute("autocomplete")).toBe("username webauthn");
    expect(await page.evaluate(() => PublicKeyCredential.isConditionalMediationAvailable())).toBe(true);
  });

  it("after a password sign-in the user creates a passkey; the ID token says pwd", async () => {
    const flow = await authorize();
    await page.getByLabel("Username", { exact: true }).fill(w.demo.user.username);
    await page.getByLabel("Password", { exact: true }).fill(w.demo.user.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForLoadState("load");
    expect(await heading()).toBe("Create a passkey?");
    await page.getByRole("button", { name: "Create a passkey", exact: true }).click();
    const claims = await flow.finish();
    expect(claims.amr).toEqual(["pwd"]);
    const creds = await credentials();
    expect(creds).toHaveLength(1);
    expect(creds[0]!.isResidentCredential).toBe(true);
    expect(creds[0]!.rpId).toBe("localhost");
  });

  it("signed out, the user signs in with the passkey and no password (conditional UI): amr fido+mfa", async () => {
    await signOut();
    const flow = await authorize();
    const claims = await flow.finish();
    expect(claims.amr).toEqual(["fido", "mfa"]);
    expect(claims.sub).toBe(w.demo.user.uid);
  });

  it("a second credential on the device (another user's) is created and, by the button, signs in its own user", async () => {
    // The offer is made to users without a credential (a second credential of the same user
    // needs a stronger proof than the password, as on the Authn API), so the second credential
    // here is a second account's on the same device.
    await signOut();
    await presence(false);
    const flow = await authorize();
    await page.getByLabel("Username", { exact: true }).fill(w.demo.admin.username);
    await page.getByLabel("Password", { exact: true }).fill(w.demo.admin.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForLoadState("load");
    expect(await heading()).toBe("Create a passkey?");
    await presence(true);
    await page.getByRole("button", { name: "Create a passkey", exact: true }).click();
    expect((await flow.finish()).amr).toEqual(["pwd"]);
    const creds = await credentials();
    expect(creds).toHaveLength(2);
    expect(new Set(creds.map((c) => c.userHandle)).size).toBe(2);

    // The button ("Sign in with a passkey"): the modal request, the conditional one aborted
    // first (else it would answer as soon as presence is simulated). Chromium's virtual
    // authenticator answers a waiting conditional request when presence is turned on, but not
    // a modal request that reached it before: so presence must go on after the click has
    // aborted the conditional request and before the modal request is made. The button's
    // options request is held until then (seen under load: the modal request got to the
    // authenticator first and never completed).
    await signOut();
    await presence(false);
    const again = await authorize();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const optionsUrl = /\/login\/passkey\/options$/;
    await page.route(optionsUrl, async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole("button", { name: "Sign in with a passkey", exact: true }).click();
    await presence(true);
    release();
    const claims = await again.finish();
    await page.unroute(optionsUrl);
    expect(claims.amr).toEqual(["fido", "mfa"]);
    expect([w.demo.user.uid, w.demo.admin.uid]).toContain(claims.sub);
  });

  it("a cloned authenticator (the credential with a lower signature counter) is refused", async () => {
    await signOut();
    const [original] = (await credentials()).filter((c) => c.userHandle === Buffer.from(w.demo.user.uid).toString("base64"));
    expect(original).toBeDefined();
    expect(original!.signCount).toBeGreaterThan(0);
    // The clone: another authenticator holding the same key, its counter behind the original's.
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    authenticatorId = (await cdp.send("WebAuthn.addVirtualAuthenticator", { options: AUTHENTICATOR })).authenticatorId;
    await cdp.send("WebAuthn.addCredential", { authenticatorId, credential: { ...original!, signCount: 0 } });
    // The login page's conditional request meets the clone at once: refused, the login page
    // again, which does not start another conditional request (it would loop here).
    await authorize();
    await expect.poll(() => page.locator("#form-error").innerText().catch(() => ""), { timeout: 15_000 }).toContain("That passkey could not be used to sign in.");
    expect(page.url().startsWith(rp.redirectUri)).toBe(false);
    expect(await heading()).toBe("Sign in");
    expect(await page.locator("#passkey-form").getAttribute("data-conditional")).toBe("off");
  });
});
