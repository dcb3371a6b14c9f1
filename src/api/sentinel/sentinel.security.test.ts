import { beforeAll, describe, expect, it } from "vitest";
import { call, callJson } from "../../../test/helpers/http";
import { PASSWORD, services } from "../../../test/helpers/tenant";
import { bearer, createSentinelTenant, eventually, jwtPayload, sentinelLogin, type SentinelTenant, expectSentinelError as expectError, SENTINEL_ERROR_KEYS as ERROR_KEYS } from "../../../test/helpers/sentinel";
import { endAllSessions } from "../../core/sessions/tokens";
import { parseTenantSettings } from "../../core/tenants/settings";

let t: SentinelTenant;
let other: SentinelTenant;
beforeAll(async () => {
  [t, other] = await Promise.all([createSentinelTenant(), createSentinelTenant()]);
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}, host = t.host) => callJson("POST", `/v1.0/auth${path}`, body, { host, headers });
const get = (path: string, headers: Record<string, string> = {}, host = t.host) => callJson("GET", `/v1.0/auth${path}`, undefined, { host, headers });


/** Every bearer-protected route, with a body that would otherwise be valid. */
const PROTECTED: [string, string, unknown][] = [
  ["GET", "/refreshToken", undefined],
  ["POST", "/loginAs", { username: "alice" }],
  ["POST", "/setAssociatedAccountPassword", { username: "kid", password: "a long passphrase" }],
  ["POST", "/termsAndConditions", undefined],
  ["POST", "/acceptTermsAndConditions", { version: "1" }],
  ["GET", "/sso/connections", undefined],
  ["POST", "/sso/connections", { name: "x", type: "oidc", domains: ["x.example"], issuer: "https://idp.example", clientId: "c", redirectUris: ["https://app.example/cb"] }],
  ["GET", "/password", undefined],
  ["POST", "/password", { password: "a long passphrase" }],
];

describe("401 for missing, malformed, forged, foreign and revoked tokens", () => {
  it("refuses every protected route without a valid token, in the Sentinel error shape", async () => {
    const alice = await sentinelLogin(t, "alice");
    const [h, p] = alice.split(".");
    const forged = `${h}.${p}.${"A".repeat(86)}`;
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "at+jwt" })).replace(/=+$/, "")}.${p}.`;
    const foreign = await sentinelLogin(other, "alice");
    for (const [method, path, body] of PROTECTED) {
      for (const headers of [{}, { authorization: "Basic abc" }, { authorization: "Bearer not-a-jwt" }, bearer(forged), bearer(none), bearer(foreign)]) {
        const r = await callJson(method, `/v1.0/auth${path}`, body, { host: t.host, headers });
        expectError(r, 401);
        expect(r.body.path).toBe(`/v1.0/auth${path}`);
      }
    }
  });

  it("refuses a revoked token at once", async () => {
    const token = await sentinelLogin(t, "orgadmin");
    expect((await get("/refreshToken", bearer(token))).status).toBe(200);
    const svc = services();
    const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "127.0.0.1", userAgent: null };
    await endAllSessions(svc, scope, t.orgadmin.uid, "test");
    for (const [method, path, body] of PROTECTED.filter(([, p]) => !p.startsWith("/password"))) {
      const r = await callJson(method, `/v1.0/auth${path}`, body, { host: t.host, headers: bearer(token) });
      expectError(r, 401);
    }
    const r = await get("/refreshToken", bearer(token));
    expect(r.body.code).toBe("token_revoked");
    expect(r.headers.get("www-authenticate")).toContain("invalid_token");
  });
});

describe("role guards refuse lesser tokens with 403", () => {
  it("POST /loginAs needs LOGIN_AS (or SYSTEM_ADMIN)", async () => {
    for (const who of ["alice", "orgadmin", "admin"]) {
      const r = await post("/loginAs", { username: "alice" }, bearer(await sentinelLogin(t, who)));
      expectError(r, 403, "forbidden");
      expect(r.body.message).toContain("LOGIN_AS");
    }
  });

  it("POST /loginAs never reaches a more privileged user, another organisation, oneself, or an unknown user, and answers alike", async () => {
    const helpdesk = bearer(await sentinelLogin(t, "helpdesk"));
    const bodies = [];
    for (const body of [{ username: "orgadmin" }, { username: "sysadmin" }, { username: "bob", corpId: t.other.name }, { username: "helpdesk" }, { username: "no-such-user" }, { username: "alice", corpId: "NO-SUCH-CORP" }]) {
      const r = await post("/loginAs", body, helpdesk);
      expectError(r, 403, "forbidden");
      bodies.push(r.body.message);
    }
    expect(new Set(bodies).size).toBe(1);
    // An impersonator of the other organisation cannot reach this one.
    const otherDesk = bearer(await sentinelLogin(t, "otherdesk", t.other.name));
    expectError(await post("/loginAs", { username: "alice", corpId: t.community.name }, otherDesk), 403, "forbidden");
    expect((await post("/loginAs", { username: "bob" }, otherDesk)).status).toBe(200);
  });

  it("an impersonation token cannot start another impersonation, administer, accept terms or set passwords", async () => {
    const sys = bearer(await sentinelLogin(t, "sysadmin"));
    const r = await post("/loginAs", { username: "helpdesk" }, sys);
    expect(r.status).toBe(200);
    const imp = bearer(r.body.token as string);
    expect(jwtPayload(r.body.token as string).act).toMatchObject({ sub: t.sysadmin.uid });
    expectError(await post("/loginAs", { username: "alice" }, imp), 403, "forbidden");
    expectError(await get("/sso/connections", imp), 403, "forbidden");
    expectError(await post("/termsAndConditions", undefined, imp), 403, "forbidden");
    expectError(await post("/acceptTermsAndConditions", { version: "1" }, imp), 403, "forbidden");
    expectError(await post("/setAssociatedAccountPassword", { username: "kid", password: "a long passphrase" }, imp), 403, "forbidden");
    expectError(await get("/password", imp), 403, "forbidden");
    // Every use, refused ones included, is audited with both identities.
    const svc = services();
    const events = await eventually(async () => {
      const e = await svc.audit.list(t.tenant.id, { type: "impersonated_request", userId: t.impersonator.uid });
      return e.length >= 6 ? e : null;
    });
    expect(events.every((e) => e.actorId === t.sysadmin.uid)).toBe(true);
    expect(events.map((e) => (e.detail as { path: string }).path)).toContain("/v1.0/auth/password");
  });

  it("SSO connection administration needs SYSTEM_ADMIN", async () => {
    // Explicit endpoints: creation reads no discovery document (https://idp.example is not reachable here).
    const endpoints = { authorizationEndpoint: "https://idp.example/a", tokenEndpoint: "https://idp.example/t", jwksUri: "https://idp.example/j" };
    const body = { name: "x", type: "oidc", domains: [`${t.community.id}.example`], issuer: "https://idp.example", clientId: "c", redirectUris: ["https://app.example/cb"], ...endpoints };
    for (const who of ["alice", "orgadmin", "helpdesk", "admin"]) {
      const h = bearer(await sentinelLogin(t, who));
      expectError(await post("/sso/connections", body, h), 403, "forbidden");
      expectError(await get("/sso/connections", h), 403, "forbidden");
    }
    const sys = bearer(await sentinelLogin(t, "sysadmin"));
    const created = await post("/sso/connections", { ...body, clientSecret: "top-secret-value" }, sys);
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain("top-secret-value");
    expect(created.body.hasClientSecret).toBe(true);
    expectError(await post("/sso/connections", body, sys), 409, "conflict");
    const list = await get("/sso/connections", sys);
    expect(JSON.stringify(list.body)).not.toContain("top-secret-value");
  });

  it("GET and POST /password accept only a CHANGE_PASSWORD token: an access token gets 403", async () => {
    for (const who of ["alice", "sysadmin"]) {
      const h = bearer(await sentinelLogin(t, who));
      expectError(await get("/password", h), 403, "forbidden");
      expectError(await post("/password", { password: "a brand new passphrase" }, h), 403, "forbidden");
    }
    // Nothing changed: the old password still works.
    expect((await post("/token", { username: "alice", password: PASSWORD })).status).toBe(200);
  });
});

describe("reset tokens", () => {
  async function resetToken(tt: SentinelTenant, username: string): Promise<string> {
    // A user who must change the password gets a CHANGE_PASSWORD token from /token.
    const svc = services();
    const u = await svc.users.create({ tenantId: tt.tenant.id, communityId: tt.community.id, username, roles: ["USER"], mustChangePassword: true, passwordHash: tt.alice.passwordHash, passwordChangedAt: Date.now() - 10_000 });
    expect(u.mustChangePassword).toBe(true);
    const r = await callJson<{ token: string }>("POST", "/v1.0/auth/token", { username, password: PASSWORD }, { host: tt.host });
    return r.body.token;
  }

  it("are single use even under concurrent use", async () => {
    const token = await resetToken(t, "racer");
    const results = await Promise.all([1, 2, 3, 4].map((i) => post("/password", { password: `racing passphrase ${i}` }, bearer(token))));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expectError(r, 401, "invalid_token");
  });

  it("are not valid in another tenant, nor as access tokens", async () => {
    const token = await resetToken(t, "traveller");
    expectError(await get("/password", bearer(token), other.host), 401);
    expectError(await get("/refreshToken", bearer(token)), 401);
    expectError(await post("/loginAs", { username: "alice" }, bearer(token)), 401);
  });

  it("a weak password does not use the token up", async () => {
    const token = await resetToken(t, "weakling");
    expectError(await post("/password", { password: "123" }, bearer(token)), 400, "password_policy");
    expect((await post("/password", { password: "finally a good passphrase" }, bearer(token))).status).toBe(200);
  });
});

describe("hostile input", () => {
  it("malformed JSON, wrong types, missing fields and oversized bodies get 4xx in the Sentinel shape", async () => {
    const bad = await call("POST", "/v1.0/auth/token", "{not json", { host: t.host, headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(Object.keys((await bad.json()) as object).sort()).toEqual(ERROR_KEYS);
    expectError(await post("/token", { username: ["alice"], password: PASSWORD }), 400, "invalid_request");
    expectError(await post("/token", { username: "alice" }), 400, "invalid_request");
    expectError(await post("/token", { username: "a".repeat(300), password: PASSWORD }), 400, "invalid_request");
    expectError(await post("/passwordReset", {}), 400, "invalid_request");
    expectError(await post("/usernameRequest", { email: 42 }), 400, "invalid_request");
    expectError(await post("/sso/initiate", { email: "not-an-email" }), 400, "invalid_request");
    // The hook secret is checked before the body: this tenant configures none, so 401.
    expectError(await post("/enrichToken", "[]"), 401, "invalid_client");
    expectError(await post("/enrichToken", "[]", { "content-type": "application/json" }), 401, "invalid_client");
    const big = await call("POST", "/v1.0/auth/token", JSON.stringify({ username: "alice", password: "x".repeat(70_000) }), { host: t.host, headers: { "content-type": "application/json" } });
    expect(big.status).toBe(413);
    expectError(await post("/token", { username: "alice' OR 1=1 --", password: PASSWORD }), 401, "invalid_credentials");
  });

  it("an unconfigured Okta hook refuses every secret", async () => {
    expectError(await post("/enrichToken", { data: {} }, { authorization: "anything" }), 401, "invalid_client");
  });

  it("an unknown host is refused without a stack trace", async () => {
    const r = await callJson("POST", "/v1.0/auth/token", { username: "alice", password: PASSWORD }, { host: "unbound.example" });
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts/);
  });
});
