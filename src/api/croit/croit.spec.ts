import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { call, callJson } from "../../../test/helpers/http";
import { sha256Hex } from "../../crypto/hash";
import { hashPassword } from "../../crypto/password";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, joined by a colon, then base64. */
export function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  const bytes = new TextEncoder().encode(`${enc(id)}:${enc(secret)}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

const form = (o: Record<string, string>) => new URLSearchParams(o);

async function clientLogin(body: URLSearchParams | undefined = undefined, auth = basic(t.client.clientId, t.clientSecret)) {
  return callJson("POST", "/api/auth/login", body, { host: t.host, headers: { authorization: auth } });
}

async function passwordLogin(username: string, password: string) {
  return callJson("POST", "/api/auth/login-form", form({ grant_type: "password", username, password }), { host: t.host });
}

async function tokenInfo(token: string) {
  return callJson("GET", "/api/auth/token-info", undefined, { host: t.host, headers: { authorization: `Bearer ${token}` } });
}

describe("POST /api/auth/login (client credentials)", () => {
  it("issues a bearer token to a client authenticated with HTTP Basic", async () => {
    const r = await clientLogin(form({ grant_type: "client_credentials" }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "bearer", expires_in: 86400, roles: ["api"], passwordWasNeverChanged: false });
    expect(r.body.userId).toBeUndefined();
    expect(typeof r.body.access_token).toBe("string");
    expect(r.headers.get("cache-control")).toBe("no-store");
    const info = await tokenInfo(r.body.access_token as string);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ username: t.client.clientId, roles: ["api"] });
  });

  it("accepts a request without any body (grant_type is optional)", async () => {
    const r = await clientLogin();
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe("bearer");
  });

  it("treats an empty grant_type as omitted (RFC 6749 §3.2)", async () => {
    const r = await clientLogin(form({ grant_type: "" }));
    expect(r.status).toBe(200);
  });

  it("form-decodes the id and secret inside Basic (RFC 6749 §2.3.1)", async () => {
    const svc = services();
    const secret = "p+ss w%rd:with/üñí";
    const clientId = `${t.client.clientId}:odd id`;
    await svc.clients.create({ ...t.client, clientId, secretHash: await sha256Hex(secret) });
    const r = await clientLogin(undefined, basic(clientId, secret));
    expect(r.status).toBe(200);
  });

  it("acts as the client's API user when it has one", async () => {
    const svc = services();
    const secret = "api-user-secret-0123456789abcdef";
    const clientId = `${t.client.clientId}-as-admin`;
    await svc.clients.create({ ...t.client, clientId, secretHash: await sha256Hex(secret), userId: t.admin.id });
    const r = await clientLogin(undefined, basic(clientId, secret));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ userId: t.admin.id, roles: ["admin", "user"], passwordWasNeverChanged: false });
    const info = await tokenInfo(r.body.access_token as string);
    expect(info.body).toMatchObject({ username: "admin", roles: ["admin", "user"] });
  });

  it("answers unsupported_grant_type for another grant_type", async () => {
    const r = await clientLogin(form({ grant_type: "password" }));
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: "unsupported_grant_type", error_description: expect.any(String) });
  });

  it("answers invalid_client with a Basic challenge without credentials", async () => {
    const r = await callJson("POST", "/api/auth/login", form({ grant_type: "client_credentials" }), { host: t.host });
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: "invalid_client", error_description: expect.any(String) });
    expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm="/);
  });
});

describe("POST /api/auth/login-form (password grant)", () => {
  it("issues a token with the user's roles and integer id", async () => {
    const r = await passwordLogin("alice", PASSWORD);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "bearer", expires_in: 86400, roles: ["user"], userId: t.alice.id, passwordWasNeverChanged: false });
    const info = await tokenInfo(r.body.access_token as string);
    expect(info.body).toMatchObject({ username: "alice", roles: ["user"] });
  });

  it("compares the username case-insensitively and works without grant_type", async () => {
    const r = await callJson("POST", "/api/auth/login-form", form({ username: "ALICE", password: PASSWORD }), { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body.userId).toBe(t.alice.id);
  });

  it("reports passwordWasNeverChanged for a user whose password was never changed", async () => {
    const svc = services();
    const fresh = await svc.users.create({
      tenantId: t.tenant.id,
      communityId: t.community.id,
      username: "fresh",
      roles: ["viewer"],
      passwordHash: await hashPassword(PASSWORD, svc.config.passwordPepper),
      passwordChangedAt: null,
    });
    const r = await passwordLogin("fresh", PASSWORD);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ userId: fresh.id, roles: ["viewer"], passwordWasNeverChanged: true });
  });

  it("answers invalid_grant for a wrong password and for an unknown user alike", async () => {
    const wrong = await passwordLogin("alice", "not the password at all");
    const unknown = await passwordLogin("nobody-here", "not the password at all");
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: "invalid_grant", error_description: "incorrect username or password" });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
  });

  it("refuses a token to a user who must change their password (invalid_grant)", async () => {
    const r = await passwordLogin("newbie", PASSWORD);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: "invalid_grant", error_description: "the password must be changed before a token can be issued" });
  });

  it("answers unsupported_grant_type for another grant_type", async () => {
    const r = await callJson("POST", "/api/auth/login-form", form({ grant_type: "client_credentials", username: "alice", password: PASSWORD }), { host: t.host });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("unsupported_grant_type");
  });

  it("answers invalid_request when username or password is missing or empty", async () => {
    for (const body of [form({ grant_type: "password" }), form({ username: "alice" }), form({ username: "alice", password: "" }), undefined]) {
      const r = await callJson("POST", "/api/auth/login-form", body, { host: t.host });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_request");
    }
  });

  it("answers invalid_grant for a disabled user", async () => {
    const svc = services();
    const hash = await hashPassword(PASSWORD, svc.config.passwordPepper);
    await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "gone", passwordHash: hash, passwordChangedAt: Date.now(), disabled: true });
    const r = await passwordLogin("gone", PASSWORD);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_grant");
  });
});

describe("logout and token-info", () => {
  it("token-info reports username, roles and expiry in epoch seconds", async () => {
    const login = await passwordLogin("admin", PASSWORD);
    const before = Math.floor(Date.now() / 1000);
    const r = await tokenInfo(login.body.access_token as string);
    expect(r.status).toBe(200);
    expect(r.body.username).toBe("admin");
    expect(r.body.roles).toEqual(["admin", "user"]);
    const expiry = r.body.expiry as number;
    expect(Number.isInteger(expiry)).toBe(true);
    expect(expiry).toBeGreaterThanOrEqual(before + 86400 - 5);
    expect(expiry).toBeLessThanOrEqual(before + 86400 + 5);
  });

  it("logout revokes the token's session: token-info then answers 401", async () => {
    const login = await passwordLogin("alice", PASSWORD);
    const token = login.body.access_token as string;
    const other = (await passwordLogin("alice", PASSWORD)).body.access_token as string;
    const out = await call("POST", "/api/auth/logout", undefined, { host: t.host, headers: { authorization: `Bearer ${token}` } });
    expect(out.status).toBe(204);
    const r = await tokenInfo(token);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: "invalid_token", error_description: "token has been revoked" });
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
    // Only that session ends: the user's other session is untouched.
    expect((await tokenInfo(other)).status).toBe(200);
    // Logging out again is harmless.
    const again = await call("POST", "/api/auth/logout", undefined, { host: t.host, headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(204);
  });

  it("logout of a client credentials token revokes it", async () => {
    const login = await clientLogin();
    const token = login.body.access_token as string;
    const out = await call("POST", "/api/auth/logout", undefined, { host: t.host, headers: { authorization: `Bearer ${token}` } });
    expect(out.status).toBe(204);
    expect((await tokenInfo(token)).status).toBe(401);
  });

  it("logout and token-info without a bearer token answer 401 invalid_token", async () => {
    const a = await callJson("POST", "/api/auth/logout", undefined, { host: t.host });
    const b = await callJson("GET", "/api/auth/token-info", undefined, { host: t.host });
    for (const r of [a, b]) {
      expect(r.status).toBe(401);
      expect(r.body.error).toBe("invalid_token");
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="croit"');
    }
  });
});

describe("GET /api/auth/okta/signInConfig", () => {
  it("answers 404 in the croit shape when Okta is not configured", async () => {
    const r = await callJson("GET", "/api/auth/okta/signInConfig", undefined, { host: t.host });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: "not_found", error_description: "Okta sign-in is not configured" });
  });

  it("returns the tenant's Okta settings, without its internal fields", async () => {
    const okta = {
      baseUrl: "https://example.okta.com",
      clientId: "0oa-client",
      issuer: "https://example.okta.com/oauth2/default",
      audience: "api://default",
      mapRoles: { admins: ["admin"] },
      jwksUri: "https://example.okta.com/oauth2/default/v1/keys",
      communityId: t.community.id,
    };
    const o = await createTestTenant({ okta });
    const r = await callJson("GET", "/api/auth/okta/signInConfig", undefined, { host: o.host });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ baseUrl: okta.baseUrl, clientId: okta.clientId, issuer: okta.issuer, audience: okta.audience, mapRoles: okta.mapRoles });
  });
});

describe("OpenAPI", () => {
  it("publishes the croit document with every route", async () => {
    const r = await callJson<{ openapi: string; paths: Record<string, unknown> }>("GET", "/openapi/croit.json", undefined, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
    expect(Object.keys(r.body.paths).sort()).toEqual(["/login", "/login-form", "/logout", "/okta/login", "/okta/signInConfig", "/token-info"]);
  });
});
