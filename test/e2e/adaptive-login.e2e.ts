/**
 * Every login asks the authentication policy (issue 10), end to end: the Worker started by
 * wrangler, journeys written through the Authn API by the envelope client
 * (src/client/authn-client.ts, the demo's system license), a password login on the Authn API
 * and the hosted login played by Chromium (playwright-core), with an unmodified relying party
 * (openid-client) checking the ID token.
 *
 * What IP does a local `wrangler dev` request have? Neither Node's fetch nor Chromium sends
 * CF-Connecting-IP; miniflare's entry worker adds it from the socket's remote address when the
 * request has none (node_modules/miniflare/dist/src/workers/core/entry.worker.js), so a request
 * to http://127.0.0.1:<port> arrives with `CF-Connecting-IP: 127.0.0.1`. The first test shows
 * it: a proof issued without X-Forwarded-For records `ip: "127.0.0.1"`. (Locally a client may
 * send its own CF-Connecting-IP and miniflare keeps it; Cloudflare's edge always overwrites it:
 * docs/security.md.) So the journeys are built around 127.0.0.1 lying outside 10.0.0.0/8:
 *  - "outside the office": ip nin 10.0.0.0/8 -> mfa_required [password_and_otp] (every login
 *    here is "outside the office");
 *  - "no alice": usernames in [alice] -> deny_access (deny wins over mfa for her).
 *
 * TOTP codes are single use per time step; the Authn step-up and the hosted login each use a
 * code of a different step (both within the server's one-step drift window), computed with
 * Node's own RFC 6238 implementation (scripts/lib/totp.mjs), not the Worker's.
 */
import * as oidc from "openid-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostedPage, launchBrowser, signInThrough, startLoopbackCallback, type LoopbackCallback } from "./browser";
import { startWorker, type DemoOidcClient, type StartedWorker } from "./harness";
import { Secret, TOTP } from "otpauth";
import { totpCode } from "../../scripts/lib/totp.mjs";

let w: StartedWorker;
let browser: Browser;
let rp: LoopbackCallback;
let authn: EnvelopeClient;
let native: oidc.Configuration;
let community: string;
/** The same license from a service inside the office: its X-Forwarded-For is believed (system license). */
let office: EnvelopeClient;
const journeyIds: Record<string, string> = {};

const allowHttp = { execute: [oidc.allowInsecureRequests] };

/**
 * The part of src/client/authn-client.ts used here. The module is loaded by a computed
 * specifier: its WebCrypto calls are typed for workerd, and this directory's tsconfig (Node's
 * types) would reject them if tsc followed the import; at run time it is the same module.
 */
interface EnvelopeClient {
  call<T = unknown>(method: string, path: string, payload?: unknown, opts?: { plain?: boolean }): Promise<{ status: number; ok: boolean; data: T; signatureValid?: boolean }>;
}
type EnvelopeClientClass = new (opts: { baseUrl: string; licenseKey: string; privateKey?: string; publicKey?: string; appid?: string; fetch?: typeof fetch }) => EnvelopeClient;
const CLIENT_MODULE = new URL("../../src/client/authn-client.ts", import.meta.url).href;
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;

beforeAll(async () => {
  [w, browser, rp] = await Promise.all([startWorker(), launchBrowser(), startLoopbackCallback()]);
  const a = w.demo.authn as { licenseKey: string; privateKey?: string; publicKey?: string };
  const { AuthnClient } = (await import(CLIENT_MODULE)) as { AuthnClient: EnvelopeClientClass };
  authn = new AuthnClient({ baseUrl: w.url, licenseKey: a.licenseKey, ...(a.privateKey && a.publicKey ? { privateKey: a.privateKey, publicKey: a.publicKey } : {}), appid: "adaptive-login-e2e" });
  office = new AuthnClient({
    baseUrl: w.url,
    licenseKey: a.licenseKey,
    ...(a.privateKey && a.publicKey ? { privateKey: a.privateKey, publicKey: a.publicKey } : {}),
    appid: "adaptive-login-e2e",
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), "x-forwarded-for": "10.1.2.3" } }),
  });
  community = `/tenant/${encodeURIComponent(w.demo.tenantId)}/community/${encodeURIComponent(w.demo.communityId)}`;
  const publicClient = w.demo.oidc.clients[1] as DemoOidcClient;
  native = await oidc.discovery(new URL(w.demo.oidc.issuer), publicClient.client_id, {}, oidc.None(), allowHttp);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await rp?.close();
  await w?.stop();
});

type Granted = { user: { username: string }; proof_of_authentication_jwt: string };
type NeedMfa = { user_token: string; next: { step: string; allowed_factors: string[]; idps: string[] } };

const password = (username: string, pw: string, jwt?: string) =>
  authn.call<Granted & NeedMfa>("POST", `/authn${community}/authenticate`, { credentials: { username, password: pw }, ...(jwt ? { jwt } : {}) });

async function putJourney(body: Record<string, unknown>): Promise<string> {
  const r = await authn.call<{ id?: string; _id?: string }>("PUT", `/authn/v2${community}/authenticationJourney`, body);
  if (r.status !== 200) throw new Error(`PUT v2 authenticationJourney: ${r.status} ${JSON.stringify(r.data).slice(0, 400)}`);
  return String(r.data.id ?? r.data._id ?? "");
}

describe("adaptive login: Authn API and hosted login ask the policy", () => {
  it("a local wrangler dev request's IP is 127.0.0.1 (CF-Connecting-IP set by miniflare); without journeys a password login is granted as before", async () => {
    const r = await password(w.demo.user.username, w.demo.user.password);
    expect(r.status).toBe(200);
    expect(r.signatureValid).toBe(true);
    expect(r.data.user.username).toBe(w.demo.user.username);
    expect(decode(r.data.proof_of_authentication_jwt)).toMatchObject({ ip: "127.0.0.1", amr: ["pwd"] });
  });

  it("journeys written through the Authn API: outside the office range needs the code, alice is denied", async () => {
    journeyIds.outside = await putJourney({ name: "outside the office", enabled: true, ip: { value: "10.0.0.0/8", operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_otp"] } });
    journeyIds.alice = await putJourney({ name: "no alice", enabled: true, usernames: { value: [w.demo.user.username], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } });
  });

  it("Authn authenticate with the password answers need_mfa with otp; the step-up with a TOTP code gives the proof", async () => {
    const bob = w.demo.totpUser;
    const first = await password(bob.username, bob.password);
    expect(first.status).toBe(200);
    expect(first.signatureValid).toBe(true);
    expect(first.data.next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
    expect(first.data).not.toHaveProperty("proof_of_authentication_jwt");
    expect(first.data).not.toHaveProperty("user");

    // The pending login is not a proof: the verify endpoint refuses it.
    const verify = await fetch(`${w.url}/authn/jwt/verifyToken`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: first.data.user_token }) });
    expect(verify.status).toBe(401);

    // The code comes from otpauth (npm), an RFC 6238 implementation nobody here wrote.
    const code = new TOTP({ secret: Secret.fromBase32(bob.totpSecret), algorithm: "SHA1", digits: 6, period: 30 }).generate({ timestamp: Date.now() });
    const up = await authn.call<Granted>("POST", `/authn${community}/authenticate`, { credentials: { username: bob.username, otp: code }, jwt: first.data.user_token });
    expect(up.status).toBe(200);
    expect(up.data.user.username).toBe(bob.username);
    expect(decode(up.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["pwd", "otp"], aal: 2, ip: "127.0.0.1" });

    // The same code again, in a fresh login's step-up: a TOTP code is single use (per step).
    const again = await password(bob.username, bob.password);
    expect(again.data.next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
    const replay = await authn.call<Granted>("POST", `/authn${community}/authenticate`, { credentials: { username: bob.username, otp: code }, jwt: again.data.user_token });
    expect(replay.status).toBe(401);
  });

  it("Authn authenticate for the denied user: 403 {statusCode, error, message}", async () => {
    const r = await password(w.demo.user.username, w.demo.user.password);
    expect(r.status).toBe(403);
    expect(r.data).toEqual({ statusCode: 403, error: "Forbidden", message: "the authentication policy denied access" });
  });

  it("the hosted login in Chromium asks for the TOTP code before it lets the user through; the ID token says pwd+otp", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const bob = w.demo.totpUser;
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(native, { redirect_uri: rp.redirectUri, scope: "openid", code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", state, nonce });
      const { callback, seen } = await signInThrough(page, url, rp.redirectUri, {
        login: { username: bob.username, password: bob.password },
        // A code of the next step: the Authn step-up above used this step's.
        otp: () => totpCode(bob.totpSecret, Date.now(), 1),
      });
      expect(seen).toEqual(["login", "totp"]);
      const tokens = await oidc.authorizationCodeGrant(native, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      expect(tokens.claims()!.amr).toEqual(["pwd", "otp"]);
    } finally {
      await ctx.close();
    }
  });

  it("the hosted login for the denied user ends on a clear page: 403, no session", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const url = oidc.buildAuthorizationUrl(native, { redirect_uri: rp.redirectUri, scope: "openid", code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: "S256", state: oidc.randomState() });
      await page.goto(String(url));
      expect(await hostedPage(page)).toBe("login");
      await page.getByLabel("Username", { exact: true }).fill(w.demo.user.username);
      await page.getByLabel("Password", { exact: true }).fill(w.demo.user.password);
      const [answer] = await Promise.all([page.waitForResponse((res) => res.request().method() === "POST" && res.url().endsWith("/login")), page.getByRole("button", { name: "Sign in", exact: true }).click()]);
      expect(answer.status()).toBe(403);
      await page.waitForLoadState("load");
      await expect(page.getByRole("heading", { level: 1 }).innerText()).resolves.toBe("Sign-in not allowed");
      expect(await page.locator("body").innerText()).toContain("Your organisation's sign-in policy does not allow this sign-in");
      expect(page.url().startsWith(rp.redirectUri)).toBe(false);
      const cookies = await ctx.cookies();
      expect(cookies.some((c) => c.name.includes("sso"))).toBe(false);
    } finally {
      await ctx.close();
    }
  });
});

/**
 * The policy asked directly, as the document shows it: plain JSON bodies with the licensed
 * headers (seed 004 "Auth Policy", "Auth Policy V2"), against the journeys written above.
 */
describe("auth_policy over HTTP, plain bodies", () => {
  type Evaluated = { next: { step: string; allowed_factors: string[]; idps: string[] }; proof_of_authentication_jwt?: string; signature_token?: string };
  const evaluate = (version: "" | "/v2", body: Record<string, unknown>) => authn.call<Evaluated>("POST", `/authn${version}${community}/auth_policy/evaluate`, body, { plain: true });

  it("v2 evaluate: a login from outside the office needs otp; alice is denied; inside the office the default grants", async () => {
    const bob = w.demo.totpUser;
    const outside = await evaluate("/v2", { facts: { IP: "203.0.113.7", username: bob.username, authenticationMethods: ["password"] }, enforceFallbackPolicy: true });
    expect(outside.status).toBe(200);
    expect(outside.data.next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
    expect(typeof outside.data.signature_token).toBe("string");
    expect(outside.data).not.toHaveProperty("proof_of_authentication_jwt");
    const done = await evaluate("/v2", { facts: { IP: "203.0.113.7", username: bob.username, authenticationMethods: ["password", "otp"] }, enforceFallbackPolicy: true });
    expect(done.data.next.step).toBe("grant_access");
    expect(done.data).not.toHaveProperty("proof_of_authentication_jwt"); // facts are the caller's word: no proof without a jwt
    expect((await evaluate("/v2", { facts: { IP: "10.1.2.3", username: w.demo.user.username } })).data.next.step).toBe("deny_access");
    expect((await evaluate("/v2", { facts: { IP: "10.1.2.3", username: bob.username } })).data.next).toEqual({ step: "grant_access", allowed_factors: [], idps: [] });
  });

  it("v2 evaluate with a proof: its amr decides, and a grant answers a fresh proof for that user", async () => {
    const bob = w.demo.totpUser;
    // A login from inside the office (a service's forwarded client IP) is granted on the password alone.
    const login = await office.call<Granted>("POST", `/authn${community}/authenticate`, { credentials: { username: bob.username, password: bob.password } });
    expect(login.status).toBe(200);
    const jwt = login.data.proof_of_authentication_jwt;
    expect(decode(jwt)).toMatchObject({ amr: ["pwd"], ip: "10.1.2.3" });
    // The caller's asserted methods do not count against the proof's amr.
    const outside = await evaluate("/v2", { facts: { IP: "203.0.113.7", authenticationMethods: ["password", "otp"] }, jwt });
    expect(outside.data.next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
    const inside = await evaluate("/v2", { facts: { IP: "10.1.2.3" }, jwt });
    expect(inside.data.next.step).toBe("grant_access");
    expect(decode(inside.data.proof_of_authentication_jwt!)).toMatchObject({ sub: decode(jwt).sub, amr: ["pwd"] });
    expect((await evaluate("/v2", { facts: {}, jwt: `${jwt.split(".").slice(0, 2).join(".")}.forged` })).status).toBe(401);
  });

  it("v1 evaluate sees only v1 journeys (none here: the default); auth_schemes lists the matching v2 journeys in precedence order", async () => {
    const v1 = await evaluate("", { facts: { IP: "203.0.113.7", username: w.demo.user.username }, enforceFallbackPolicy: true });
    expect(v1.status).toBe(200);
    expect(v1.data.next).toEqual({ step: "grant_access", allowed_factors: [], idps: [] });
    const schemes = await authn.call<{ schemes: { factors: string[]; authenticationJourneyV2Id: string; result: string }[] }>(
      "POST",
      `/authn/v2${community}/auth_policy/auth_schemes`,
      { facts: { IP: "203.0.113.7", username: w.demo.user.username }, enforceFallbackPolicy: true },
      { plain: true },
    );
    expect(schemes.status).toBe(200);
    expect(schemes.data.schemes).toEqual([
      { factors: [], authenticationJourneyV2Id: journeyIds.alice, result: "deny_access" },
      { factors: ["password", "otp"], authenticationJourneyV2Id: journeyIds.outside, result: "mfa_required" },
    ]);
  });
});
