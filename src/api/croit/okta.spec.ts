import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { callJson } from "../../../test/helpers/http";
import { TestIdp } from "../../../test/helpers/idp";

const CLIENT_ID = "0oa-croit-ui";
const AUDIENCE = "api://croit";
const MAP_ROLES = { "croit-admins": ["admin"], ops: ["operator", "viewer"], viewers: ["viewer"] };

async function oktaTenant(idp: TestIdp, extra: Record<string, unknown> = {}): Promise<TestTenant> {
  return createTestTenant({
    okta: { baseUrl: new URL(idp.issuer).origin, clientId: CLIENT_ID, issuer: idp.issuer, audience: AUDIENCE, mapRoles: MAP_ROLES, ...extra },
  });
}

const login = (t: TestTenant, idToken: unknown) => callJson("POST", "/api/auth/okta/login", { idToken }, { host: t.host });

let idp: TestIdp;
let t: TestTenant;
beforeAll(async () => {
  idp = await TestIdp.create();
  t = await oktaTenant(idp);
});

describe("POST /api/auth/okta/login", () => {
  it("creates the user on first login, maps groups to roles and answers like login", async () => {
    const token = await idp.idToken({ sub: "00u-first", aud: CLIENT_ID, preferred_username: "Jane.Doe@example.com", email: "jane.doe@example.com", groups: ["croit-admins", "Everyone"] });
    const r = await login(t, token);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "bearer", expires_in: 86400, roles: ["admin"], passwordWasNeverChanged: false });
    expect(typeof r.body.userId).toBe("number");
    const user = await services().users.byExternalSubject(t.tenant.id, `${idp.issuer}|00u-first`);
    expect(user).toMatchObject({ id: r.body.userId, username: "jane.doe@example.com", email: "jane.doe@example.com", roles: ["admin"], passwordHash: null, communityId: t.community.id });
    expect(user?.groups).toEqual(["croit-admins", "Everyone"]);
    const info = await callJson("GET", "/api/auth/token-info", undefined, { host: t.host, headers: { authorization: `Bearer ${r.body.access_token as string}` } });
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ username: "jane.doe@example.com", roles: ["admin"] });
  });

  it("maps several groups to the union of their roles", async () => {
    const token = await idp.idToken({ sub: "00u-ops", aud: CLIENT_ID, preferred_username: "ops.person", groups: ["ops", "viewers", "unmapped"] });
    const r = await login(t, token);
    expect(r.status).toBe(200);
    expect(r.body.roles).toEqual(["operator", "viewer"]);
  });

  it("reuses the user on a second login and updates its roles; the JWKS is fetched once", async () => {
    const own = await TestIdp.create();
    const tt = await oktaTenant(own);
    const first = await login(tt, await own.idToken({ sub: "00u-again", aud: CLIENT_ID, preferred_username: "again", groups: ["viewers"] }));
    expect(first.status).toBe(200);
    expect(first.body.roles).toEqual(["viewer"]);
    const second = await login(tt, await own.idToken({ sub: "00u-again", aud: CLIENT_ID, preferred_username: "again", groups: ["croit-admins"] }));
    expect(second.status).toBe(200);
    expect(second.body.userId).toBe(first.body.userId);
    expect(second.body.roles).toEqual(["admin"]);
    const user = await services().users.byExternalSubject(tt.tenant.id, `${own.issuer}|00u-again`);
    expect(user?.roles).toEqual(["admin"]);
    expect(own.fetches).toBe(1);
  });

  it("a later ID token without a groups claim keeps the user's roles; an empty groups claim clears them", async () => {
    const own = await TestIdp.create();
    const tt = await oktaTenant(own);
    const claims = { sub: "00u-keep", aud: CLIENT_ID, preferred_username: "keeper" };
    const first = await login(tt, await own.idToken({ ...claims, groups: ["croit-admins", "viewers"] }));
    expect(first.body.roles).toEqual(["admin", "viewer"]);
    // The Okta app stopped sending groups (or this token simply lacks the claim): nothing is stripped.
    const without = await login(tt, await own.idToken(claims));
    expect(without.status).toBe(200);
    expect(without.body.roles).toEqual(["admin", "viewer"]);
    const user = await services().users.byExternalSubject(tt.tenant.id, `${own.issuer}|00u-keep`);
    expect(user?.roles).toEqual(["admin", "viewer"]);
    expect(user?.groups).toEqual(["croit-admins", "viewers"]);
    // A malformed claim is not a statement about groups either.
    expect((await login(tt, await own.idToken({ ...claims, groups: { admins: true } }))).body.roles).toEqual(["admin", "viewer"]);
    // A groups claim that is present and empty is a statement: no groups, so no roles.
    const empty = await login(tt, await own.idToken({ ...claims, groups: [] }));
    expect(empty.body.roles).toEqual([]);
    expect((await services().users.byExternalSubject(tt.tenant.id, `${own.issuer}|00u-keep`))?.roles).toEqual([]);
  });

  it("without jwksUri, finds the keys through the issuer's discovery document (an org server's /oauth2/v1/keys)", async () => {
    const org = `https://org-${crypto.randomUUID().slice(0, 8)}.okta.test`;
    const own = await TestIdp.create({ issuer: org, jwksUri: `${org}/oauth2/v1/keys` });
    const tt = await oktaTenant(own);
    const r = await login(tt, await own.idToken({ sub: "00u-org", aud: CLIENT_ID, preferred_username: "org-user" }));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(own.discoveryFetches).toBe(1);
    expect(own.fetches).toBe(1);
    // A configured jwksUri is used as is, without discovery.
    const pinned = await TestIdp.create();
    const tp = await oktaTenant(pinned, { jwksUri: pinned.jwksUri });
    expect((await login(tp, await pinned.idToken({ sub: "00u-pin", aud: CLIENT_ID, preferred_username: "pin" }))).status).toBe(200);
    expect(pinned.discoveryFetches).toBe(0);
  });

  it("a discovery document naming another issuer (a trailing slash) is refused: 502, no user", async () => {
    const own = await TestIdp.create();
    own.discoveryIssuer = `${own.issuer}/`;
    const tt = await oktaTenant(own);
    const r = await login(tt, await own.idToken({ sub: "00u-slash", aud: CLIENT_ID, preferred_username: "slash" }));
    expect(r.status).toBe(502);
    expect(r.body).toEqual({ error: "temporarily_unavailable", error_description: expect.stringMatching(/names issuer/) });
    expect(own.fetches).toBe(0);
    expect(await services().users.byExternalSubject(tt.tenant.id, `${own.issuer}|00u-slash`)).toBeNull();
  });

  it("takes the username from the email when there is no preferred_username", async () => {
    const r = await login(t, await idp.idToken({ sub: "00u-mail", aud: CLIENT_ID, email: "Mail.Only@Example.com" }));
    expect(r.status).toBe(200);
    expect(r.body.roles).toEqual([]);
    const user = await services().users.byExternalSubject(t.tenant.id, `${idp.issuer}|00u-mail`);
    expect(user?.username).toBe("mail.only@example.com");
  });

  it("accepts an ID token whose aud is the configured audience", async () => {
    const r = await login(t, await idp.idToken({ sub: "00u-aud", aud: [AUDIENCE], preferred_username: "aud.user" }));
    expect(r.status).toBe(200);
  });

  it("verifies RS256 and ES256 tokens, with a configured jwksUri", async () => {
    const es = await TestIdp.create({ alg: "ES256", jwksUri: `https://keys-${Date.now().toString(36)}.okta.test/jwks` });
    const tt = await oktaTenant(es, { jwksUri: es.jwksUri });
    const r = await login(tt, await es.idToken({ sub: "00u-es", aud: CLIENT_ID, preferred_username: "es" }));
    expect(r.status).toBe(200);
    expect(es.fetches).toBe(1);
  });

  it("puts new users in the configured community", async () => {
    const svc = services();
    const own = await TestIdp.create();
    const base = await oktaTenant(own);
    const other = await svc.tenants.createCommunity({ id: `${base.community.id}-okta`, tenantId: base.tenant.id, name: `okta-${base.community.id}` });
    const tt = await createTestTenant({
      okta: { baseUrl: "https://x.okta.test", clientId: CLIENT_ID, issuer: own.issuer, audience: AUDIENCE, mapRoles: {}, communityId: other.id },
    });
    // Another tenant's community is refused rather than used.
    const refused = await login(tt, await own.idToken({ sub: "00u-c", aud: CLIENT_ID, preferred_username: "c" }));
    expect(refused.status).toBe(404);
    await svc.tenants.updateTenantSettings(base.tenant.id, {
      okta: { baseUrl: "https://x.okta.test", clientId: CLIENT_ID, issuer: own.issuer, audience: AUDIENCE, mapRoles: {}, communityId: other.id },
    });
    const { forgetTenantCache } = await import("../../http/tenant");
    forgetTenantCache();
    const r = await login(base, await own.idToken({ sub: "00u-c", aud: CLIENT_ID, preferred_username: "c" }));
    expect(r.status).toBe(200);
    const user = await svc.users.byExternalSubject(base.tenant.id, `${own.issuer}|00u-c`);
    expect(user?.communityId).toBe(other.id);
  });

  it("never takes over a local account with the same username (409 conflict)", async () => {
    const r = await login(t, await idp.idToken({ sub: "00u-alice", aud: CLIENT_ID, preferred_username: "alice", groups: ["croit-admins"] }));
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: "conflict", error_description: "a local user already holds this username" });
    // Alice's local login and roles are untouched.
    const local = await callJson("POST", "/api/auth/login-form", new URLSearchParams({ username: "alice", password: PASSWORD }), { host: t.host });
    expect(local.body.roles).toEqual(["user"]);
  });

  it("refuses a disabled federated user (invalid_grant)", async () => {
    const token = await idp.idToken({ sub: "00u-disabled", aud: CLIENT_ID, preferred_username: "soon.disabled" });
    expect((await login(t, token)).status).toBe(200);
    const user = await services().users.byExternalSubject(t.tenant.id, `${idp.issuer}|00u-disabled`);
    await services().users.update(t.tenant.id, user!.uid, { disabled: true });
    const r = await login(t, token);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: "invalid_grant", error_description: "user is disabled" });
  });

  it("answers 404 in the croit shape when Okta is not configured", async () => {
    const plain = await createTestTenant();
    const r = await login(plain, await idp.idToken({ sub: "00u-x", aud: CLIENT_ID }));
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: "not_found", error_description: "Okta sign-in is not configured" });
  });

  it("first logins racing for one identity create one user", async () => {
    const own = await TestIdp.create();
    const tt = await oktaTenant(own);
    const token = await own.idToken({ sub: "00u-race", aud: CLIENT_ID, preferred_username: "racer", groups: ["viewers"] });
    const results = await Promise.all(Array.from({ length: 8 }, () => login(tt, token)));
    for (const r of results) expect(r.status).toBe(200);
    expect(new Set(results.map((r) => r.body.userId)).size).toBe(1);
  });
});
