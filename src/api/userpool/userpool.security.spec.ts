import { SELF } from "cloudflare:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../test/helpers/http";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { verifyAccessToken } from "../../core/sessions/tokens";
import { accessClaims, claimsOf, loginTokens, post, scopeOf, signWithDeploymentKey } from "./testing";

/**
 * Hostile input on every userpool route: malformed and oversized bodies, wrong types, and
 * every kind of forged or misplaced token. Nothing may yield a 5xx, leak a stack trace or
 * change stored state; every error is `{message, status}`.
 */
const ROUTES = ["login", "token-refresh", "token-revoke", "forgot-password", "forgot-password-confirm", "change-password", "new-password-required"];
const NEW_PASSWORD = "a brand new passphrase 42";

let t: TestTenant;
let other: TestTenant;
beforeAll(async () => {
  t = await createTestTenant({ mailPerHour: 1000 });
  other = await createTestTenant();
});

async function raw(path: string, body: string | undefined, headers: Record<string, string> = { "content-type": "application/json" }) {
  const res = await call("POST", `/v1/${path}`, body, { host: t.host, headers });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

function expectShape(r: { status: number; text: string }, status: number) {
  expect(r.status).toBe(status);
  expect(JSON.parse(r.text)).toEqual({ message: expect.any(String), status });
  expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
}

/** change-password with `token` as the access token: the route that authenticates with one. */
const useAsAccess = (token: string) => post(t, "change-password", { access_token: token, previous_password: PASSWORD, proposed_password: NEW_PASSWORD });

describe("malformed and oversized bodies on every route", () => {
  it.each(ROUTES)("%s: malformed JSON is 400", async (route) => {
    expectShape(await raw(route, '{"username": "alice", "password": '), 400);
    expectShape(await raw(route, "not json at all"), 400);
    expectShape(await raw(route, ""), 400);
  });

  it.each(ROUTES)("%s: a JSON value that is not an object is 400", async (route) => {
    for (const body of ["null", "[]", '"alice"', "42", "true"]) expectShape(await raw(route, body), 400);
  });

  it.each(ROUTES)("%s: wrong types are 400", async (route) => {
    const fields = ["username", "password", "refresh_token", "confirmation_code", "access_token", "previous_password", "proposed_password", "session", "new_password"];
    for (const v of [42, true, null, ["alice"], { a: 1 }]) {
      expectShape(await raw(route, JSON.stringify(Object.fromEntries(fields.map((f) => [f, v])))), 400);
    }
  });

  it.each(ROUTES)("%s: a 1 MB body is 413", async (route) => {
    expectShape(await raw(route, JSON.stringify({ username: "alice", password: "x".repeat(1024 * 1024) })), 413);
  });

  it.each(ROUTES)("%s: a body that is not JSON is refused without a 5xx", async (route) => {
    const r = await raw(route, "username=alice&password=x", { "content-type": "application/x-www-form-urlencoded" });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expectShape(r, r.status);
  });

  it.each(ROUTES)("%s: over-long fields are 400, not a crash", async (route) => {
    const long = "x".repeat(5000);
    const body = { username: long, password: long, refresh_token: long, confirmation_code: long, access_token: long + long, previous_password: long, proposed_password: long, session: long, new_password: long };
    expectShape(await raw(route, JSON.stringify(body)), 400);
  });

  it("a GET on a POST route is a 404 in JSON, not a 5xx", async () => {
    const res = await SELF.fetch(`http://${t.host}/v1/login`, { headers: { host: t.host } });
    expect(res.status).toBe(404);
  });

  it("a request for a host bound to no tenant is refused in the API's shape", async () => {
    const res = await call("POST", "/v1/login", { username: "alice", password: PASSWORD }, { host: "unbound.example.test" });
    expect(res.status).toBeLessThan(500);
    expect(await res.json()).toEqual({ message: expect.any(String), status: res.status });
  });

  it("odd but valid strings (unicode, control characters) never yield a 5xx", async () => {
    for (const s of ["\u0000", "\uD800", "💥".repeat(100), "' OR 1=1 --", "../../etc/passwd", "%00", "\r\nX-Injected: 1"]) {
      for (const route of ROUTES) {
        const body = { username: s, password: s, refresh_token: s, confirmation_code: s, access_token: s, previous_password: s, proposed_password: s, session: s, new_password: s };
        const r = await raw(route, JSON.stringify(body));
        expect(r.status, `${route} ${JSON.stringify(s)}`).toBeLessThan(500);
      }
    }
  });
});

describe("forged and misplaced tokens used as an access token", () => {
  let session: { access_token: string; id_token: string; refresh_token: string };
  let sid: string;
  beforeAll(async () => {
    session = await loginTokens(t, "alice", PASSWORD);
    sid = claimsOf(session.access_token).sid as string;
  });

  async function expectRefused(token: string) {
    const r = await useAsAccess(token);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ message: expect.any(String), status: 401 });
    await expect(verifyAccessToken(services(), await scopeOf(t), token)).rejects.toMatchObject({ code: expect.stringMatching(/^(invalid_token|token_revoked)$/) });
  }

  it("a genuine access token is accepted by verification (the control)", async () => {
    await expect(verifyAccessToken(services(), await scopeOf(t), session.access_token)).resolves.toMatchObject({ sub: t.alice.uid, sid });
  });

  it("alg: none", async () => {
    const token = new UnsecuredJWT(accessClaims(t, t.alice.uid, sid)).encode();
    await expectRefused(token);
    // Also with the genuine token's header altered to none and its signature stripped.
    const [, payload] = session.access_token.split(".");
    const header = btoa(JSON.stringify({ alg: "none", typ: "at+jwt" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await expectRefused(`${header}.${payload}.`);
  });

  it("HS256 signed with the published public key", async () => {
    const jwks = (await (await SELF.fetch(`http://${t.host}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };
    const kid = claimsOf(session.access_token) && (JSON.parse(atob(session.access_token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { kid: string }).kid;
    const jwk = jwks.keys.find((k) => k.kid === kid)!;
    expect(jwk).toBeDefined();
    const secrets = [new TextEncoder().encode(JSON.stringify(jwk)), new TextEncoder().encode(jwk.x! + jwk.y!)];
    for (const secret of secrets) {
      const token = await new SignJWT(accessClaims(t, t.alice.uid, sid)).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid }).sign(secret);
      await expectRefused(token);
    }
  });

  it("no exp", async () => {
    const { exp: _exp, ...claims } = accessClaims(t, t.alice.uid, sid);
    await expectRefused(await signWithDeploymentKey(claims));
  });

  it("expired", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await signWithDeploymentKey({ ...accessClaims(t, t.alice.uid, sid, now - 7200), exp: now - 3600 }));
  });

  it("issued an hour ahead (iat beyond the allowed clock skew), on a live session", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await signWithDeploymentKey(accessClaims(t, t.alice.uid, sid, now + 3600)));
  });

  it("wrong iss", async () => {
    await expectRefused(await signWithDeploymentKey({ ...accessClaims(t, t.alice.uid, sid), iss: "https://evil.example" }));
  });

  it("wrong aud", async () => {
    await expectRefused(await signWithDeploymentKey({ ...accessClaims(t, t.alice.uid, sid), aud: other.tenant.id }));
  });

  it("unknown kid", async () => {
    await expectRefused(await signWithDeploymentKey(accessClaims(t, t.alice.uid, sid), { kid: crypto.randomUUID() }));
    // A token with no kid at all.
    const { key } = await services().keyring.signingKey();
    await expectRefused(await new SignJWT(accessClaims(t, t.alice.uid, sid)).setProtectedHeader({ alg: "ES256", typ: "at+jwt" }).sign(key));
  });

  it("a signed token with the wrong typ or token_use", async () => {
    await expectRefused(await signWithDeploymentKey(accessClaims(t, t.alice.uid, sid), { typ: "JWT" }));
    await expectRefused(await signWithDeploymentKey({ ...accessClaims(t, t.alice.uid, sid), token_use: "id" }));
  });

  it("a tampered payload under a genuine signature", async () => {
    const [h, , s] = session.access_token.split(".");
    const forged = btoa(JSON.stringify({ ...claimsOf(session.access_token), sub: t.admin.uid })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    await expectRefused(`${h}.${forged}.${s}`);
  });

  it("an ID token", async () => {
    await expectRefused(session.id_token);
  });

  it("a refresh token and a NEW_PASSWORD_REQUIRED challenge session", async () => {
    await expectRefused(session.refresh_token);
    const challenge = await post(t, "login", { username: "newbie", password: PASSWORD });
    await expectRefused(challenge.body.session as string);
  });

  it("an access token of another tenant", async () => {
    const foreign = await loginTokens(other, "alice", PASSWORD);
    await expectRefused(foreign.access_token);
  });

  it("none of the refused tokens changed the password", async () => {
    expect((await post(t, "login", { username: "alice", password: PASSWORD })).status).toBe(200);
  });
});

describe("tokens and sessions of another tenant", () => {
  it("another tenant's refresh token is unknown here and revoking it here does nothing", async () => {
    const foreign = await loginTokens(other, "alice", PASSWORD);
    const r = await post(t, "token-refresh", { username: "alice", refresh_token: foreign.refresh_token });
    expect(r.status).toBe(400);
    expect((await post(t, "token-revoke", { refresh_token: foreign.refresh_token })).status).toBe(200);
    // Still alive in its own tenant.
    expect((await post(other, "token-refresh", { username: "alice", refresh_token: foreign.refresh_token })).status).toBe(200);
    await expect(verifyAccessToken(services(), await scopeOf(other), foreign.access_token)).resolves.toBeDefined();
  });

  it("another tenant's challenge session is refused here and still works there", async () => {
    const challenge = await post(other, "login", { username: "newbie", password: PASSWORD });
    const session = challenge.body.session as string;
    expect((await post(t, "new-password-required", { session, username: "newbie", new_password: NEW_PASSWORD })).status).toBe(400);
    expect((await post(other, "new-password-required", { session, username: "newbie", new_password: NEW_PASSWORD })).status).toBe(200);
  });

  it("an access token used as a refresh token or challenge session is refused", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    expect((await post(t, "token-refresh", { username: "alice", refresh_token: s.access_token })).status).toBe(400);
    expect((await post(t, "new-password-required", { session: s.access_token, username: "alice", new_password: NEW_PASSWORD })).status).toBe(400);
    expect((await post(t, "token-refresh", { username: "alice", refresh_token: s.id_token })).status).toBe(400);
  });
});
