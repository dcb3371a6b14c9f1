import { beforeAll, describe, expect, it } from "vitest";
import { signJwt } from "../crypto/jwt";
import { userUrnOf } from "../core/consents/consents";
import { redeemAuthorizationCode } from "../core/oidc-provider/codes";
import { totpNow } from "../core/mfa/totp";
import { forgetTenantCache } from "../http/tenant";
import { createJourney } from "../core/journeys";
import { Browser, authorizeQuery, defineScopes, hiddenFields, pkce, registerClient, userWithTotp, type RegisteredClient } from "../../test/helpers/hosted-login";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../test/helpers/tenant";

/**
 * The hosted login under attack: redirect URI lookalikes, open redirects, another tenant's
 * client, CSRF on every form, brute force, replayed and racing transactions, oversized and
 * malformed bodies, forged logout hints. Never a 5xx; nothing tells accounts apart.
 */
let t: TestTenant;
let t2: TestTenant;
let app: RegisteredClient;
let base: string;

beforeAll(async () => {
  t = await createTestTenant({ lockout: { userThreshold: 3, ipThreshold: 1000, windowSeconds: 600, baseDelaySeconds: 60, maxDelaySeconds: 60 } });
  t2 = await createTestTenant();
  forgetTenantCache();
  app = await registerClient(t, { name: "Photo App" });
  await defineScopes(t, [{ name: "ledger", display_name: "Your ledger entries", consent_required: true }]);
  base = `/oidc/${t.community.id}`;
});

const scope = () => ({ tenant: t.tenant, community: t.community }) as Parameters<typeof redeemAuthorizationCode>[1];
const strip = (html: string) => html.replace(/nonce="[^"]+"/g, "").replace(/value="[A-Za-z0-9_-]{43}"/g, "").replace(/tx=[A-Za-z0-9_-]{43}/g, "");

async function authorizePage(b: Browser, client: RegisteredClient = app, extra: Record<string, string> = {}) {
  const p = await pkce();
  const res = await b.get(`${base}/authorize?${authorizeQuery(client, p.challenge, extra)}`);
  expect(res.status).toBeLessThan(500);
  return { res, html: await res.text() };
}

describe("redirect_uri and open redirects", () => {
  const variants = [
    ["prefix", "https://app.example/callbackx"],
    ["shorter", "https://app.example/"],
    ["case", "https://APP.example/callback"],
    ["path case", "https://app.example/Callback"],
    ["path suffix", "https://app.example/callback/more"],
    ["fragment", "https://app.example/callback#x"],
    ["userinfo", "https://user@app.example/callback"],
    ["another port", "https://app.example:8443/callback"],
    ["http", "http://app.example/callback"],
    ["evil host", "https://app.example.evil.example/callback"],
    ["trailing dot", "https://app.example./callback"],
  ] as const;
  for (const [label, uri] of variants) {
    it(`${label}: shown, never redirected`, async () => {
      const b = new Browser(t.host);
      const p = await pkce();
      // Even with an error the client would receive (bad response_type), nothing goes to it.
      const res = await b.get(`${base}/authorize?${authorizeQuery({ ...app, redirectUri: uri }, p.challenge, { response_type: "token" })}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      const html = await res.text();
      expect(html).toMatch(/<h1>Invalid redirect address<\/h1>/);
      expect(html).not.toContain(uri.replace(/&/g, "&amp;"));
    });
  }

  it("a loopback redirect matches on any port (RFC 8252 §7.3), and the code goes to that port", async () => {
    const native = await registerClient(t, { public: true, redirectUris: ["http://127.0.0.1/callback"] });
    const b = new Browser(t.host);
    const { res, html } = await authorizePage(b, { ...native, redirectUri: "http://127.0.0.1:53124/callback" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' http://127.0.0.1:53124");
    const { tx, csrf } = hiddenFields(html);
    const done = await b.post(`${base}/login`, { tx, csrf, username: "alice", password: PASSWORD });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toMatch(/^http:\/\/127\.0\.0\.1:53124\/callback\?code=/);
  });

  it("an unknown client or a duplicated client_id is a page, whatever redirect_uri says", async () => {
    const b = new Browser(t.host);
    for (const q of [
      "client_id=nope&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code&scope=openid",
      `client_id=${app.clientId}&client_id=${app.clientId}&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&response_type=code`,
      "redirect_uri=https%3A%2F%2Fevil.example%2F",
      "",
    ]) {
      const res = await b.get(`${base}/authorize?${q}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
    }
  });

  it("errors after the redirect URI is known go back to it with state and iss only", async () => {
    const b = new Browser(t.host);
    for (const [extra, error] of [
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ scope: "profile" }, "invalid_scope"],
      [{ scope: "openid unknown" }, "invalid_scope"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ prompt: "none login" }, "invalid_request"],
      [{ max_age: "-1" }, "invalid_request"],
    ] as [Record<string, string>, string][]) {
      const { res } = await authorizePage(b, app, extra);
      expect(res.status).toBe(303);
      const url = new URL(res.headers.get("location")!);
      expect(`${url.origin}${url.pathname}`).toBe(app.redirectUri);
      expect(url.searchParams.get("error")).toBe(error);
      expect(url.searchParams.get("state")).toBe("st-123");
      expect(url.searchParams.get("iss")).toBe(`http://${t.host}/oidc/${t.community.id}`);
    }
  });

  it("a client without the authorization_code grant gets unauthorized_client", async () => {
    const machine = await registerClient(t, { grantTypes: ["client_credentials"] });
    const { res } = await authorizePage(new Browser(t.host), machine);
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("unauthorized_client");
  });

  it("PKCE is required: no challenge is invalid_request", async () => {
    const b = new Browser(t.host);
    const q = new URLSearchParams({ client_id: app.clientId, redirect_uri: app.redirectUri, response_type: "code", scope: "openid", state: "s" });
    const res = await b.get(`${base}/authorize?${q}`);
    expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
  });

  it("missing state and nonce: the response carries no state, the grant no nonce", async () => {
    const b = new Browser(t.host);
    const p = await pkce();
    const q = new URLSearchParams({ client_id: app.clientId, redirect_uri: app.redirectUri, response_type: "code", scope: "openid", code_challenge: p.challenge, code_challenge_method: "S256" });
    const page = await b.get(`${base}/authorize?${q}`);
    const { tx, csrf } = hiddenFields(await page.text());
    const done = await b.post(`${base}/login`, { tx, csrf, username: "alice", password: PASSWORD });
    const url = new URL(done.headers.get("location")!);
    expect(url.searchParams.has("state")).toBe(false);
    const g = await redeemAuthorizationCode(services(), scope(), url.searchParams.get("code")!);
    expect(g.status === "ok" && g.grant.nonce).toBeUndefined();
  });

  it("another tenant's client and community are unknown at this issuer", async () => {
    const foreign = await registerClient(t2, { name: "Foreign" });
    const b = new Browser(t.host);
    const p = await pkce();
    const res = await b.get(`${base}/authorize?${authorizeQuery(foreign, p.challenge)}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/<h1>Unknown application<\/h1>/);
    // Tenant 2's community reached on tenant 1's bound host.
    const cross = await b.get(`/oidc/${t2.community.id}/authorize?${authorizeQuery(foreign, p.challenge)}`);
    expect(cross.status).toBe(404);
    expect(cross.headers.get("location")).toBeNull();
  });
});

describe("CSRF on every form", () => {
  async function loginForm() {
    const b = new Browser(t.host);
    const { html } = await authorizePage(b);
    return { b, ...hiddenFields(html) };
  }

  it("login: missing, wrong, another transaction's token, and another browser: 403, no attempt counted", async () => {
    const { b, tx, csrf } = await loginForm();
    const other = await loginForm();
    const svc = services();
    const before = await svc.limiter.failures({ tenant: t.tenant, settings: { lockout: { windowSeconds: 600 } }, ip: "203.0.113.9" } as never, "login", "csrf-victim");
    for (const fields of [
      { tx, username: "csrf-victim", password: "x" },
      { tx, csrf: "wrong", username: "csrf-victim", password: "x" },
      { tx, csrf: other.csrf, username: "csrf-victim", password: "x" },
      { tx, csrf: "", username: "csrf-victim", password: "x" },
    ]) {
      const res = await b.post(`${base}/login`, fields as Record<string, string>);
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/<h1>Request refused<\/h1>/);
    }
    // The right token from a browser without the cookie (a cross-site forgery cannot send it).
    const stranger = new Browser(t.host);
    expect((await stranger.post(`${base}/login`, { tx, csrf, username: "alice", password: PASSWORD })).status).toBe(403);
    // Another browser's cookie with this transaction's token.
    expect((await other.b.post(`${base}/login`, { tx, csrf, username: "alice", password: PASSWORD })).status).toBe(403);
    const after = await svc.limiter.failures({ tenant: t.tenant, settings: { lockout: { windowSeconds: 600 } }, ip: "203.0.113.9" } as never, "login", "csrf-victim");
    expect(after).toBe(before);
    // And the transaction still works for its own browser.
    expect((await b.post(`${base}/login`, { tx, csrf, username: "alice", password: PASSWORD })).status).toBe(303);
  });

  it("otp, consent and forgot refuse a bad token with 403 and change nothing", async () => {
    const { secret } = await userWithTotp(t, "csrf-totp");
    const { b, tx, csrf } = await loginForm();
    const otpPage = await b.post(`${base}/login`, { tx, csrf, username: "csrf-totp", password: PASSWORD });
    expect(otpPage.status).toBe(200);
    const code = await totpNow(secret);
    expect((await b.post(`${base}/login/otp`, { tx, csrf: "forged", otp: code })).status).toBe(403);
    expect((await b.post(`${base}/login/forgot`, { tx, username: "alice" })).status).toBe(403);
    // The code was not consumed by the refused POST: it still works.
    expect((await b.post(`${base}/login/otp`, { tx, csrf, otp: code })).status).toBe(303);

    const client = await registerClient(t, { name: "Ledger" });
    const c2 = new Browser(t.host);
    const consentStart = await authorizePage(c2, client, { scope: "openid ledger" });
    const f = hiddenFields(consentStart.html);
    const consentPage = await c2.post(`${base}/login`, { ...f, username: "alice", password: PASSWORD });
    expect(consentPage.status).toBe(200);
    for (const bad of [{ tx: f.tx, decision: "allow" }, { tx: f.tx, csrf: "x", decision: "allow" }] as Record<string, string>[]) {
      expect((await c2.post(`${base}/login/consent`, bad)).status).toBe(403);
    }
    expect(await services().identity.consents.list(t.tenant.id, t.community.id, userUrnOf(scope() as never, t.alice.uid), client.spId)).toHaveLength(0);
  });

  it("end_session confirmation refuses a wrong token and keeps the session", async () => {
    const { b, tx, csrf } = await loginForm();
    expect((await b.post(`${base}/login`, { tx, csrf, username: "alice", password: PASSWORD })).status).toBe(303);
    const res = await b.post(`${base}/end_session`, { confirm: "yes", csrf: "forged" });
    expect(res.status).toBe(403);
    // A cross-site POST without any token only gets the confirmation page.
    const ask = await b.post(`${base}/end_session`, { confirm: "yes" });
    expect(ask.status).toBe(200);
    expect(await ask.text()).toMatch(/<h1>Sign out\?<\/h1>/);
    const still = await authorizePage(b, app, { prompt: "none" });
    expect(new URL(still.res.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });
});

describe("brute force and enumeration", () => {
  it("wrong password and unknown user get the same page; the lockout shows alike for both", async () => {
    const b = new Browser(t.host, "198.51.100.20");
    const { html } = await authorizePage(b);
    const f = hiddenFields(html);
    const wrong = await b.post(`${base}/login`, { ...f, username: "admin", password: "not the password" });
    const unknown = await b.post(`${base}/login`, { ...f, username: "no-such-user", password: "not the password" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const w = strip(await wrong.text()).replace(/value="admin"/, "");
    const u = strip(await unknown.text()).replace(/value="no-such-user"/, "");
    expect(w).toBe(u);
    expect(w).toContain('role="alert"');
    expect(w).toContain("Incorrect username or password.");
    // Threshold 3: two more failures lock both names; the right password is refused too.
    for (const name of ["admin", "no-such-user"]) {
      for (let i = 0; i < 2; i++) await b.post(`${base}/login`, { ...f, username: name, password: "still wrong" });
      const locked = await b.post(`${base}/login`, { ...f, username: name, password: name === "admin" ? PASSWORD : "x" });
      expect(locked.status).toBe(429);
      expect(await locked.text()).toMatch(/role="alert"[^>]*>Too many failed attempts\. Try again in 1 minute\./);
    }
  });

  it("parallel guesses cannot exceed the threshold", async () => {
    const b = new Browser(t.host, "198.51.100.21");
    const { html } = await authorizePage(b);
    const f = hiddenFields(html);
    const results = await Promise.all(Array.from({ length: 8 }, () => b.post(`${base}/login`, { ...f, username: "parallel-target", password: "guess" })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it("a password that must change gets a clear message and no session", async () => {
    const b = new Browser(t.host, "198.51.100.22");
    const { html } = await authorizePage(b);
    const res = await b.post(`${base}/login`, { ...hiddenFields(html), username: "newbie", password: PASSWORD });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Your password has expired");
    expect(b.cookies.has("__Host-edge-auth-sso")).toBe(false);
  });

  it("wrong one-time codes lock the user's code counter like any credential check", async () => {
    const { secret } = await userWithTotp(t, "otp-locked");
    const b = new Browser(t.host, "198.51.100.24");
    const { html } = await authorizePage(b);
    const f = hiddenFields(html);
    expect((await b.post(`${base}/login`, { ...f, username: "otp-locked", password: PASSWORD })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await b.post(`${base}/login/otp`, { ...f, otp: "12345" + i })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // A correct password again does not buy fresh guesses: the code counter is the user's own.
    expect((await b.post(`${base}/login`, { ...f, username: "otp-locked", password: PASSWORD })).status).toBe(200);
    const locked = await b.post(`${base}/login/otp`, { ...f, otp: await totpNow(secret) });
    expect(locked.status).toBe(429);
    expect(await locked.text()).toContain("Too many failed attempts");
  });

  it("five wrong one-time codes void the transaction", async () => {
    // Tenant 2 keeps the default threshold (30), so the transaction's own limit shows.
    const client = await registerClient(t2, { name: "T2 App" });
    await userWithTotp(t2, "otp-brute");
    const b = new Browser(t2.host, "198.51.100.23");
    const p = await pkce();
    const page = await b.get(`/oidc/${t2.community.id}/authorize?${authorizeQuery(client, p.challenge)}`);
    const f = hiddenFields(await page.text());
    expect((await b.post(`/oidc/${t2.community.id}/login`, { ...f, username: "otp-brute", password: PASSWORD })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await b.post(`/oidc/${t2.community.id}/login/otp`, { ...f, otp: "12345" + i })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const after = await b.post(`/oidc/${t2.community.id}/login/otp`, { ...f, otp: "000000" });
    expect(after.status).toBe(400);
  });
});

describe("replay, races, malformed input", () => {
  it("a completed transaction cannot be replayed", async () => {
    const b = new Browser(t.host);
    const { html } = await authorizePage(b);
    const f = hiddenFields(html);
    expect((await b.post(`${base}/login`, { ...f, username: "alice", password: PASSWORD })).status).toBe(303);
    const replay = await b.post(`${base}/login`, { ...f, username: "alice", password: PASSWORD });
    expect(replay.status).toBe(400);
    expect(replay.headers.get("location")).toBeNull();
    expect(await replay.text()).toMatch(/<h1>This sign-in has expired<\/h1>/);
  });

  it("racing sign-ins of one transaction: exactly one code", async () => {
    const b = new Browser(t.host, "198.51.100.30");
    const { html } = await authorizePage(b);
    const f = hiddenFields(html);
    const results = await Promise.all(Array.from({ length: 6 }, () => b.post(`${base}/login`, { ...f, username: "alice", password: PASSWORD })));
    expect(results.filter((r) => r.status === 303)).toHaveLength(1);
    // The others: the transaction already completed (400), or refused by the limiter, whose
    // in-flight reservations count against this tenant's threshold of 3 (429).
    expect(results.every((r) => r.status === 303 || r.status === 400 || r.status === 429)).toBe(true);
  });

  it("ten racing Allow decisions: exactly one code, one receipt", async () => {
    const client = await registerClient(t, { name: "Race" });
    const b = new Browser(t.host);
    const { html } = await authorizePage(b, client, { scope: "openid ledger" });
    const consent = await b.post(`${base}/login`, { ...hiddenFields(html), username: "alice", password: PASSWORD });
    const f = hiddenFields(await consent.text());
    const results = await Promise.all(Array.from({ length: 10 }, () => b.post(`${base}/login/consent`, { ...f, decision: "allow" })));
    const codes = results.filter((r) => r.status === 303);
    expect(codes).toHaveLength(1);
    expect(results.every((r) => r.status === 303 || r.status === 400)).toBe(true);
    expect(await services().identity.consents.list(t.tenant.id, t.community.id, userUrnOf(scope() as never, t.alice.uid), client.spId)).toHaveLength(1);
  });

  it("oversized, non-form and malformed bodies are pages, never 5xx", async () => {
    const b = new Browser(t.host);
    const { html } = await authorizePage(b);
    const f = hiddenFields(html);
    const big = await b.request("POST", `${base}/login`, `tx=${f.tx}&csrf=${f.csrf}&username=${"a".repeat(20_000)}`);
    expect(big.status).toBe(413);
    expect(await big.text()).toMatch(/<h1>Request too large<\/h1>/);
    const json = await b.request("POST", `${base}/login`, JSON.stringify(f), { "content-type": "application/json" });
    expect(json.status).toBe(415);
    const dup = await b.request("POST", `${base}/login`, `tx=${f.tx}&tx=${f.tx}&csrf=${f.csrf}`);
    expect(dup.status).toBe(400);
    const garbage = await b.request("POST", `${base}/login`, "%%%&&&==\u0000\uffff");
    expect(garbage.status).toBe(400);
    const noBody = await b.request("POST", `${base}/login/consent`, "");
    expect(noBody.status).toBe(400);
    const authorizeBig = await b.request("POST", `${base}/authorize`, "x=" + "b".repeat(20_000));
    expect(authorizeBig.status).toBe(413);
    const longQuery = await b.get(`${base}/authorize?client_id=${app.clientId}&redirect_uri=${encodeURIComponent(app.redirectUri)}&state=${"s".repeat(5000)}`);
    expect(longQuery.status).toBe(303);
    expect(new URL(longQuery.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
    for (const r of [big, json, dup, garbage, noBody, authorizeBig, longQuery]) expect(r.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("reflection and odd addresses", () => {
  it("login_hint and the client's name are escaped; odd paths and queries are pages", async () => {
    const evil = await registerClient(t, { name: '<img src=x onerror=alert(1)>' });
    const b = new Browser(t.host);
    const { res, html } = await authorizePage(b, evil, { login_hint: '"><script>alert(1)</script>' });
    expect(res.status).toBe(200);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&quot;&gt;&lt;script&gt;");
    for (const path of [`/oidc/%ZZ/authorize`, `/oidc/${"c".repeat(300)}/authorize`, `${base}/authorize?%ZZ=1&client_id=%E0%A4%A`, `${base}/login?tx=%00`, `${base}/login/forgot`, `${base}/end_session?id_token_hint=`]) {
      const r = await b.get(path);
      expect(r.status, path).toBeGreaterThanOrEqual(200);
      expect(r.status, path).toBeLessThan(500);
      expect(r.headers.get("content-type"), path).toMatch(/^text\/html/);
    }
  });
});

describe("end_session hints", () => {
  const issuer = () => `http://${t.host}/oidc/${t.community.id}`;

  async function signedInBrowser() {
    const b = new Browser(t.host);
    const { html } = await authorizePage(b);
    const done = await b.post(`${base}/login`, { ...hiddenFields(html), username: "alice", password: PASSWORD });
    const code = new URL(done.headers.get("location")!).searchParams.get("code")!;
    const g = await redeemAuthorizationCode(services(), scope(), code);
    if (g.status !== "ok") throw new Error("no grant");
    return { b, sid: g.grant.ssoSessionId };
  }

  it("an expired ID token of this issuer logs out and redirects to the registered URI", async () => {
    const { b, sid } = await signedInBrowser();
    const hint = await signJwt(services().keyring, { sid }, { kind: "id", issuer: issuer(), audience: app.clientId, subject: t.alice.uid, ttlSeconds: 60, now: Math.floor(Date.now() / 1000) - 3600 });
    // A cross-site POST: no cookies sent; the hint's sid alone ends the session.
    const rp = new Browser(t.host);
    const res = await rp.post(`${base}/end_session`, { id_token_hint: hint, post_logout_redirect_uri: "https://app.example/signed-out", state: "s1" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("https://app.example/signed-out?state=s1");
    const after = await authorizePage(b, app, { prompt: "none" });
    expect(new URL(after.res.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("a hint of another issuer, a tampered one or an access token is refused; the session stays", async () => {
    const { b, sid } = await signedInBrowser();
    const svc = services();
    const otherIssuer = await signJwt(svc.keyring, { sid }, { kind: "id", issuer: "https://evil.example", audience: app.clientId, subject: t.alice.uid, ttlSeconds: 60 });
    const access = await signJwt(svc.keyring, { sid }, { kind: "access", issuer: issuer(), audience: app.clientId, subject: t.alice.uid, ttlSeconds: 60 });
    const good = await signJwt(svc.keyring, { sid }, { kind: "id", issuer: issuer(), audience: app.clientId, subject: t.alice.uid, ttlSeconds: 60 });
    const [h, p, s] = good.split(".");
    const tampered = `${h}.${p!.slice(0, -2)}AA.${s}`;
    const wrongAud = good;
    for (const hint of [otherIssuer, access, tampered, "not.a.jwt", "x"]) {
      const res = await b.get(`${base}/end_session?id_token_hint=${encodeURIComponent(hint)}&post_logout_redirect_uri=${encodeURIComponent("https://app.example/signed-out")}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
    }
    const mismatch = await b.get(`${base}/end_session?id_token_hint=${encodeURIComponent(wrongAud)}&client_id=someone-else`);
    expect(mismatch.status).toBe(400);
    const still = await authorizePage(b, app, { prompt: "none" });
    expect(new URL(still.res.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });
});

/** Issue 10, hostile: the policy is asked again at every step, and its refusals end the transaction. */
describe("the authentication policy cannot be stepped around", () => {
  const scopeOfT = (tt: TestTenant) => ({ tenant: tt.tenant, community: tt.community, settings: {}, ip: "203.0.113.9", userAgent: null }) as unknown as Parameters<typeof createJourney>[1];

  it("a deny that arrives while the code page is open is applied after the code: 403, no session, the transaction ended", async () => {
    const tt = await createTestTenant();
    forgetTenantCache();
    const client = await registerClient(tt);
    const { secret } = await userWithTotp(tt, "erin");
    const b = new Browser(tt.host);
    const at = `/oidc/${tt.community.id}`;
    const html = await (await b.get(`${at}/authorize?${authorizeQuery(client, (await pkce()).challenge)}`)).text();
    const otpPage = await (await b.post(`${at}/login`, { ...hiddenFields(html), username: "erin", password: PASSWORD })).text();
    await createJourney(services(), scopeOfT(tt), 1, { name: "no erin", usernames: { value: ["erin"], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } });
    const res = await b.post(`${at}/login/otp`, { ...hiddenFields(otpPage), otp: await totpNow(secret) });
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/<h1>Sign-in not allowed<\/h1>/);
    expect(b.cookies.has("__Host-edge-auth-sso")).toBe(false);
    // The code form of that transaction is spent.
    const again = await b.post(`${at}/login/otp`, { ...hiddenFields(otpPage), otp: await totpNow(secret) });
    expect(again.status).toBe(400);
  });

  it("a TOTP user under a journey wanting a factor these pages lack is refused before the code, and the code form is dead", async () => {
    const tt = await createTestTenant();
    forgetTenantCache();
    const client = await registerClient(tt);
    const { secret } = await userWithTotp(tt, "frank");
    await createJourney(services(), scopeOfT(tt), 2, { name: "fido only", usernames: { value: ["frank"], operator: "in" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_fido"] } });
    const b = new Browser(tt.host);
    const at = `/oidc/${tt.community.id}`;
    const html = await (await b.get(`${at}/authorize?${authorizeQuery(client, (await pkce()).challenge)}`)).text();
    const res = await b.post(`${at}/login`, { ...hiddenFields(html), username: "frank", password: PASSWORD });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("requires a security key or passkey");
    // Forging the code step of the same transaction gets nothing.
    const forged = await b.post(`${at}/login/otp`, { ...hiddenFields(html), otp: await totpNow(secret) });
    expect([400, 403]).toContain(forged.status);
    expect(b.cookies.has("__Host-edge-auth-sso")).toBe(false);
  });
});
