import { beforeAll, describe, expect, it } from "vitest";
import { redeemAuthorizationCode } from "../core/oidc-provider/codes";
import { totpNow } from "../core/mfa/totp";
import { ACR_MFA, ACR_PASSWORD, startSsoSession } from "../core/oidc-provider/sso-session";
import { forgetTenantCache } from "../http/tenant";
import { createJourney } from "../core/journeys";
import { authnCaller } from "../../test/helpers/authn-caller";
import { registerRelyingParty } from "../../test/helpers/wsfed";
import { registerSamlSp } from "../../test/helpers/saml-front";
import { Browser, authorizeQuery, setCookies, defineScopes, hiddenFields, pkce, registerClient, userWithTotp, type RegisteredClient } from "../../test/helpers/hosted-login";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../test/helpers/tenant";
// The hosted login's passkey routes (web/passkeys.tsx), in this runtime too.
import "./hosted-login-passkeys.spec";

/**
 * The hosted login end to end inside workerd: every page renders, the code flow through the
 * login, the TOTP and consent pages, SSO reuse by a second client, prompt and max_age, logout.
 */
let t: TestTenant;
let app: RegisteredClient;
let other: RegisteredClient;
let base: string;

beforeAll(async () => {
  t = await createTestTenant();
  forgetTenantCache();
  app = await registerClient(t, { name: "Photo App" });
  other = await registerClient(t, { name: "Second App", redirectUris: ["https://second.example/cb"] });
  await defineScopes(t, [
    { name: "profile", display_name: "Your profile", consent_required: false },
    { name: "ledger", display_name: "Your ledger entries", consent_required: true },
  ]);
  base = `/oidc/${t.community.id}`;
});

const issuer = () => `http://${t.host}/oidc/${t.community.id}`;
const scope = () => ({ tenant: t.tenant, community: t.community }) as Parameters<typeof redeemAuthorizationCode>[1];

async function startAuthorize(b: Browser, client: RegisteredClient, extra: Record<string, string> = {}) {
  const p = await pkce();
  const res = await b.get(`${base}/authorize?${authorizeQuery(client, p.challenge, extra)}`);
  return { res, html: await res.text(), pkce: p };
}

async function login(b: Browser, html: string, username = "alice", password = PASSWORD) {
  const { tx, csrf } = hiddenFields(html);
  return b.post(`${base}/login`, { tx, csrf, username, password });
}

function codeOf(res: Response): { code: string; url: URL } {
  expect(res.status).toBe(303);
  const url = new URL(res.headers.get("location")!);
  const code = url.searchParams.get("code");
  expect(code).toBeTruthy();
  return { code: code!, url };
}

describe("pages", () => {
  it("the login page follows the HTML contract, with CSP and no-store", async () => {
    const b = new Browser(t.host);
    const { res, html } = await startAuthorize(b, app, { login_hint: "alice" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<h1>Sign in<\/h1>/);
    expect(html).toMatch(/<label for="username">Username<\/label>/);
    expect(html).toMatch(/<label for="password">Password<\/label>/);
    expect(html).toMatch(/<input[^>]*id="username"[^>]*name="username"[^>]*value="alice"/);
    expect(html).toMatch(/<input[^>]*type="password"[^>]*id="password"[^>]*name="password"/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(html).toContain("Forgot password?");
    expect(html).toContain("Photo App");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9_-]+'/);
    expect(csp).not.toContain("unsafe-inline");
    // One script, the passkey script, by the same nonce; it may fetch from this origin only.
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9_-]+'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("form-action 'self' https://app.example");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const nonce = /'nonce-([^']+)'/.exec(csp)![1];
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html.match(/<script/g)!.length).toBe(1);
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toMatch(/<input[^>]*id="username"[^>]*autocomplete="username webauthn"/);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^__Host-edge-auth-csrf=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
  });

  it("the forgot-password page takes a username and always answers the same", async () => {
    const b = new Browser(t.host);
    const { html } = await startAuthorize(b, app);
    const { tx } = hiddenFields(html);
    const form = await b.get(`${base}/login/forgot?tx=${tx}`);
    const formHtml = await form.text();
    expect(form.status).toBe(200);
    expect(formHtml).toMatch(/<h1>Reset your password<\/h1>/);
    expect(formHtml).toMatch(/<label for="username">Username<\/label>/);
    const f = hiddenFields(formHtml);
    const known = await b.post(`${base}/login/forgot`, { ...f, username: "alice" });
    const unknown = await b.post(`${base}/login/forgot`, { ...f, username: "nobody-at-all" });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    const a = (await known.text()).replace(/name="(tx|csrf)" value="[^"]+"/g, "").replace(/tx=[^"]+/g, "").replace(/nonce="[^"]+"/, "");
    const u = (await unknown.text()).replace(/name="(tx|csrf)" value="[^"]+"/g, "").replace(/tx=[^"]+/g, "").replace(/nonce="[^"]+"/, "");
    expect(a).toBe(u);
    expect(a).toMatch(/<h1>Check your email<\/h1>/);
    // Back to sign in works in the same browser, not in another one.
    const back = await b.get(`${base}/login?tx=${tx}`);
    expect(back.status).toBe(200);
    expect(await back.text()).toMatch(/<h1>Sign in<\/h1>/);
    const stranger = await new Browser(t.host).get(`${base}/login?tx=${tx}`);
    expect(stranger.status).toBe(400);
  });

  it("error pages have an h1 and a paragraph: unknown client, unknown provider", async () => {
    const b = new Browser(t.host);
    const res = await b.get(`${base}/authorize?client_id=nope&redirect_uri=https://app.example/callback&response_type=code&scope=openid`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/<h1>Unknown application<\/h1>/);
    expect(html).toMatch(/<p>unknown client<\/p>/);
    const none = await b.get(`/oidc/no-such-community/authorize?client_id=x`);
    expect(none.status).toBe(404);
    expect(await none.text()).toMatch(/<h1>Unknown sign-in service<\/h1>/);
  });
});

describe("code flow", () => {
  it("login -> code with state and iss; the grant records pwd, acr, sid, nonce, PKCE", async () => {
    const b = new Browser(t.host);
    const { html, pkce: p } = await startAuthorize(b, app, { scope: "openid profile" });
    const res = await login(b, html);
    const { code, url } = codeOf(res);
    expect(`${url.origin}${url.pathname}`).toBe(app.redirectUri);
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toBe(issuer());
    const sso = setCookies(res).find((c) => c.startsWith("__Host-edge-auth-sso="))!;
    expect(sso).toMatch(/HttpOnly/i);
    expect(sso).toMatch(/Secure/i);
    expect(sso).toMatch(/SameSite=Lax/i);
    expect(sso).toMatch(/Path=\//);
    const r = await redeemAuthorizationCode(services(), scope(), code);
    expect(r.status).toBe("ok");
    if (r.status !== "ok") return;
    expect(r.grant.uid).toBe(t.alice.uid);
    expect(r.grant.clientId).toBe(app.clientId);
    expect(r.grant.redirectUri).toBe(app.redirectUri);
    expect(r.grant.scopes).toEqual(["openid", "profile"]);
    expect(r.grant.nonce).toBe("n-456");
    expect(r.grant.codeChallenge).toBe(p.challenge);
    expect(r.grant.amr).toEqual(["pwd"]);
    expect(r.grant.acr).toBe(ACR_PASSWORD);
    expect(r.grant.ssoSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(r.grant.authTime - Date.now() / 1000)).toBeLessThan(10);
  });

  it("an authorization request sent as a form POST works too", async () => {
    const b = new Browser(t.host);
    const p = await pkce();
    const res = await b.request("POST", `${base}/authorize`, authorizeQuery(app, p.challenge));
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<h1>Sign in<\/h1>/);
  });

  it("a user with TOTP gets the one-time code page; the code gives amr pwd+otp and the mfa acr", async () => {
    const { secret } = await userWithTotp(t, "totpuser");
    const b = new Browser(t.host);
    const { html } = await startAuthorize(b, app);
    const res = await login(b, html, "totpuser");
    expect(res.status).toBe(200);
    const otpHtml = await res.text();
    expect(otpHtml).toMatch(/<label for="otp">One-time code<\/label>/);
    expect(otpHtml).toMatch(/<input[^>]*id="otp"[^>]*name="otp"/);
    expect(otpHtml).toMatch(/<button type="submit">Verify<\/button>/);
    expect(setCookies(res).some((c) => c.startsWith("__Host-edge-auth-sso="))).toBe(false);
    const f = hiddenFields(otpHtml);
    const wrong = await b.post(`${base}/login/otp`, { ...f, otp: "000000" === (await totpNow(secret)) ? "111111" : "000000" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toMatch(/role="alert"/);
    const ok = await b.post(`${base}/login/otp`, { ...f, otp: await totpNow(secret) });
    const { code } = codeOf(ok);
    const r = await redeemAuthorizationCode(services(), scope(), code);
    expect(r.status === "ok" && r.grant.amr).toEqual(["pwd", "otp"]);
    expect(r.status === "ok" && r.grant.acr).toBe(ACR_MFA);
  });

  it("a consent_required scope asks once: Allow records a receipt, the next time is not asked", async () => {
    const b = new Browser(t.host);
    const client = await registerClient(t, { name: "Ledger App" });
    const { html } = await startAuthorize(b, client, { scope: "openid profile ledger" });
    const res = await login(b, html);
    expect(res.status).toBe(200);
    const consentHtml = await res.text();
    expect(consentHtml).toMatch(/<h1>Allow access\?<\/h1>/);
    expect(consentHtml).toContain("<li>Your ledger entries</li>");
    expect(consentHtml).not.toContain("Your profile");
    expect(consentHtml).toMatch(/<button type="submit" name="decision" value="allow">Allow<\/button>/);
    expect(consentHtml).toMatch(/<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
    const allow = await b.post(`${base}/login/consent`, { ...hiddenFields(consentHtml), decision: "allow" });
    const { code } = codeOf(allow);
    const r = await redeemAuthorizationCode(services(), scope(), code);
    expect(r.status === "ok" && r.grant.scopes).toEqual(["openid", "profile", "ledger"]);
    const { userUrnOf } = await import("../core/consents/consents");
    const receipts = await services().identity.consents.list(t.tenant.id, t.community.id, userUrnOf(scope() as never, t.alice.uid), client.spId);
    expect(receipts).toHaveLength(1);
    expect(receipts[0]!.scopeNames).toEqual(["ledger"]);
    // Second time: the SSO session and the receipt make it a code at once.
    const again = await startAuthorize(b, client, { scope: "openid ledger" });
    codeOf(again.res);
    // prompt=consent asks again.
    const forced = await startAuthorize(b, client, { scope: "openid ledger", prompt: "consent" });
    expect(forced.res.status).toBe(200);
    expect(forced.html).toMatch(/<h1>Allow access\?<\/h1>/);
  });

  it("Deny sends access_denied with state and iss, and records nothing", async () => {
    const b = new Browser(t.host);
    const client = await registerClient(t, { name: "Deny App" });
    const { html } = await startAuthorize(b, client, { scope: "openid ledger" });
    const consent = await login(b, html);
    const deny = await b.post(`${base}/login/consent`, { ...hiddenFields(await consent.text()), decision: "deny" });
    expect(deny.status).toBe(303);
    const url = new URL(deny.headers.get("location")!);
    expect(url.searchParams.get("error")).toBe("access_denied");
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toBe(issuer());
    expect(url.searchParams.get("code")).toBeNull();
    const { userUrnOf } = await import("../core/consents/consents");
    expect(await services().identity.consents.list(t.tenant.id, t.community.id, userUrnOf(scope() as never, t.alice.uid), client.spId)).toHaveLength(0);
  });
});

describe("SSO session", () => {
  it("a second client signs in without a password, in the same session", async () => {
    const b = new Browser(t.host);
    const first = await startAuthorize(b, app);
    const one = codeOf(await login(b, first.html));
    const second = await startAuthorize(b, other);
    const two = codeOf(second.res);
    expect(`${two.url.origin}${two.url.pathname}`).toBe("https://second.example/cb");
    const g1 = await redeemAuthorizationCode(services(), scope(), one.code);
    const g2 = await redeemAuthorizationCode(services(), scope(), two.code);
    expect(g1.status === "ok" && g2.status === "ok").toBe(true);
    if (g1.status !== "ok" || g2.status !== "ok") return;
    expect(g2.grant.ssoSessionId).toBe(g1.grant.ssoSessionId);
    expect(g2.grant.authTime).toBe(g1.grant.authTime);
    expect(g2.grant.clientId).toBe(other.clientId);
  });

  it("prompt=none: login_required without a session, a code with one, consent_required when consent is missing", async () => {
    const b = new Browser(t.host);
    const none = await startAuthorize(b, app, { prompt: "none" });
    expect(none.res.status).toBe(303);
    const url = new URL(none.res.headers.get("location")!);
    expect(url.searchParams.get("error")).toBe("login_required");
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toBe(issuer());
    codeOf(await login(b, (await startAuthorize(b, app)).html));
    codeOf((await startAuthorize(b, app, { prompt: "none" })).res);
    const client = await registerClient(t, { name: "Silent Ledger" });
    const silent = await startAuthorize(b, client, { prompt: "none", scope: "openid ledger" });
    expect(new URL(silent.res.headers.get("location")!).searchParams.get("error")).toBe("consent_required");
  });

  it("prompt=login and max_age force re-authentication; a fresh login satisfies them", async () => {
    const b = new Browser(t.host);
    codeOf(await login(b, (await startAuthorize(b, app)).html));
    const forced = await startAuthorize(b, app, { prompt: "login" });
    expect(forced.res.status).toBe(200);
    expect(forced.html).toMatch(/<h1>Sign in<\/h1>/);
    const relogin = codeOf(await login(b, forced.html));
    const g = await redeemAuthorizationCode(services(), scope(), relogin.code);
    expect(g.status).toBe("ok");
    // max_age=0 is always older than the session; max_age large is not.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await startAuthorize(b, app, { max_age: "0" })).res.status).toBe(200);
    codeOf((await startAuthorize(b, app, { max_age: "3600" })).res);
    const silent = await startAuthorize(b, app, { max_age: "0", prompt: "none" });
    expect(new URL(silent.res.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("an id_token_hint naming another user makes prompt=none answer login_required", async () => {
    const { signJwt } = await import("../crypto/jwt");
    const b = new Browser(t.host);
    codeOf(await login(b, (await startAuthorize(b, app)).html));
    const svc = services();
    const mine = await signJwt(svc.keyring, {}, { kind: "id", issuer: issuer(), audience: app.clientId, subject: t.alice.uid, ttlSeconds: 60 });
    const theirs = await signJwt(svc.keyring, {}, { kind: "id", issuer: issuer(), audience: app.clientId, subject: t.admin.uid, ttlSeconds: 60 });
    codeOf((await startAuthorize(b, app, { prompt: "none", id_token_hint: mine })).res);
    const other = await startAuthorize(b, app, { prompt: "none", id_token_hint: theirs });
    expect(new URL(other.res.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("a client with forceReauthentication always asks for the password", async () => {
    const b = new Browser(t.host);
    codeOf(await login(b, (await startAuthorize(b, app)).html));
    const strict = await registerClient(t, { name: "Strict", forceReauthentication: true });
    expect((await startAuthorize(b, strict)).res.status).toBe(200);
  });
});

describe("end_session", () => {
  it("without a hint the user confirms; the session ends everywhere, the cookie is cleared", async () => {
    const b = new Browser(t.host);
    codeOf(await login(b, (await startAuthorize(b, app)).html));
    const copy = new Browser(t.host);
    for (const [k, v] of b.cookies) copy.cookies.set(k, v);
    const ask = await b.get(`${base}/end_session?client_id=${app.clientId}&post_logout_redirect_uri=${encodeURIComponent("https://app.example/signed-out")}&state=xyz`);
    expect(ask.status).toBe(200);
    const askHtml = await ask.text();
    expect(askHtml).toMatch(/<h1>Sign out\?<\/h1>/);
    // The session is still live until confirmed.
    codeOf((await startAuthorize(b, app)).res);
    const csrf = /name="csrf" value="([^"]+)"/.exec(askHtml)![1]!;
    const done = await b.post(`${base}/end_session`, { csrf, confirm: "yes", client_id: app.clientId, post_logout_redirect_uri: "https://app.example/signed-out", state: "xyz" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("https://app.example/signed-out?state=xyz");
    expect(setCookies(done).some((c) => /^__Host-edge-auth-sso=;/.test(c) && /Max-Age=0/i.test(c))).toBe(true);
    expect(b.cookies.has("__Host-edge-auth-sso")).toBe(false);
    // A copy of the old cookie is worth nothing now.
    const stale = await startAuthorize(copy, app, { prompt: "none" });
    expect(new URL(stale.res.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("an unregistered post_logout_redirect_uri shows the signed-out page instead", async () => {
    const b = new Browser(t.host);
    const res = await b.get(`${base}/end_session?client_id=${app.clientId}&post_logout_redirect_uri=${encodeURIComponent("https://evil.example/")}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<h1>Signed out<\/h1>/);
  });
});

describe("branding", () => {
  it("the tenant's name, logo and colours; the logo's origin is the only image source", async () => {
    const branded = await createTestTenant({ hostedLogin: { branding: { displayName: "Acme & Co", logoUrl: "https://cdn.acme.example/logo.png", primaryColor: "#0B5394", backgroundColor: "#102030" } } });
    forgetTenantCache();
    const client = await registerClient(branded);
    const b = new Browser(branded.host);
    const p = await pkce();
    const res = await b.get(`/oidc/${branded.community.id}/authorize?${authorizeQuery(client, p.challenge)}`);
    const html = await res.text();
    expect(html).toContain("Acme &amp; Co");
    expect(html).toContain('<img src="https://cdn.acme.example/logo.png" alt="Acme &amp; Co logo"/>');
    expect(html).toContain("background:#0b5394");
    expect(html).toContain("background:#102030");
    expect(res.headers.get("content-security-policy")).toContain("img-src https://cdn.acme.example;");
  });

  it("a stored colour that fails AA is replaced by the default palette", async () => {
    // Stored raw, as if written before the rule.
    const weak = await createTestTenant({ hostedLogin: { branding: { primaryColor: "#ffff00" } } });
    forgetTenantCache();
    const client = await registerClient(weak);
    const b = new Browser(weak.host);
    const p = await pkce();
    const html = await (await b.get(`/oidc/${weak.community.id}/authorize?${authorizeQuery(client, p.challenge)}`)).text();
    expect(html).not.toContain("#ffff00");
    expect(html).toContain("background:#1d4ed8");
  });
});

/**
 * Issue 10: the hosted login asks the authentication policy after the password, after the
 * code, and before an SSO session answers for another application. Each scenario has its own
 * community (journeys are per community); the browser connects from 203.0.113.9 unless the
 * test says otherwise (CF-Connecting-IP).
 */
describe("the authentication policy decides the hosted login", () => {
  const DENIED = "Your organisation&#39;s sign-in policy does not allow this sign-in";
  const outsideOffice = { name: "outside the office", ip: { value: "10.0.0.0/8", operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_otp"] } };
  const deny = (rules: Record<string, unknown>) => ({ name: "deny", ...rules, decision: { action: "deny_access", authenticationMethods: [] } });

  async function community(journeys: (clients: { a: RegisteredClient; b: RegisteredClient }) => Record<string, unknown>[]) {
    const tt = await createTestTenant();
    forgetTenantCache();
    const a = await registerClient(tt, { name: "App A" });
    const b = await registerClient(tt, { name: "App B", redirectUris: ["https://b.example/cb"] });
    for (const j of journeys({ a, b })) await createJourney(services(), policyScope(tt), 2, j);
    const at = `/oidc/${tt.community.id}`;
    const authorizeAt = async (br: Browser, client: RegisteredClient, extra: Record<string, string> = {}) => br.get(`${at}/authorize?${authorizeQuery(client, (await pkce()).challenge, extra)}`);
    const passwordAt = async (br: Browser, html: string, username = "alice") => br.post(`${at}/login`, { ...hiddenFields(html), username, password: PASSWORD });
    return { tt, a, b, at, authorizeAt, passwordAt };
  }
  const policyScope = (tt: TestTenant) => ({ tenant: tt.tenant, community: tt.community, settings: {}, ip: "203.0.113.9", userAgent: null }) as unknown as Parameters<typeof createJourney>[1];
  const grantOf = async (tt: TestTenant, res: Response) => {
    const r = await redeemAuthorizationCode(services(), { tenant: tt.tenant, community: tt.community } as Parameters<typeof redeemAuthorizationCode>[1], codeOf(res).code);
    if (r.status !== "ok") throw new Error("code refused");
    return r.grant;
  };
  const ssoSet = (res: Response) => setCookies(res).some((c) => c.startsWith("__Host-edge-auth-sso="));

  it("need_mfa with otp for a user with TOTP: the code page, then the code; amr pwd+otp", async () => {
    const { tt, a, authorizeAt, passwordAt, at } = await community(() => [outsideOffice]);
    const { secret } = await userWithTotp(tt, "carol");
    const br = new Browser(tt.host);
    const pw = await passwordAt(br, await (await authorizeAt(br, a)).text(), "carol");
    expect(pw.status).toBe(200);
    const otpHtml = await pw.text();
    expect(otpHtml).toMatch(/<label for="otp">One-time code<\/label>/);
    expect(ssoSet(pw)).toBe(false);
    const ok = await br.post(`${at}/login/otp`, { ...hiddenFields(otpHtml), otp: await totpNow(secret) });
    expect((await grantOf(tt, ok)).amr).toEqual(["pwd", "otp"]);
  });

  it("need_mfa with otp for a user without TOTP: a 403 page naming what is missing, no session, the transaction over", async () => {
    const { tt, a, authorizeAt, passwordAt, at } = await community(() => [outsideOffice]);
    const br = new Browser(tt.host);
    const html = await (await authorizeAt(br, a)).text();
    const res = await passwordAt(br, html);
    expect(res.status).toBe(403);
    const page = await res.text();
    expect(page).toMatch(/<h1>Another sign-in method is needed<\/h1>/);
    expect(page).toContain("requires a code from an authenticator app for this sign-in");
    expect(ssoSet(res)).toBe(false);
    expect((await br.post(`${at}/login`, { ...hiddenFields(html), username: "alice", password: PASSWORD })).status).toBe(400);
  });

  it("inside the office range (CF-Connecting-IP) the password alone signs in, as before; a forged X-Forwarded-For does not move the browser inside", async () => {
    const { tt, a, authorizeAt, passwordAt } = await community(() => [outsideOffice]);
    const inside = new Browser(tt.host, "10.4.5.6");
    const res = await passwordAt(inside, await (await authorizeAt(inside, a)).text());
    expect((await grantOf(tt, res)).amr).toEqual(["pwd"]);
    const forged = new Browser(tt.host, "198.51.100.77");
    const html = await (await forged.request("GET", `/oidc/${tt.community.id}/authorize?${authorizeQuery(a, (await pkce()).challenge)}`, undefined, { "x-forwarded-for": "10.0.0.1" })).text();
    const refused = await forged.request("POST", `/oidc/${tt.community.id}/login`, new URLSearchParams({ ...hiddenFields(html), username: "alice", password: PASSWORD }), { "x-forwarded-for": "10.0.0.1" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("a code from an authenticator app");
  });

  it("deny_access after the password: the clear 403 page, no session, the transaction ended", async () => {
    const { tt, a, authorizeAt, passwordAt, at } = await community(() => [deny({ usernames: { value: ["alice"], operator: "in" } })]);
    const br = new Browser(tt.host);
    const html = await (await authorizeAt(br, a)).text();
    const res = await passwordAt(br, html);
    expect(res.status).toBe(403);
    const page = await res.text();
    expect(page).toMatch(/<h1>Sign-in not allowed<\/h1>/);
    expect(page).toContain(DENIED);
    expect(ssoSet(res)).toBe(false);
    // The transaction is over: the same form again is an expired page, not another try.
    const again = await br.post(`${at}/login`, { ...hiddenFields(html), username: "admin", password: PASSWORD });
    expect(again.status).toBe(400);
    // Another user of the community is not concerned.
    const other = new Browser(tt.host);
    expect((await grantOf(tt, await passwordAt(other, await (await authorizeAt(other, a)).text(), "admin"))).amr).toEqual(["pwd"]);
  });

  it("the application is the OIDC client_id; an SSO session reused for a denied client gets the page (prompt=none: access_denied)", async () => {
    const { tt, a, b, authorizeAt, passwordAt } = await community(({ b }) => [deny({ applications: { value: [b.clientId], operator: "in" } })]);
    const br = new Browser(tt.host);
    await grantOf(tt, await passwordAt(br, await (await authorizeAt(br, a)).text()));
    // The session answers for A again without a page ...
    expect((await authorizeAt(br, a)).status).toBe(303);
    // ... but not for B.
    const refused = await authorizeAt(br, b);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain(DENIED);
    const silent = await authorizeAt(br, b, { prompt: "none" });
    expect(silent.status).toBe(303);
    const url = new URL(silent.headers.get("location")!);
    expect(url.searchParams.get("error")).toBe("access_denied");
    expect(url.searchParams.get("code")).toBeNull();
    // The session itself still serves A.
    expect((await authorizeAt(br, a)).status).toBe(303);
  });

  it("an SSO session without the code, reused where the policy wants it: a TOTP user signs in again, others get the missing-factor page", async () => {
    const { tt, a, b, authorizeAt, passwordAt, at } = await community(({ b }) => [{ name: "B needs otp", applications: { value: [b.clientId], operator: "in" }, decision: { action: "mfa_required", authenticationMethods: ["otp"] } }]);
    const br = new Browser(tt.host);
    await grantOf(tt, await passwordAt(br, await (await authorizeAt(br, a)).text()));
    const missing = await authorizeAt(br, b);
    expect(missing.status).toBe(403);
    expect(await missing.text()).toMatch(/<h1>Another sign-in method is needed<\/h1>/);
    // A TOTP user whose session lacks otp (enrolled after signing in) is asked to sign in again.
    const { user, secret } = await userWithTotp(tt, "dave");
    const dave = new Browser(tt.host);
    const started = await startSsoSession(services(), policyScope(tt), user, { authTime: Math.floor(Date.now() / 1000), amr: ["pwd"] });
    dave.cookies.set("__Host-edge-auth-sso", started.cookie);
    const relogin = await authorizeAt(dave, b);
    expect(relogin.status).toBe(200);
    const pw = await passwordAt(dave, await relogin.text(), "dave");
    const ok = await dave.post(`${at}/login/otp`, { ...hiddenFields(await pw.text()), otp: await totpNow(secret) });
    expect((await grantOf(tt, ok)).amr).toEqual(["pwd", "otp"]);
  });

  it("the WS-Fed realm and the SAML SP's entityID are the application", async () => {
    const { tt } = await community(() => []);
    const service = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
    const realm = `urn:wsfed:policy:${Date.now()}`;
    await registerRelyingParty(service, tt, realm);
    const sp = await registerSamlSp(tt, { idpInitiated: true }, { name: "Wiki" });
    await createJourney(services(), policyScope(tt), 1, deny({ applications: { value: [realm, sp.entityId], operator: "overlap" } }));
    const br = new Browser(tt.host);
    const started = await startSsoSession(services(), policyScope(tt), tt.alice, { authTime: Math.floor(Date.now() / 1000), amr: ["pwd"] });
    br.cookies.set("__Host-edge-auth-sso", started.cookie);
    const wsfed = await br.get(`/wsfed/${tt.community.id}?${new URLSearchParams({ wa: "wsignin1.0", wtrealm: realm })}`);
    expect(wsfed.status).toBe(403);
    expect(await wsfed.text()).toContain(DENIED);
    const saml = await br.get(`/saml/${tt.community.id}/idp-init/${sp.id}`);
    expect(saml.status).toBe(403);
    expect(await saml.text()).toContain(DENIED);
    // Signing in afresh through the SAML login is refused after the password too.
    const fresh = new Browser(tt.host);
    const loginHtml = await (await fresh.get(`/saml/${tt.community.id}/idp-init/${sp.id}`)).text();
    const res = await fresh.post(`/oidc/${tt.community.id}/login`, { ...hiddenFields(loginHtml), username: "alice", password: PASSWORD });
    expect(res.status).toBe(403);
    expect(ssoSet(res)).toBe(false);
  });
});
