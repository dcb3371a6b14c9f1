import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { SELF } from "cloudflare:test";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { call, callJson } from "../../../test/helpers/http";
import { signJwt } from "../../crypto/jwt";
import { toBase64Url, utf8 } from "../../crypto/encoding";
import { mintResetToken } from "../../core/auth/reset-token";
import { issueSession } from "../../core/sessions/tokens";
import { parseTenantSettings, tenantIssuer } from "../../core/tenants/settings";
import type { Scope } from "../../core/context";

let t: TestTenant;
let other: TestTenant;
beforeAll(async () => {
  [t, other] = await Promise.all([createTestTenant(), createTestTenant()]);
});

const MB = "a".repeat(1024 * 1024);
const scopeOf = (x: TestTenant): Scope => ({ tenant: x.tenant, settings: parseTenantSettings(x.tenant.settings), community: x.community, ip: "203.0.113.7", userAgent: null });

async function token(x: TestTenant, username = "alice"): Promise<string> {
  const r = await callJson<{ access_token: string }>("POST", "/v1/auth/token", new URLSearchParams({ username, password: PASSWORD }), { host: x.host });
  expect(r.status).toBe(200);
  return r.body.access_token;
}

/** Every error is in the CloudCheckr shape and never a 5xx. */
function expectShape(r: { status: number; body: Record<string, unknown> }, status: number, error?: string) {
  expect(r.status).toBe(status);
  expect(typeof r.body.error).toBe("string");
  expect(typeof r.body.message).toBe("string");
  if (error) expect(r.body.error).toBe(error);
}

describe("oversized bodies", () => {
  it("refuses 1 MB on POST /v1/auth/token with 413 in the CloudCheckr shape (not the userpool's)", async () => {
    const r = await callJson("POST", "/v1/auth/token", new URLSearchParams({ username: "alice", password: MB }), { host: t.host });
    expectShape(r, 413, "payload_too_large");
    expect(r.body).not.toHaveProperty("status");
  });

  it("refuses 1 MB on every other body-carrying route too", async () => {
    const tok = await token(t);
    const h = { host: t.host, headers: { authorization: `Bearer ${tok}` } };
    expectShape(await callJson("PATCH", "/v1/auth/token", MB, { ...h, headers: { ...h.headers, "content-type": "application/x-www-form-urlencoded" } }), 413, "payload_too_large");
    expectShape(await callJson("PUT", "/v1/auth/state?app=glass", { state: { x: MB } }, h), 413, "payload_too_large");
    expectShape(await callJson("POST", "/v1/auth/resetpassword", { email_address: MB }, { host: t.host }), 413, "payload_too_large");
    expectShape(await callJson("PUT", "/v1/auth/resetpassword", { token: MB, username: "a", password: "b", password_confirmation: "b" }, { host: t.host }), 413, "payload_too_large");
  });

  it("refuses a 1 MB chunked body without Content-Length", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        for (let i = 0; i < 16; i++) ctrl.enqueue(utf8("x".repeat(64 * 1024)));
        ctrl.close();
      },
    });
    const res = await SELF.fetch(`http://${t.host}/v1/auth/token`, { method: "POST", headers: { host: t.host, "content-type": "application/x-www-form-urlencoded" }, body });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: "payload_too_large" });
  });
});

describe("malformed and mistyped input", () => {
  it("never answers 5xx, always in the documented shape", async () => {
    const cases: [string, string, string | undefined, string | undefined][] = [
      ["POST", "/v1/auth/token", "username=alice&password", "application/x-www-form-urlencoded"],
      ["POST", "/v1/auth/token", "%%%&&&===", "application/x-www-form-urlencoded"],
      ["POST", "/v1/auth/token", "username=a&username=b&password=c", "application/x-www-form-urlencoded"],
      ["POST", "/v1/auth/token", "username[]=a&password[]=b", "application/x-www-form-urlencoded"],
      ["POST", "/v1/auth/token", "--x\r\ngarbage", "multipart/form-data; boundary=x"],
      ["POST", "/v1/auth/token", "--nope", "multipart/form-data"],
      ["POST", "/v1/auth/token", '{"username":"alice","password":"x"}', "application/json"],
      ["POST", "/v1/auth/token", "username=alice", "text/plain"],
      ["POST", "/v1/auth/token", undefined, undefined],
      ["POST", "/v1/auth/token?app=glass&app=lens", `username=alice&password=${encodeURIComponent(PASSWORD)}`, "application/x-www-form-urlencoded"],
      ["POST", "/v1/auth/token", `username=${"u".repeat(300)}&password=x`, "application/x-www-form-urlencoded"],
      ["POST", "/v1/auth/token", "username=%00%01&password=%FF%FE", "application/x-www-form-urlencoded"],
      ["POST", "/v1/auth/resetpassword", "{", "application/json"],
      ["POST", "/v1/auth/resetpassword", "[]", "application/json"],
      ["POST", "/v1/auth/resetpassword", "null", "application/json"],
      ["POST", "/v1/auth/resetpassword", '"a@b.c"', "application/json"],
      ["POST", "/v1/auth/resetpassword", '{"email_address":["a@b.c"]}', "application/json"],
      ["POST", "/v1/auth/resetpassword", '{"email_address":{"$ne":""}}', "application/json"],
      ["POST", "/v1/auth/resetpassword", "email_address=a@b.c", "application/x-www-form-urlencoded"],
      ["PUT", "/v1/auth/resetpassword", "{]", "application/json"],
      ["PUT", "/v1/auth/resetpassword", '{"token":null,"username":null,"password":null,"password_confirmation":null}', "application/json"],
      ["PUT", "/v1/auth/resetpassword", '{"token":{},"username":[],"password":1,"password_confirmation":true}', "application/json"],
      ["PUT", "/v1/auth/resetpassword", '{"token":"' + "z".repeat(600) + '","username":"a","password":"b","password_confirmation":"b"}', "application/json"],
      ["PUT", "/v1/auth/state?app=glass", '{"state":1}', "application/json"],
      ["PATCH", "/v1/auth/token", "", "application/x-www-form-urlencoded"],
    ];
    for (const [method, path, body, type] of cases) {
      const res = await call(method, path, body, { host: t.host, headers: type ? { "content-type": type } : {} });
      const text = await res.text();
      expect(res.status, `${method} ${path} ${body?.slice(0, 40)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path} ${body?.slice(0, 40)}`).toBeLessThan(500);
      const json = JSON.parse(text) as Record<string, unknown>;
      expect(typeof json.error).toBe("string");
      expect(typeof json.message).toBe("string");
      expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
    }
  });

  it("answers a JSON body on the form login with 415", async () => {
    const r = await callJson("POST", "/v1/auth/token", { username: "alice", password: PASSWORD }, { host: t.host });
    expectShape(r, 415, "unsupported_media_type");
  });

  it("answers malformed JSON with 400 invalid_request", async () => {
    const r = await callJson("PUT", "/v1/auth/resetpassword", '{"token": ', { host: t.host, headers: { "content-type": "application/json" } });
    expectShape(r, 400, "invalid_request");
  });

  it("does not change state on refused input (no lockout from validation failures)", async () => {
    for (let i = 0; i < 5; i++) await callJson("POST", "/v1/auth/token", new URLSearchParams({ username: "admin" }), { host: t.host });
    expect(await services().limiter.failures(scopeOf(t), "login", "admin")).toBe(0);
  });
});

describe("hostile tokens on PATCH /v1/auth/token", () => {
  const patch = (x: TestTenant, tok: string) => callJson("PATCH", "/v1/auth/token", undefined, { host: x.host, headers: { authorization: `Bearer ${tok}` } });

  it("refuses alg none", async () => {
    const real = decodeJwt(await token(t));
    const header = toBase64Url(utf8(JSON.stringify({ alg: "none", typ: "at+jwt" })));
    const payload = toBase64Url(utf8(JSON.stringify({ ...real, exp: Math.floor(Date.now() / 1000) + 3600 })));
    expectShape(await patch(t, `${header}.${payload}.`), 401, "invalid_token");
  });

  it("refuses an expired token", async () => {
    const real = decodeJwt(await token(t));
    const { iss, sub, aud, exp, iat, jti, token_use, ...claims } = real;
    void exp, iat, jti, token_use;
    const svc = services();
    const expired = await signJwt(svc.keyring, claims, { kind: "access", issuer: iss!, audience: aud as string, subject: sub!, ttlSeconds: 60, now: Math.floor(Date.now() / 1000) - 3600 });
    const r = await patch(t, expired);
    expectShape(r, 401, "invalid_token");
    expect(r.body.message).toBe("token expired");
  });

  it("refuses another tenant's token", async () => {
    expectShape(await patch(t, await token(other)), 401, "invalid_token");
  });

  it("refuses a token of another kind (an ID token) and a tampered signature", async () => {
    const svc = services();
    const s = await issueSession(svc, scopeOf(t), { sub: t.alice.uid, communityId: t.community.id, username: "alice", roles: ["user"], user: t.alice }, { refresh: false, idToken: true });
    expectShape(await patch(t, s.idToken!), 401, "invalid_token");
    const good = await token(t);
    const tampered = good.slice(0, -4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA");
    expectShape(await patch(t, tampered), 401, "invalid_token");
  });

  it("refuses a token re-signed with escalated claims by a foreign key", async () => {
    const real = decodeJwt(await token(t));
    const kp = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const { SignJWT } = await import("jose");
    const forged = await new SignJWT({ ...real, roles: ["admin"] }).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "forged" }).sign(kp.privateKey);
    expectShape(await patch(t, forged), 401, "invalid_token");
  });

  it("refuses garbage and non-Bearer schemes", async () => {
    for (const h of ["Bearer", "Bearer ", "Bearer a.b", "Basic YWxpY2U6eA==", `Bearer ${"x".repeat(9000)}`, "Bearer \u00e9t\u00e9"]) {
      const r = await callJson("PATCH", "/v1/auth/token", undefined, { host: t.host, headers: { authorization: h } });
      expectShape(r, 401, "invalid_token");
    }
  });

  it("refuses to store app state for a non-user (client) session", async () => {
    const svc = services();
    const s = await issueSession(svc, scopeOf(t), { sub: `client:${t.client.clientId}`, communityId: t.community.id, username: t.client.clientId, roles: ["api"], clientId: t.client.clientId }, { refresh: false, idToken: false });
    const r = await callJson("PUT", "/v1/auth/state?app=glass", { state: { a: 1 } }, { host: t.host, headers: { authorization: `Bearer ${s.accessToken}` } });
    expectShape(r, 403, "forbidden");
    expect(tenantIssuer(t.tenant.id, parseTenantSettings(t.tenant.settings))).toContain(t.tenant.id);
  });
});

describe("racing one reset token", () => {
  it("lets exactly one of 10 concurrent resets succeed", async () => {
    const svc = services();
    const u = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "racer", email: `racer@${t.host}`, passwordHash: t.alice.passwordHash, passwordChangedAt: Date.now() - 1000 });
    const { token: rt } = await mintResetToken(svc, scopeOf(t), u);
    const passwords = Array.from({ length: 10 }, (_, i) => `racing passphrase number ${i}`);
    const results = await Promise.all(
      passwords.map((p) => callJson("PUT", "/v1/auth/resetpassword", { token: rt, username: "racer", password: p, password_confirmation: p }, { host: t.host })),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expectShape(r, 400, "token_used");
    const winner = passwords[results.findIndex((r) => r.status === 200)]!;
    const logins = await Promise.all(
      passwords.map((p) => callJson("POST", "/v1/auth/token", new URLSearchParams({ username: "racer", password: p }), { host: t.host })),
    );
    expect(logins.filter((l) => l.status === 200)).toHaveLength(1);
    expect(logins[passwords.indexOf(winner)]!.status).toBe(200);
  });
});
