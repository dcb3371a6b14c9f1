import { beforeAll, describe, expect, it } from "vitest";
import { redeemAuthorizationCode } from "../core/oidc-provider/codes";
import { forgetTenantCache } from "../http/tenant";
import { b64url, SoftCredential, unb64url } from "../../test/helpers/soft-authenticator";
import { Browser, authorizeQuery, hiddenFields, pkce, registerClient, type RegisteredClient } from "../../test/helpers/hosted-login";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../test/helpers/tenant";

/**
 * Passkeys in the hosted login (web/passkeys.tsx), run by hosted-login.test.ts: the offer after
 * a password sign-in and the registration, the passwordless sign-in with its amr, and the
 * hostile cases of every route (bad CSRF, replayed or forged assertions, another transaction's
 * challenge, garbage): a page or a JSON 4xx, never a 5xx, and nothing signed in. The
 * authenticator is test/helpers/soft-authenticator.ts (independent of @simplewebauthn).
 */
type RequestOptions = { challenge: string; rpId: string; allowCredentials: { id: string }[]; userVerification: string };
type CreationOptions = { challenge: string; rp: { id: string; name: string }; user: { id: string; name: string }; attestation: string };

let t: TestTenant;
let app: RegisteredClient;
let base: string;
let origin: string;

beforeAll(async () => {
  t = await createTestTenant({ hostedLogin: { offerPasskeys: true } });
  forgetTenantCache();
  app = await registerClient(t, { name: "Passkey App" });
  base = `/oidc/${t.community.id}`;
  origin = `http://${t.host}`;
});

const scope = () => ({ tenant: t.tenant, community: t.community }) as Parameters<typeof redeemAuthorizationCode>[1];

let userN = 0;
async function newUser(): Promise<string> {
  const svc = services();
  const username = `pk${userN++}`;
  const { hashPassword } = await import("../crypto/password");
  await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username, email: `${username}@${t.host}`, roles: ["user"], passwordHash: await hashPassword(PASSWORD, svc.config.passwordPepper), passwordChangedAt: Date.now() });
  return username;
}

async function loginPage(b: Browser): Promise<{ tx: string; csrf: string; html: string }> {
  const p = await pkce();
  const res = await b.get(`${base}/authorize?${authorizeQuery(app, p.challenge, { scope: "openid" })}`);
  const html = await res.text();
  return { ...hiddenFields(html), html };
}

async function jsonPost<T>(b: Browser, path: string, fields: Record<string, string>): Promise<{ status: number; data: T; type: string }> {
  const res = await b.post(path, fields);
  const type = res.headers.get("content-type") ?? "";
  return { status: res.status, data: (type.includes("json") ? await res.json() : await res.text()) as T, type };
}

async function codeAmr(res: Response): Promise<string[]> {
  expect(res.status).toBe(303);
  const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
  const r = await redeemAuthorizationCode(services(), scope(), code);
  expect(r.status).toBe("ok");
  return r.status === "ok" ? r.grant.amr : [];
}

/** A user with one passkey, registered through the offer after the password. */
async function userWithPasskey(): Promise<{ username: string; cred: SoftCredential }> {
  const username = await newUser();
  const b = new Browser(t.host);
  const f = await loginPage(b);
  const offer = await b.post(`${base}/login`, { tx: f.tx, csrf: f.csrf, username, password: PASSWORD });
  expect(offer.status).toBe(200);
  const html = await offer.text();
  expect(html).toMatch(/<h1>Create a passkey\?<\/h1>/);
  const o = await jsonPost<CreationOptions>(b, `${base}/login/passkey/register/options`, f);
  expect(o.status).toBe(200);
  const cred = await SoftCredential.create();
  const credential = await cred.attest(o.data, { origin });
  expect(await codeAmr(await b.post(`${base}/login/passkey/register`, { ...f, credential: JSON.stringify(credential) }))).toEqual(["pwd"]);
  return { username, cred };
}

/** Options for a fresh login transaction, and the transaction's fields. */
async function passkeyOptions(b: Browser): Promise<{ f: { tx: string; csrf: string }; o: RequestOptions }> {
  const { tx, csrf } = await loginPage(b);
  const o = await jsonPost<RequestOptions>(b, `${base}/login/passkey/options`, { tx, csrf });
  expect(o.status).toBe(200);
  return { f: { tx, csrf }, o: o.data };
}

function expectRefused(res: Response, html: string) {
  expect(res.status).toBe(401);
  expect(html).toContain("That passkey could not be used to sign in.");
  // The refusal page does not start the conditional request again (no loop with an
  // authenticator that answers without asking); the button still works.
  expect(html).toContain('data-conditional="off"');
  expect(res.headers.get("location")).toBeNull();
}

describe("hosted login: passkey registration after a password sign-in", () => {
  it("the offer page has its one nonce'd script, and Not now (no script) signs in with amr pwd", async () => {
    const username = await newUser();
    const b = new Browser(t.host);
    const f = await loginPage(b);
    const offer = await b.post(`${base}/login`, { ...f, username, password: PASSWORD });
    const html = await offer.text();
    const nonce = /script-src 'nonce-([^']+)'/.exec(offer.headers.get("content-security-policy")!)![1];
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toMatch(/<button type="submit" class="secondary">Not now<\/button>/);
    expect(await codeAmr(await b.post(`${base}/login/passkey/register`, { ...f, credential: "" }))).toEqual(["pwd"]);
    const u = await services().users.byUsername(t.community.id, username);
    expect(await services().webauthn.listForUser(t.tenant.id, u!.uid)).toEqual([]);
  });

  it("registration: options for the user (rp.id = the tenant's host), the credential stored; the next password sign-in offers nothing", async () => {
    const { username } = await userWithPasskey();
    const b = new Browser(t.host);
    const f = await loginPage(b);
    expect(await codeAmr(await b.post(`${base}/login`, { ...f, username, password: PASSWORD }))).toEqual(["pwd"]);
  });

  it("hostile registration: bad CSRF, another user's challenge, garbage; the offer again, never a 5xx", async () => {
    const username = await newUser();
    const b = new Browser(t.host);
    const f = await loginPage(b);
    await b.post(`${base}/login`, { ...f, username, password: PASSWORD });
    expect((await b.post(`${base}/login/passkey/register/options`, { ...f, csrf: "x".repeat(43) })).status).toBe(403);
    const o = await jsonPost<CreationOptions>(b, `${base}/login/passkey/register/options`, f);
    const cred = await SoftCredential.create();
    const good = await cred.attest(o.data, { origin });
    expect((await b.post(`${base}/login/passkey/register`, { ...f, csrf: "x".repeat(43), credential: JSON.stringify(good) })).status).toBe(403);
    for (const credential of ["{", "[]", JSON.stringify({ ...good, type: "other" }), "x".repeat(5000)]) {
      const r = await b.post(`${base}/login/passkey/register`, { ...f, credential });
      expect(r.status).toBe(400);
      expect(await r.text()).toContain("The passkey could not be created.");
    }
    // A response to a challenge this transaction was not given (another browser's): refused.
    const other = new Browser(t.host);
    const g = await loginPage(other);
    await other.post(`${base}/login`, { ...g, username: await newUser(), password: PASSWORD });
    const o2 = await jsonPost<CreationOptions>(other, `${base}/login/passkey/register/options`, g);
    expect((await b.post(`${base}/login/passkey/register`, { ...f, credential: JSON.stringify(await cred.attest(o2.data, { origin })) })).status).toBe(400);
    // The right one still works.
    expect(await codeAmr(await b.post(`${base}/login/passkey/register`, { ...f, credential: JSON.stringify(good) }))).toEqual(["pwd"]);
  });
});

describe("hosted login: passwordless sign-in with a passkey", () => {
  it("discoverable options (no allowCredentials, uv required), then the assertion signs in: amr fido+mfa, an SSO session", async () => {
    const { cred } = await userWithPasskey();
    const b = new Browser(t.host);
    const { f, o } = await passkeyOptions(b);
    expect(o.allowCredentials).toEqual([]);
    expect(o.userVerification).toBe("required");
    expect(o.rpId).toBe(new URL(origin).hostname);
    const assertion = await cred.assert(o, { origin, withUserHandle: true });
    const res = await b.post(`${base}/login/passkey`, { ...f, assertion: JSON.stringify(assertion) });
    expect(await codeAmr(res)).toEqual(["fido", "mfa"]);
    expect(b.cookies.has("__Host-edge-auth-sso")).toBe(true);
  });

  it("without user verification: refused (passwordless needs it)", async () => {
    const { cred } = await userWithPasskey();
    const b = new Browser(t.host);
    const { f, o } = await passkeyOptions(b);
    const res = await b.post(`${base}/login/passkey`, { ...f, assertion: JSON.stringify(await cred.assert(o, { origin, uv: false, withUserHandle: true })) });
    expectRefused(res, await res.text());
  });

  it("hostile: bad CSRF, replayed assertion, forged signature, another transaction's challenge, garbage, a cloned authenticator: refused, no 5xx", async () => {
    const { cred } = await userWithPasskey();
    const b = new Browser(t.host);
    // Bad CSRF token, and a browser without the transaction's cookie.
    const first = await loginPage(b);
    expect((await b.post(`${base}/login/passkey/options`, { ...first, csrf: "x".repeat(43) })).status).toBe(403);
    const stranger = new Browser(t.host);
    expect((await stranger.post(`${base}/login/passkey/options`, first)).status).toBeLessThan(500);
    expect((await stranger.post(`${base}/login/passkey/options`, first)).headers.get("content-type")).toMatch(/^text\/html/);

    // Another transaction's challenge: transaction A's assertion posted to transaction B.
    const a = await passkeyOptions(b);
    const bb = await passkeyOptions(b);
    const forA = await cred.assert(a.o, { origin, withUserHandle: true });
    let r = await b.post(`${base}/login/passkey`, { ...bb.f, assertion: JSON.stringify(forA) });
    expectRefused(r, await r.text());
    // Bad CSRF with a good assertion: refused before anything is looked at.
    expect((await b.post(`${base}/login/passkey`, { ...a.f, csrf: "y".repeat(43), assertion: JSON.stringify(forA) })).status).toBe(403);
    // Forged: the signature of another message.
    const sig = unb64url(forA.response.signature);
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 1;
    r = await b.post(`${base}/login/passkey`, { ...a.f, assertion: JSON.stringify({ ...forA, response: { ...forA.response, signature: b64url(sig) } }) });
    expectRefused(r, await r.text());
    // Garbage in the field: the same refusal.
    for (const assertion of ["", "{", "null", JSON.stringify({ ...forA, type: "x" }), JSON.stringify({ ...forA, response: { ...forA.response, clientDataJSON: b64url(new TextEncoder().encode("{}")) } })]) {
      r = await b.post(`${base}/login/passkey`, { ...a.f, assertion });
      expectRefused(r, await r.text());
    }
    // The genuine assertion then signs in once; replayed (same transaction, or bound to a new one) it is refused.
    expect(await codeAmr(await b.post(`${base}/login/passkey`, { ...a.f, assertion: JSON.stringify(forA) }))).toEqual(["fido", "mfa"]);
    r = await b.post(`${base}/login/passkey`, { ...a.f, assertion: JSON.stringify(forA) });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    // (a new browser: this one is signed in now, so authorize would answer with a code)
    const b2 = new Browser(t.host);
    const c = await passkeyOptions(b2);
    r = await b2.post(`${base}/login/passkey`, { ...c.f, assertion: JSON.stringify(forA) });
    expectRefused(r, await r.text());

    // A cloned authenticator: the counter goes backwards.
    const d = await passkeyOptions(b2);
    r = await b2.post(`${base}/login/passkey`, { ...d.f, assertion: JSON.stringify(await cred.assert(d.o, { origin, withUserHandle: true, counter: 1 })) });
    expectRefused(r, await r.text());
    expect(b2.cookies.has("__Host-edge-auth-sso")).toBe(false);
  });

  it("the passkey routes at the wrong step, or of an unknown transaction, are pages or JSON 4xx", async () => {
    const b = new Browser(t.host);
    const f = await loginPage(b);
    const wrongStep = await b.post(`${base}/login/passkey/register/options`, f);
    expect(wrongStep.status).toBe(400);
    expect((await b.post(`${base}/login/passkey/register`, { ...f, credential: "" })).status).toBe(400);
    for (const path of ["/login/passkey/options", "/login/passkey", "/login/passkey/register/options", "/login/passkey/register"]) {
      const r = await b.post(`${base}${path}`, { tx: "A".repeat(43), csrf: f.csrf });
      expect(r.status, path).toBeGreaterThanOrEqual(400);
      expect(r.status, path).toBeLessThan(500);
      const j = await b.request("POST", `${base}${path}`, JSON.stringify(f), { "content-type": "application/json" });
      expect(j.status, path).toBe(415);
    }
  });
});
