import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startWorker, verifyWithJwks, type StartedWorker } from "./harness";

/**
 * The croit auth API (seed 003) over real HTTP against `wrangler dev`: client credentials
 * over HTTP Basic (RFC 6749 §4.4), the password form grant (§4.3), token-info and logout.
 */
let w: StartedWorker;
beforeAll(async () => {
  w = await startWorker();
});
afterAll(async () => {
  await w?.stop();
});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
const form = (o: Record<string, string>) => new URLSearchParams(o);

describe("croit over HTTP", () => {
  it("serves its OpenAPI document", async () => {
    const r = await request(w, "GET", "/openapi/croit.json");
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
  });

  it("issues a client_credentials token over Basic that Node's crypto verifies", async () => {
    const c = w.demo.client;
    const r = await request(w, "POST", "/api/auth/login", form({ grant_type: "client_credentials" }), { authorization: basic(c.clientId, c.clientSecret) });
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body).toMatchObject({ token_type: "bearer", roles: c.roles });
    expect(r.body.expires_in).toBeGreaterThan(0);
    const t = await verifyWithJwks(w, r.body.access_token);
    expect(t.header).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(t.payload.tenant).toBe(w.demo.tenantId);

    const info = await request(w, "GET", "/api/auth/token-info", undefined, { authorization: `Bearer ${r.body.access_token}` });
    expect(info.status).toBe(200);
    expect(info.body.roles).toEqual(c.roles);
    expect(info.body.expiry).toBe(t.payload.exp);
  });

  it("refuses bad client credentials with 401 and a Basic challenge, alike for unknown clients", async () => {
    const wrong = await request(w, "POST", "/api/auth/login", form({ grant_type: "client_credentials" }), { authorization: basic(w.demo.client.clientId, "not-the-secret") });
    const unknown = await request(w, "POST", "/api/auth/login", form({ grant_type: "client_credentials" }), { authorization: basic("no-such-client", "not-the-secret") });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body.error).toBe("invalid_client");
      expect(r.headers.get("www-authenticate")).toMatch(/^Basic /);
    }
    expect(wrong.body).toEqual(unknown.body);
    const grant = await request(w, "POST", "/api/auth/login", form({ grant_type: "password" }), { authorization: basic(w.demo.client.clientId, w.demo.client.clientSecret) });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe("unsupported_grant_type");
  });

  it("logs a user in with the password form, answers token-info, and logs out for good", async () => {
    const u = w.demo.admin;
    const r = await request(w, "POST", "/api/auth/login-form", form({ grant_type: "password", username: u.username, password: u.password }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "bearer", roles: u.roles, userId: u.userId, passwordWasNeverChanged: true });
    const t = await verifyWithJwks(w, r.body.access_token);
    expect(t.payload.sub).toBe(u.uid);
    const auth = { authorization: `Bearer ${r.body.access_token}` };
    const info = await request(w, "GET", "/api/auth/token-info", undefined, auth);
    expect(info.status).toBe(200);
    expect(info.body).toEqual({ username: u.username, roles: u.roles, expiry: t.payload.exp });

    const out = await request(w, "POST", "/api/auth/logout", undefined, auth);
    expect(out.status).toBeLessThan(300);
    const revoked = await request(w, "GET", "/api/auth/token-info", undefined, auth);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toBe("invalid_token");
  });

  it("refuses wrong passwords, bad forms and foreign tokens in the OAuth error shape", async () => {
    const wrong = await request(w, "POST", "/api/auth/login-form", form({ grant_type: "password", username: w.demo.user.username, password: "nope-nope-nope" }));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe("invalid_grant");
    expect(typeof wrong.body.error_description).toBe("string");
    const malformed = await request(w, "POST", "/api/auth/login-form", "%%%=&&", { "content-type": "application/x-www-form-urlencoded" });
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);
    for (const token of ["not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]) {
      const r = await request(w, "GET", "/api/auth/token-info", undefined, { authorization: `Bearer ${token}` });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe("invalid_token");
    }
    // An ID token from the userpool login is not an access token.
    const up = await request(w, "POST", "/v1/login", { username: w.demo.user.username, password: w.demo.user.password });
    const idAsAccess = await request(w, "GET", "/api/auth/token-info", undefined, { authorization: `Bearer ${up.body.id_token}` });
    expect(idAsAccess.status).toBe(401);
  });

  it("revokes a userpool session's access tokens for croit as well (one core)", async () => {
    const u = w.demo.user;
    const up = await request(w, "POST", "/v1/login", { username: u.username, password: u.password });
    const auth = { authorization: `Bearer ${up.body.access_token}` };
    expect((await request(w, "GET", "/api/auth/token-info", undefined, auth)).status).toBe(200);
    expect((await request(w, "POST", "/v1/token-revoke", { refresh_token: up.body.refresh_token })).status).toBe(200);
    expect((await request(w, "GET", "/api/auth/token-info", undefined, auth)).status).toBe(401);
  });
});
