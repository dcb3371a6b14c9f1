/**
 * Interoperability of the OpenID Provider (issue 8): an unmodified relying party, openid-client
 * v6, against the Worker started by wrangler, with the user played by Debian's Chromium through
 * the hosted login. openid-client does every protocol check itself (issuer, `iss` in the
 * authorization response per RFC 9207, state, PKCE, the ID token's signature, `aud`, `nonce`,
 * expiry); the only option used is `allowInsecureRequests`, which its docs give for plain http
 * in development.
 *
 * The clients and the IdP definition are the demo seed's (src/api/dev/seed-oidc.ts): a
 * confidential client (client_secret_basic) and a public one (PKCE, `none`), both redirecting to
 * `http://127.0.0.1/callback` at any port (RFC 8252 §7.3), and scopes `profile` (released
 * without asking) and `email` (consent_required).
 *
 * The tests run in order and share one browser context for Alice (one browser, one SSO session).
 */
import * as oidc from "openid-client";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, signInThrough, startLoopbackCallback, type LoopbackCallback, type SignInActions } from "./browser";
import { startWorker, type DemoOidcClient, type StartedWorker } from "./harness";
import { totpCode } from "../../scripts/lib/totp.mjs";

let w: StartedWorker;
let browser: Browser;
let rp: LoopbackCallback;
let issuer: string;
let confidential: DemoOidcClient;
let publicClient: DemoOidcClient;
/** openid-client configurations of the two demo clients, both from discovery. */
let web: oidc.Configuration;
let native: oidc.Configuration;
let alice: BrowserContext;
let alicePage: Page;

const allowHttp = { execute: [oidc.allowInsecureRequests] };

beforeAll(async () => {
  [w, browser, rp] = await Promise.all([startWorker(), launchBrowser(), startLoopbackCallback()]);
  issuer = w.demo.oidc.issuer;
  [confidential, publicClient] = w.demo.oidc.clients as [DemoOidcClient, DemoOidcClient];
  // Discovery (OIDC Discovery 1.0 §4) of both demo clients; nothing below can run without it.
  web = await oidc.discovery(new URL(issuer), confidential.client_id, { client_secret: confidential.client_secret! }, oidc.ClientSecretBasic(confidential.client_secret!), allowHttp);
  native = await oidc.discovery(new URL(issuer), publicClient.client_id, {}, oidc.None(), allowHttp);
  alice = await browser.newContext();
  alicePage = await alice.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await w?.stop();
});

interface Flow {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
  redirectUri: string;
}

/** A fresh authorization request: PKCE S256, state, nonce, on the given loopback redirect URI. */
async function authorizationRequest(config: oidc.Configuration, scope: string, redirectUri: string, extra: Record<string, string> = {}): Promise<Flow> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce, redirectUri };
}

/** Runs a flow in the browser and redeems the code with openid-client's full checks. */
async function signIn(config: oidc.Configuration, page: Page, scope: string, actions: SignInActions, extra: Record<string, string> = {}) {
  const flow = await authorizationRequest(config, scope, rp.redirectUri, extra);
  const { callback, seen } = await signInThrough(page, flow.url, rp.redirectUri, actions);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
  return { tokens, claims: tokens.claims()!, seen, callback };
}

const aliceLogin = () => ({ username: w.demo.user.username, password: w.demo.user.password });

/** State carried between the ordered tests below. */
const first: { claims?: oidc.IDToken; access?: string; refresh?: string; idToken?: string } = {};

describe("openid-client against the community's provider", () => {
  it("discovers the provider at <origin>/oidc/<communityId>, every endpoint under the issuer", async () => {
    expect(issuer).toBe(`${w.url}/oidc/${w.demo.communityId}`);
    const m = web.serverMetadata();
    expect(m.issuer).toBe(issuer);
    for (const endpoint of [m.authorization_endpoint, m.token_endpoint, m.userinfo_endpoint, m.jwks_uri, m.revocation_endpoint, m.introspection_endpoint, m.end_session_endpoint]) {
      expect(endpoint, "every endpoint sits under the issuer").toMatch(new RegExp(`^${issuer.replace(/[.]/g, "\\.")}/`));
    }
    expect(m.code_challenge_methods_supported).toContain("S256");
    expect(m.authorization_response_iss_parameter_supported).toBe(true);
    const jwks = (await (await fetch(m.jwks_uri!)).json()) as { keys: { kid?: string; kty: string }[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.every((k) => typeof k.kid === "string")).toBe(true);
  });

  it("authorization code + PKCE through the hosted login; openid-client validates the ID token", async () => {
    // No offline_access: the demo clients are registered for the refresh_token grant, which is
    // what the provider issues refresh tokens for (docs/api/oidc.md).
    const { tokens, claims, seen, callback } = await signIn(web, alicePage, "openid profile", { login: aliceLogin() });
    // Kept first, so that the tests after this one still run if a claim below is missing.
    Object.assign(first, { claims, access: tokens.access_token, refresh: tokens.refresh_token, idToken: tokens.id_token });
    expect(seen).toEqual(["login"]);
    // RFC 9207: the authorization response names the issuer (openid-client checked it too).
    expect(callback.searchParams.get("iss")).toBe(issuer);
    expect(claims.iss).toBe(issuer);
    expect(claims.aud === confidential.client_id || (Array.isArray(claims.aud) && claims.aud.includes(confidential.client_id))).toBe(true);
    expect(typeof claims.sub).toBe("string");
    expect(typeof claims.auth_time).toBe("number");
    expect(typeof claims.sid).toBe("string");
    expect(typeof claims.at_hash).toBe("string");
    expect(typeof claims.acr).toBe("string");
    // RFC 8176: a password was used.
    expect(claims.amr).toContain("pwd");
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(typeof tokens.refresh_token).toBe("string");

    // The SSO session's cookie (the common contract): __Host-, HttpOnly, Secure, SameSite=Lax, Path=/.
    const sso = (await alice.cookies()).find((c) => c.name === "__Host-edge-auth-sso");
    expect(sso).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax", path: "/" });
  });

  it("refresh_token grant answers a new access token for the same subject", async () => {
    const refreshed = await oidc.refreshTokenGrant(web, first.refresh!);
    expect(typeof refreshed.access_token).toBe("string");
    const claims = refreshed.claims();
    if (claims) expect(claims.sub).toBe(first.claims!.sub);
    first.access = refreshed.access_token;
    if (refreshed.refresh_token) first.refresh = refreshed.refresh_token;
  });

  it("userinfo answers the subject and the profile scope's claims", async () => {
    const info = await oidc.fetchUserInfo(web, first.access!, first.claims!.sub);
    expect(info.sub).toBe(first.claims!.sub);
    // The demo IdP's profile claims (seed-oidc.ts DEMO_SCOPES) for Alice User.
    expect(info).toMatchObject({ given_name: "Alice", family_name: "User", preferred_username: w.demo.user.username });
    // `email` was not asked for: not released.
    expect(info.email).toBeUndefined();
  });

  it("a second application signs in through the SSO session without a password (public client, PKCE, loopback any port)", async () => {
    const other = await startLoopbackCallback();
    try {
      const flow = await authorizationRequest(native, "openid profile", other.redirectUri);
      expect(other.port).not.toBe(80);
      const { callback, seen } = await signInThrough(alicePage, flow.url, other.redirectUri, {});
      expect(seen, "no page at all: neither a password nor a consent").toEqual([]);
      const tokens = await oidc.authorizationCodeGrant(native, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
      const claims = tokens.claims()!;
      expect(claims.sub).toBe(first.claims!.sub);
      expect(claims.aud === publicClient.client_id || (Array.isArray(claims.aud) && claims.aud.includes(publicClient.client_id))).toBe(true);
      // One SSO session, one authentication: the same sid and auth_time.
      expect(typeof claims.sid).toBe("string");
      expect(claims.sid).toBe(first.claims!.sid);
      expect(claims.auth_time).toBe(first.claims!.auth_time);
    } finally {
      await other.close();
    }
  });

  it("a public client's request without PKCE is refused (RFC 7636 §4.4.1)", async () => {
    const url = oidc.buildAuthorizationUrl(native, { redirect_uri: rp.redirectUri, scope: "openid", state: "s-no-pkce", nonce: "n-no-pkce" });
    await alicePage.goto(url.href);
    const back = new URL(alicePage.url());
    expect(back.href.startsWith(rp.redirectUri)).toBe(true);
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("code")).toBeNull();
    expect(back.searchParams.get("state")).toBe("s-no-pkce");
  });

  it("prompt=login asks for the password again despite the SSO session, with a new auth_time", async () => {
    // auth_time has a resolution of one second.
    await new Promise((r) => setTimeout(r, 1100));
    const { claims, seen } = await signIn(web, alicePage, "openid", { login: aliceLogin() }, { prompt: "login" });
    expect(seen).toEqual(["login"]);
    expect(claims.sub).toBe(first.claims!.sub);
    expect(claims.auth_time!).toBeGreaterThan(first.claims!.auth_time!);
  });

  it("a consent_required scope shows the consent page once; Allow releases its claims", async () => {
    let listed = "";
    const { tokens, claims, seen } = await signIn(native, alicePage, "openid email", {
      consent: "allow",
      onPage: async (kind, page) => {
        if (kind === "consent") listed = await page.locator("body").innerText();
      },
    });
    expect(seen).toEqual(["consent"]);
    // The scope's display name from the IdP definition, not its bare name.
    expect(listed).toContain("Your email address");
    const info = await oidc.fetchUserInfo(native, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ email: "alice@localhost" });

    // The receipt is remembered: the same request asks nothing now.
    const again = await signIn(native, alicePage, "openid email", {});
    expect(again.seen).toEqual([]);
  });

  it("Deny on the consent page sends access_denied back to the application, with state and iss", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const flow = await authorizationRequest(native, "openid email", rp.redirectUri);
      const admin = { username: w.demo.admin.username, password: w.demo.admin.password };
      const { callback, seen } = await signInThrough(page, flow.url, rp.redirectUri, { login: admin, consent: "deny" });
      expect(seen).toEqual(["login", "consent"]);
      expect(callback.searchParams.get("error")).toBe("access_denied");
      expect(callback.searchParams.get("state")).toBe(flow.state);
      expect(callback.searchParams.get("iss")).toBe(issuer);
      expect(callback.searchParams.get("code")).toBeNull();
      const refused = await oidc.authorizationCodeGrant(native, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(oidc.AuthorizationResponseError);
      expect((refused as oidc.AuthorizationResponseError).error).toBe("access_denied");
    } finally {
      await ctx.close();
    }
  });

  it("introspection tells active tokens; revocation ends the refresh token (RFC 7662, RFC 7009)", async () => {
    const active = await oidc.tokenIntrospection(web, first.access!);
    expect(active.active).toBe(true);
    expect(active.sub).toBe(first.claims!.sub);
    expect(active.client_id).toBe(confidential.client_id);

    await oidc.tokenRevocation(web, first.refresh!, { token_type_hint: "refresh_token" });
    expect((await oidc.tokenIntrospection(web, first.refresh!)).active).toBe(false);
    const refused = await oidc.refreshTokenGrant(web, first.refresh!).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(oidc.ResponseBodyError);
    expect((refused as oidc.ResponseBodyError).error).toBe("invalid_grant");

    // RFC 7009 §2.2: an unknown token is not an error; RFC 7662 §2.2: it is just inactive.
    await expect(oidc.tokenRevocation(web, "not-a-token-we-issued")).resolves.toBeUndefined();
    expect((await oidc.tokenIntrospection(web, "not-a-token-we-issued")).active).toBe(false);
  });

  // retry: once in CI (2026-12-02) the sign-in after the logout timed out in page.goto (30 s)
  // under load, not yet explained; a second attempt repeats the logout (idempotent) and the
  // sign-in. Recorded as an open flake in the issue note, not as fixed.
  it("RP-initiated logout returns to the registered post_logout_redirect_uri with state and ends the SSO session", { retry: 1 }, async () => {
    const state = oidc.randomState();
    const url = oidc.buildEndSessionUrl(web, { id_token_hint: first.idToken!, post_logout_redirect_uri: confidential.post_logout_redirect_uri, state });
    // The registered URI has no port (exact match, RP-Initiated Logout 1.0 §3): nothing of ours
    // listens there, so the browser's request to it is what proves the redirect.
    const toRp = (r: { url(): string }) => r.url().startsWith(confidential.post_logout_redirect_uri);
    let left = false;
    const leaving = alicePage.waitForRequest(toRp, { timeout: 20_000 });
    void leaving.then(() => (left = true), () => undefined);
    await alicePage.goto(url.href).catch(() => undefined);
    // The spec lets the provider ask the user to confirm (§2); if it does, confirm.
    const confirm = alicePage.getByRole("button", { name: /^(yes|sign|log)[^]*out/i });
    if (!left && (await confirm.count()) > 0) await confirm.first().click().catch(() => undefined);
    const request = await leaving;
    const landed = new URL(request.url());
    expect(landed.searchParams.get("state")).toBe(state);
    // Let that request end (refused: nobody listens) before the tab is used again.
    await request.response().catch(() => null);

    // The session is gone: the next authorization asks for the password again (another tab of
    // the same browser, so that the failed navigation above cannot interrupt it).
    const tab = await alice.newPage();
    const { seen } = await signIn(web, tab, "openid", { login: aliceLogin() });
    expect(seen).toEqual(["login"]);
  });
});

describe("the hosted login in Chromium", () => {
  it("a user with TOTP gets the one-time code page after the password; the ID token says so (amr otp)", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const bob = w.demo.totpUser;
      let labelled = false;
      const { claims, seen } = await signIn(web, page, "openid", {
        login: { username: bob.username, password: bob.password },
        otp: () => totpCode(bob.totpSecret),
        onPage: async (kind) => {
          if (kind === "totp") labelled = (await page.getByLabel("One-time code", { exact: true }).getAttribute("name")) === "otp";
        },
      });
      expect(seen).toEqual(["login", "totp"]);
      expect(labelled).toBe(true);
      expect(claims.sub).not.toBe(first.claims!.sub);
      // RFC 8176: a password and a one-time password.
      expect(claims.amr).toEqual(expect.arrayContaining(["pwd", "otp"]));
    } finally {
      await ctx.close();
    }
  });


  it("keyboard only: Tab to the fields, type, Enter signs in", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const flow = await authorizationRequest(web, "openid", rp.redirectUri);
      await page.goto(flow.url.href);
      const focusOn = async (name: string) => {
        for (let i = 0; i < 20; i++) {
          await page.keyboard.press("Tab");
          if ((await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name ?? "")) === name) return;
        }
        throw new Error(`Tab never reached the ${name} field`);
      };
      await focusOn("username");
      await page.keyboard.type(w.demo.user.username);
      await focusOn("password");
      await page.keyboard.type(w.demo.user.password);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(rp.redirectUri)), page.keyboard.press("Enter")]);
      const tokens = await oidc.authorizationCodeGrant(web, new URL(page.url()), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
      expect(tokens.claims()!.sub).toBe(first.claims!.sub);
    } finally {
      await ctx.close();
    }
  });

  it("works without JavaScript; every field has a label; the page cannot be framed", async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await ctx.newPage();
      const flow = await authorizationRequest(web, "openid", rp.redirectUri);
      const pageHeaders: Record<string, string>[] = [];
      page.on("response", (r) => {
        if (r.request().isNavigationRequest() && r.status() === 200 && r.url().startsWith(w.url)) pageHeaders.push(r.headers());
      });
      let checked = 0;
      const { callback, seen } = await signInThrough(page, flow.url, rp.redirectUri, {
        login: aliceLogin(),
        onPage: async () => {
          expect(await page.locator("h1").count()).toBeGreaterThan(0);
          expect(await page.getAttribute("html", "lang")).toBeTruthy();
          const unlabelled = await page.$$eval("input:not([type=hidden]), select, textarea", (els) =>
            els.filter((e) => !((e as HTMLInputElement).labels?.length || e.getAttribute("aria-label") || e.getAttribute("aria-labelledby"))).map((e) => e.outerHTML),
          );
          expect(unlabelled).toEqual([]);
          checked++;
        },
      });
      expect(seen).toEqual(["login"]);
      expect(checked).toBe(1);
      expect(callback.searchParams.get("code")).toBeTruthy();
      // Framing: CSP frame-ancestors 'none' or X-Frame-Options DENY on the login page itself.
      const login = pageHeaders[0]!;
      expect(/frame-ancestors\s+'none'/.test(login["content-security-policy"] ?? "") || /deny/i.test(login["x-frame-options"] ?? "")).toBe(true);
    } finally {
      await ctx.close();
    }
  });

  it("a wrong password and an unknown user get the same form error (role=alert), never a redirect", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const messages: string[] = [];
      for (const username of [w.demo.user.username, "nobody-by-this-name"]) {
        const flow = await authorizationRequest(web, "openid", rp.redirectUri);
        await page.goto(flow.url.href);
        await page.getByLabel("Username", { exact: true }).fill(username);
        await page.getByLabel("Password", { exact: true }).fill("not-the-password-0123");
        await page.getByRole("button", { name: "Sign in", exact: true }).click();
        await page.waitForLoadState("load");
        expect(page.url().startsWith(rp.redirectUri)).toBe(false);
        const alert = page.getByRole("alert");
        await expect.poll(() => alert.count()).toBeGreaterThan(0);
        messages.push((await alert.first().innerText()).trim());
        // The form is shown again, ready for another try.
        expect(await page.getByLabel("Username", { exact: true }).count()).toBe(1);
      }
      expect(messages[0]).toBeTruthy();
      expect(messages[1]).toBe(messages[0]);
    } finally {
      await ctx.close();
    }
  });

  it("an unknown client or an unregistered redirect_uri gets an error page, never a redirect", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const elsewhere: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith(w.url)) elsewhere.push(r.url());
      });
      const authorize = web.serverMetadata().authorization_endpoint!;
      const cases = [
        { client_id: "no-such-client", redirect_uri: rp.redirectUri },
        { client_id: confidential.client_id, redirect_uri: "https://attacker.example/callback" },
        { client_id: confidential.client_id, redirect_uri: `${rp.redirectUri}/../evil` },
      ];
      for (const c of cases) {
        const url = new URL(authorize);
        for (const [k, v] of Object.entries({ ...c, response_type: "code", scope: "openid", state: "st", nonce: "nn", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" })) url.searchParams.set(k, v);
        const res = await page.goto(url.href);
        expect(res?.status(), c.redirect_uri).toBeGreaterThanOrEqual(400);
        expect(res!.status()).toBeLessThan(500);
        expect(page.url().startsWith(w.url)).toBe(true);
        expect(await page.locator("h1").count()).toBeGreaterThan(0);
        expect((await page.locator("p").first().innerText()).length).toBeGreaterThan(0);
      }
      expect(elsewhere).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
