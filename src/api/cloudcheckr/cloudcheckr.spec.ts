import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { callJson, call } from "../../../test/helpers/http";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

const form = (username: string, password: string) => new URLSearchParams({ username, password });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function login(app = "", username = "alice", password = PASSWORD) {
  return callJson<{ access_token: string; token_type: string; expires_in: number; state?: unknown }>("POST", `/v1/auth/token?app=${app}`, form(username, password), { host: t.host });
}

describe("POST /v1/auth/token", () => {
  it("returns a bearer JWT for a correct username and password (form body)", async () => {
    const r = await login();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "bearer", expires_in: 86400 });
    expect(r.body).not.toHaveProperty("state");
    const claims = decodeJwt(r.body.access_token);
    expect(claims.sub).toBe(t.alice.uid);
    expect(claims.username).toBe("alice");
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  it("accepts multipart/form-data too, and compares the username in lower case", async () => {
    const fd = new FormData();
    fd.set("username", "ALICE");
    fd.set("password", PASSWORD);
    const { SELF } = await import("cloudflare:test");
    const res = await SELF.fetch(`http://${t.host}/v1/auth/token`, { method: "POST", headers: { host: t.host }, body: fd });
    expect(res.status).toBe(200);
  });

  it("answers 401 invalid_credentials alike for a wrong password and an unknown user", async () => {
    const wrong = await login("", "alice", "not the password at all");
    const unknown = await login("", "nobody-here", "not the password at all");
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: "invalid_credentials", message: "incorrect username or password" });
    }
  });

  it("answers 422 with per-field errors for a missing field", async () => {
    const r = await callJson("POST", "/v1/auth/token", new URLSearchParams({ username: "alice" }), { host: t.host });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error: "validation_failed", errors: { password: [expect.any(String)] } });
  });

  it("refuses a user who must change the password with 403 password_reset_required", async () => {
    const r = await login("", "newbie");
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: "password_reset_required" });
  });

  it("refuses a disabled user with 403 user_disabled", async () => {
    const svc = services();
    const u = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "gone", passwordHash: t.alice.passwordHash, disabled: true });
    const r = await login("", u.username);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: "user_disabled" });
  });

  it("with an empty app parameter returns no state; with glass or lens returns the saved state or null", async () => {
    expect((await login("")).body).not.toHaveProperty("state");
    const glass = await login("glass");
    expect(glass.status).toBe(200);
    expect(glass.body.state).toBeNull();
    const lens = await login("lens");
    expect(lens.body.state).toBeNull();
  });

  it("answers 422 for an app other than glass or lens, before checking credentials", async () => {
    const r = await login("mirror");
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error: "validation_failed", errors: { app: ["app must be empty, glass or lens"] } });
  });
});

describe("app state (extension: GET/PUT /v1/auth/state?app=)", () => {
  it("saves per user and app, and the token routes return it", async () => {
    const { body } = await login();
    const token = body.access_token;
    const put = await callJson("PUT", "/v1/auth/state?app=glass", { state: { dashboard: "costs", n: 3 } }, { host: t.host, headers: bearer(token) });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ app: "glass", state: { dashboard: "costs", n: 3 } });
    expect(typeof put.body.updated_at).toBe("string");

    const get = await callJson("GET", "/v1/auth/state?app=glass", undefined, { host: t.host, headers: bearer(token) });
    expect(get.body).toMatchObject({ app: "glass", state: { dashboard: "costs", n: 3 } });
    const lens = await callJson("GET", "/v1/auth/state?app=lens", undefined, { host: t.host, headers: bearer(token) });
    expect(lens.body).toEqual({ app: "lens", state: null, updated_at: null });

    expect((await login("glass")).body.state).toEqual({ dashboard: "costs", n: 3 });
    expect((await login("lens")).body.state).toBeNull();
    // Another user sees none of alice's state.
    expect((await login("glass", "admin")).body.state).toBeNull();

    const patched = await callJson<{ state: unknown }>("PATCH", "/v1/auth/token?app=glass", undefined, { host: t.host, headers: bearer(token) });
    expect(patched.status).toBe(200);
    expect(patched.body.state).toEqual({ dashboard: "costs", n: 3 });

    // A save replaces the whole state.
    await callJson("PUT", "/v1/auth/state?app=glass", { state: { dashboard: "savings" } }, { host: t.host, headers: bearer(token) });
    expect((await login("glass")).body.state).toEqual({ dashboard: "savings" });
  });

  it("refuses a state that is not an object or is larger than 16 KB, and changes nothing", async () => {
    const token = (await login("", "admin")).body.access_token;
    const h = { host: t.host, headers: bearer(token) };
    for (const state of [[1, 2], "text", null, 5]) {
      const r = await callJson("PUT", "/v1/auth/state?app=lens", { state }, h);
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ error: "validation_failed", errors: { state: [expect.any(String)] } });
    }
    const big = await callJson("PUT", "/v1/auth/state?app=lens", { state: { blob: "x".repeat(17 * 1024) } }, h);
    expect(big.status).toBe(422);
    expect(big.body).toMatchObject({ errors: { state: ["state must be at most 16384 bytes of JSON"] } });
    const get = await callJson("GET", "/v1/auth/state?app=lens", undefined, h);
    expect(get.body).toMatchObject({ state: null });
  });

  it("answers a signed x-d1-bookmark, and a read that sends it back sees the write (read-your-writes, opt-in)", async () => {
    const token = (await login()).body.access_token;
    const put = await callJson("PUT", "/v1/auth/state?app=lens", { state: { step: 1 } }, { host: t.host, headers: bearer(token) });
    expect(put.status).toBe(200);
    const mark = put.headers.get("x-d1-bookmark");
    expect(mark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    const get = await callJson("GET", "/v1/auth/state?app=lens", undefined, { host: t.host, headers: { ...bearer(token), "x-d1-bookmark": mark! } });
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({ state: { step: 1 } });
    // The read's own bookmark is at least as new as the write's.
    const next = get.headers.get("x-d1-bookmark")!;
    expect(next.split(".")[0]! >= mark!.split(".")[0]!).toBe(true);
  });

  it("ignores a malformed, unsigned or forged x-d1-bookmark (the read goes to the primary), never a 5xx", async () => {
    const token = (await login()).body.access_token;
    await callJson("PUT", "/v1/auth/state?app=glass", { state: { mark: "ignored" } }, { host: t.host, headers: bearer(token) });
    const raw = "ffffffff-ffffffff-ffffffff-ffffffffffffffffffffffffffffffff";
    for (const mark of ["junk", raw, `${raw}.1.${"A".repeat(43)}`, "x".repeat(4000), "'; DROP TABLE app_states; --"]) {
      const r = await callJson("GET", "/v1/auth/state?app=glass", undefined, { host: t.host, headers: { ...bearer(token), "x-d1-bookmark": mark } });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ state: { mark: "ignored" } });
    }
  });

  it("needs a valid bearer token and a known app", async () => {
    const none = await callJson("GET", "/v1/auth/state?app=glass", undefined, { host: t.host });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const token = (await login()).body.access_token;
    const noApp = await callJson("GET", "/v1/auth/state", undefined, { host: t.host, headers: bearer(token) });
    expect(noApp.status).toBe(422);
    expect(noApp.body).toMatchObject({ errors: { app: [expect.any(String)] } });
  });
});

describe("PATCH /v1/auth/token", () => {
  it("returns a new token of the same session with a later expiry", async () => {
    const first = (await login()).body.access_token;
    const c1 = decodeJwt(first);
    await new Promise((r) => setTimeout(r, 1100));
    const r = await callJson<{ access_token: string; expires_in: number; token_type: string }>("PATCH", "/v1/auth/token?app=", undefined, { host: t.host, headers: bearer(first) });
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe("bearer");
    expect(r.body).not.toHaveProperty("state");
    const c2 = decodeJwt(r.body.access_token);
    expect(c2.sid).toBe(c1.sid);
    expect(c2.sub).toBe(c1.sub);
    expect(c2.exp!).toBeGreaterThan(c1.exp!);
    expect(c2.jti).not.toBe(c1.jti);
    // The new token works in turn.
    const again = await callJson("PATCH", "/v1/auth/token", undefined, { host: t.host, headers: bearer(r.body.access_token) });
    expect(again.status).toBe(200);
  });

  it("ignores a form body, as the document's example sends one (empty)", async () => {
    const token = (await login()).body.access_token;
    const res = await call("PATCH", "/v1/auth/token?app=", "", { host: t.host, headers: { ...bearer(token), "content-type": "application/x-www-form-urlencoded" } });
    expect(res.status).toBe(200);
  });

  it("never extends a session past the tenant's sessionMaxAgeSeconds", async () => {
    const short = await createTestTenant({ accessTokenTtlSeconds: 3600, sessionMaxAgeSeconds: 120 });
    const l = await callJson<{ access_token: string }>("POST", "/v1/auth/token", form("alice", PASSWORD), { host: short.host });
    const c1 = decodeJwt(l.body.access_token);
    const r = await callJson<{ access_token: string; expires_in: number }>("PATCH", "/v1/auth/token", undefined, { host: short.host, headers: bearer(l.body.access_token) });
    expect(r.status).toBe(200);
    expect(r.body.expires_in).toBeLessThanOrEqual(120);
    expect(decodeJwt(r.body.access_token).exp!).toBeLessThanOrEqual(c1.iat! + 121);
  });

  it("shares Sentinel's bearer session: terms-pending claims while the tenant's terms are not accepted", async () => {
    const tc = await createTestTenant({ termsAndConditions: { version: "2026-01" } });
    const l = await callJson<{ access_token: string }>("POST", "/v1/auth/token", form("alice", PASSWORD), { host: tc.host });
    expect(decodeJwt(l.body.access_token)).toMatchObject({ tc_pending: true, tc_version: "2026-01" });
    await services().users.update(tc.tenant.id, tc.alice.uid, { tcAcceptedVersion: "2026-01", tcAcceptedAt: Date.now() });
    const r = await callJson<{ access_token: string }>("PATCH", "/v1/auth/token", undefined, { host: tc.host, headers: bearer(l.body.access_token) });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.body.access_token)).not.toHaveProperty("tc_pending");
  });

  it("refuses a token whose session was revoked", async () => {
    const token = (await login("", "admin")).body.access_token;
    const svc = services();
    await svc.authority.revokeAll(t.tenant.id, t.admin.uid, "test");
    const r = await callJson("PATCH", "/v1/auth/token", undefined, { host: t.host, headers: bearer(token) });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: "token_revoked" });
  });

  it("answers 401 invalid_token without a bearer token", async () => {
    const r = await callJson("PATCH", "/v1/auth/token", undefined, { host: t.host });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: "invalid_token" });
  });
});

describe("GET /v1/auth/ping and the rest", () => {
  it("answers pong", async () => {
    const res = await call("GET", "/v1/auth/ping", undefined, { host: t.host });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("pong");
  });

  it("needs no tenant for ping", async () => {
    const res = await call("GET", "/v1/auth/ping", undefined, { host: "unbound.example" });
    expect(res.status).toBe(200);
  });

  it("answers an unbound host with 404 in the CloudCheckr shape", async () => {
    const r = await callJson("POST", "/v1/auth/token", form("alice", PASSWORD), { host: "unbound.example" });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: "tenant_not_found" });
  });

  it("answers 405 with Allow for a known path and a wrong method, 404 for unknown paths", async () => {
    const r = await callJson("GET", "/v1/auth/token", undefined, { host: t.host });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("POST, PATCH");
    expect(r.body).toMatchObject({ error: "method_not_allowed" });
    const nf = await callJson("GET", "/v1/auth/nothing", undefined, { host: t.host });
    expect(nf.status).toBe(404);
    expect(nf.body).toMatchObject({ error: "not_found" });
  });

  it("publishes its OpenAPI document", async () => {
    const r = await callJson<{ openapi: string; paths: Record<string, unknown> }>("GET", "/openapi/cloudcheckr.json", undefined, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
    expect(Object.keys(r.body.paths).sort()).toEqual(["/ping", "/resetpassword", "/saml/acs", "/saml/login", "/saml/logout", "/saml/metadata", "/saml/sls", "/state", "/token"]);
  });
});
