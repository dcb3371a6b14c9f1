import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { sha256Hex } from "../../crypto/hash";
import { findOidcClient, oidcClientOf } from "../../core/oidc-provider/clients";
import { saml, type Sp } from "../../../test/helpers/service-providers";

/**
 * Issue 8, Service Providers (seed 004): the six operations, type oidc (the client
 * registration) and type saml, over the enveloped Authn routes with a service license.
 */
let t: TestTenant;
let caller: AuthnCaller;
let base: string;

beforeAll(async () => {
  t = await createTestTenant();
  caller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}/serviceprovider`;
});

const oidc = (extra: Record<string, unknown> = {}) => ({
  name: "Web app",
  type: "oidc",
  oidc_config: { client_name: "Web app", redirect_uris: ["https://app.example.test/callback"], ...extra },
});
describe("type oidc: the client registration", () => {
  it("creates a confidential client: client_id generated, the secret answered once and stored as SHA-256 only", async () => {
    const r = await authnCall<Sp>(caller, "PUT", base, oidc({ grant_types: ["authorization_code", "refresh_token"], scope: "openid email", refresh_token_rotation: true }));
    expect(r.status).toBe(200);
    expect(r.data._id).toMatch(/^[0-9a-f]{24}$/);
    expect(r.data).toMatchObject({ name: "Web app", type: "oidc", communityId: t.community.id, __v: 0, forceReauthentication: false });
    const c = r.data.oidc_config!;
    expect(c.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(c).toMatchObject({ token_endpoint_auth_method: "client_secret_basic", require_pkce: true, refresh_token_rotation: true, grant_types: ["authorization_code", "refresh_token"], scope: "openid email", client_secret_expires_at: 0 });
    const secret = c.client_secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, r.data._id);
    expect(stored!.secretHash).toBe(await sha256Hex(secret));
    expect(JSON.stringify(stored!.body)).not.toContain(secret);
    // The provider's typed view reads what was stored.
    const client = oidcClientOf(stored!)!;
    expect(client).toMatchObject({ clientId: c.client_id, public: false, redirectUris: ["https://app.example.test/callback"], allowedScopes: ["openid", "email"], refreshRotation: true, requirePkce: true });
    // Never again: GET (by _id and by client_id), fetch.
    const byId = await authnCall<Sp>(caller, "GET", `${base}/${r.data._id}`, undefined);
    const byClientId = await authnCall<Sp>(caller, "GET", `${base}/${encodeURIComponent(c.client_id as string)}`, undefined);
    const list = await authnCall<Sp[]>(caller, "POST", `${base}/fetch`, undefined);
    for (const answer of [byId, byClientId, list]) {
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.data)).not.toContain(secret);
      expect(JSON.stringify(answer.data)).not.toContain("client_secret\"");
    }
    expect(byClientId.data._id).toBe(r.data._id);
    expect(list.data.map((s) => s._id)).toContain(r.data._id);
  });

  it("a public client (none) has no secret and always requires PKCE; client_credentials is refused for it", async () => {
    const r = await authnCall<Sp>(caller, "PUT", base, oidc({ token_endpoint_auth_method: "none", redirect_uris: ["http://127.0.0.1/callback"] }));
    expect(r.status).toBe(200);
    expect(r.data.oidc_config!.client_secret).toBeUndefined();
    expect(r.data.oidc_config!.require_pkce).toBe(true);
    const stored = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, r.data._id);
    expect(stored!.secretHash).toBeNull();
    expect((await authnCall(caller, "PUT", base, oidc({ token_endpoint_auth_method: "none", require_pkce: false }))).status).toBe(400);
    expect((await authnCall(caller, "PUT", base, oidc({ token_endpoint_auth_method: "none", grant_types: ["client_credentials"] }))).status).toBe(400);
  });

  it("private_key_jwt takes public keys (jwks) or a jwks_uri, not both, and no secret", async () => {
    const jwk = { kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid: "k1" };
    const a = await authnCall<Sp>(caller, "PUT", base, oidc({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [jwk] } }));
    expect(a.status).toBe(200);
    expect(a.data.oidc_config!.client_secret).toBeUndefined();
    expect(a.data.oidc_config!.jwks).toEqual({ keys: [jwk] });
    const b = await authnCall<Sp>(caller, "PUT", base, oidc({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://app.example.test/jwks.json" }));
    expect(b.status).toBe(200);
    expect((await authnCall(caller, "PUT", base, oidc({ token_endpoint_auth_method: "private_key_jwt" }))).status).toBe(400);
    expect((await authnCall(caller, "PUT", base, oidc({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [jwk] }, jwks_uri: "https://a.test/j" }))).status).toBe(400);
    expect((await authnCall(caller, "PUT", base, oidc({ jwks: { keys: [jwk] } }))).status).toBe(400);
  });

  it("a given client_id is kept; a second one in the community is 400, in another community it is fine", async () => {
    const id = `my-client-${Date.now()}`;
    const a = await authnCall<Sp>(caller, "PUT", base, oidc({ client_id: id }));
    expect(a.status).toBe(200);
    expect(a.data.oidc_config!.client_id).toBe(id);
    const dup = await authnCall<{ message: string }>(caller, "PUT", base, oidc({ client_id: id }));
    expect(dup.status).toBe(400);
    expect(dup.data.message).toContain(`client_id "${id}" already exists`);
    const other = await services().tenants.createCommunity({ tenantId: t.tenant.id, name: `sp2-${Date.now()}` });
    const wide = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: ["*"] });
    expect((await authnCall(wide, "PUT", `/tenant/${t.tenant.id}/community/${other.id}/serviceprovider`, oidc({ client_id: id }))).status).toBe(200);
    // findOidcClient sees each community's own.
    const scope = { tenant: t.tenant, community: t.community } as Parameters<typeof findOidcClient>[1];
    expect((await findOidcClient(services(), scope, id))!.spId).toBe(a.data._id);
  });

  it("PATCH merges oidc_config, bumps __v, keeps the secret unless regenerate_secret, which answers a new one once", async () => {
    const created = await authnCall<Sp>(caller, "PUT", base, oidc());
    const id = created.data._id;
    const first = created.data.oidc_config!.client_secret as string;
    const p1 = await authnCall<Sp>(caller, "PATCH", `${base}/${id}`, { name: "Renamed", oidc_config: { post_logout_redirect_uris: ["https://app.example.test/bye"] } });
    expect(p1.status).toBe(200);
    expect(p1.data).toMatchObject({ name: "Renamed", __v: 1 });
    expect(p1.data.oidc_config).toMatchObject({ redirect_uris: ["https://app.example.test/callback"], post_logout_redirect_uris: ["https://app.example.test/bye"], client_id: created.data.oidc_config!.client_id });
    expect(p1.data.oidc_config!.client_secret).toBeUndefined();
    let stored = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, id);
    expect(stored!.secretHash).toBe(await sha256Hex(first));
    const p2 = await authnCall<Sp>(caller, "PATCH", `${base}/${id}`, { regenerate_secret: true });
    expect(p2.status).toBe(200);
    const second = p2.data.oidc_config!.client_secret as string;
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    stored = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, id);
    expect(stored!.secretHash).toBe(await sha256Hex(second));
    const after = await authnCall<Sp>(caller, "GET", `${base}/${id}`, undefined);
    expect(JSON.stringify(after.data)).not.toContain(second);
    expect(after.data.__v).toBe(2);
    // client_id cannot change; type cannot change; saml_config on an oidc SP is refused.
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { oidc_config: { client_id: "other" } })).status).toBe(400);
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { type: "saml" })).status).toBe(400);
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { saml_config: { entityId: "x" } })).status).toBe(400);
    // Turning public drops the secret; regenerate_secret on a public client is 400.
    const pub = await authnCall<Sp>(caller, "PATCH", `${base}/${id}`, { oidc_config: { token_endpoint_auth_method: "none" } });
    expect(pub.status).toBe(200);
    expect((await services().identity.serviceProviders.get(t.tenant.id, t.community.id, id))!.secretHash).toBeNull();
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { regenerate_secret: true })).status).toBe(400);
    // Turning confidential again issues a new secret, shown once.
    const conf = await authnCall<Sp>(caller, "PATCH", `${base}/${id}`, { oidc_config: { token_endpoint_auth_method: "client_secret_post" } });
    expect(conf.data.oidc_config!.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("PATCH with a stale __v is 409 and changes nothing", async () => {
    const created = await authnCall<Sp>(caller, "PUT", base, oidc());
    const id = created.data._id;
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { name: "v1", __v: 0 })).status).toBe(200);
    const stale = await authnCall(caller, "PATCH", `${base}/${id}`, { name: "stale", __v: 0 });
    expect(stale.status).toBe(409);
    expect((await authnCall<Sp>(caller, "GET", `${base}/${id}`, undefined)).data.name).toBe("v1");
  });

  it("parallel PATCHes without __v are each merged over the fresh object: all land, __v counts them", async () => {
    const created = await authnCall<Sp>(caller, "PUT", base, oidc());
    const id = created.data._id;
    const rs = await Promise.all([
      authnCall(caller, "PATCH", `${base}/${id}`, { name: "a" }),
      authnCall(caller, "PATCH", `${base}/${id}`, { environment: "staging" }),
      authnCall(caller, "PATCH", `${base}/${id}`, { oidc_config: { scope: "openid" } }),
    ]);
    expect(rs.map((r) => r.status).every((s) => s === 200 || s === 409)).toBe(true);
    const ok = rs.filter((r) => r.status === 200).length;
    const now = await authnCall<Sp>(caller, "GET", `${base}/${id}`, undefined);
    expect(now.data.__v).toBe(ok);
  });
});

describe("type saml: saml_config", () => {
  it("creates with the document's object shape, sub-objects with _id, attributes with uuid", async () => {
    const entityId = `https://sp.example.test/${Date.now()}`;
    const r = await authnCall<Sp>(caller, "PUT", base, saml(entityId));
    expect(r.status).toBe(200);
    expect(r.data).toMatchObject({ name: "SAML app", type: "saml", environment: "production", forceReauthentication: false, communityId: t.community.id, __v: 0 });
    const c = r.data.saml_config!;
    expect(c).toMatchObject({ entityId, assertionMethod: "post", assertionConsumerServiceURL: "https://sp.example.test/saml/acs", authRequestSignRequired: true, assertionSignRequired: true, metadata: "<EntityDescriptor/>" });
    expect(c._id).toMatch(/^[0-9a-f]{24}$/);
    expect((c.nameid as { _id: string })._id).toMatch(/^[0-9a-f]{24}$/);
    const attr = (c.attributes as Record<string, unknown>[])[0]!;
    expect(attr.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(attr._id).toMatch(/^[0-9a-f]{24}$/);
    expect(r.data.oidc_config).toBeUndefined();
    // GET by entityId (URL-encoded), by _id.
    const byEntity = await authnCall<Sp>(caller, "GET", `${base}/${encodeURIComponent(entityId)}`, undefined);
    expect(byEntity.status).toBe(200);
    expect(byEntity.data._id).toBe(r.data._id);
    // A duplicate entityId in the community: 400.
    const dup = await authnCall<{ message: string }>(caller, "PUT", base, saml(entityId));
    expect(dup.status).toBe(400);
    expect(dup.data.message).toContain("entityId");
  });

  it("PATCH merges saml_config field by field, keeps sub-object ids, re-validates", async () => {
    const entityId = `urn:example:sp:${Date.now()}`;
    const r = await authnCall<Sp>(caller, "PUT", base, saml(entityId));
    const id = r.data._id;
    const p = await authnCall<Sp>(caller, "PATCH", `${base}/${id}`, { saml_config: { assertionConsumerServiceURL: "https://sp.example.test/acs2" }, forceReauthentication: true });
    expect(p.status).toBe(200);
    expect(p.data.forceReauthentication).toBe(true);
    expect(p.data.saml_config).toMatchObject({ entityId, assertionConsumerServiceURL: "https://sp.example.test/acs2", _id: r.data.saml_config!._id });
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { saml_config: { assertionConsumerServiceURL: "http://sp.example.test/acs" } })).status).toBe(400);
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { saml_config: { signingCert: null } })).status).toBe(400);
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { oidc_config: { scope: "openid" } })).status).toBe(400);
    const newEntity = `urn:example:sp:renamed:${Date.now()}`;
    expect((await authnCall(caller, "PATCH", `${base}/${id}`, { saml_config: { entityId: newEntity } })).status).toBe(200);
    expect((await authnCall<Sp>(caller, "GET", `${base}/${encodeURIComponent(newEntity)}`, undefined)).data._id).toBe(id);
    expect((await authnCall(caller, "GET", `${base}/${encodeURIComponent(entityId)}`, undefined)).status).toBe(404);
  });
});

describe("GET, fetch, DELETE", () => {
  it("GET unknown is 404; DELETE answers 204 then 404; a deleted SP is gone from fetch", async () => {
    expect((await authnCall(caller, "GET", `${base}/${"a".repeat(24)}`, undefined)).status).toBe(404);
    expect((await authnCall(caller, "GET", `${base}/no-such-thing`, undefined)).status).toBe(404);
    const r = await authnCall<Sp>(caller, "PUT", base, oidc());
    const del = await authnCall(caller, "DELETE", `${base}/${r.data._id}`, {});
    expect(del.status).toBe(204);
    expect(await (async () => del.body)()).toEqual({});
    expect((await authnCall(caller, "DELETE", `${base}/${r.data._id}`, {})).status).toBe(404);
    expect((await authnCall(caller, "GET", `${base}/${r.data._id}`, undefined)).status).toBe(404);
    const list = await authnCall<Sp[]>(caller, "POST", `${base}/fetch`, undefined);
    expect(list.data.some((s) => s._id === r.data._id)).toBe(false);
    // DELETE and PATCH take the _id only (the document: "Id of MongoDB object").
    const s = await authnCall<Sp>(caller, "PUT", base, oidc());
    expect((await authnCall(caller, "DELETE", `${base}/${encodeURIComponent(s.data.oidc_config!.client_id as string)}`, {})).status).toBe(404);
  });

  it("fetch lists only this community's service providers, an empty community answers []", async () => {
    const tt = await createTestTenant();
    const c = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
    const b = `/tenant/${tt.tenant.id}/community/${tt.community.id}/serviceprovider`;
    const empty = await authnCall<Sp[]>(c, "POST", `${b}/fetch`, {});
    expect(empty.status).toBe(200);
    expect(empty.data).toEqual([]);
    await authnCall(c, "PUT", b, oidc());
    expect((await authnCall<Sp[]>(c, "POST", `${b}/fetch`, {})).data).toHaveLength(1);
  });

  it("levels: app, app_ext and service_ext are 403 on every operation; system is accepted", async () => {
    for (const level of ["app", "app_ext", "service_ext"] as const) {
      const c = await authnCaller({ tenantId: t.tenant.id, level, communities: [t.community.id] });
      expect((await authnCall(c, "POST", `${base}/fetch`, {})).status).toBe(403);
      expect((await authnCall(c, "PUT", base, oidc())).status).toBe(403);
      expect((await authnCall(c, "PUT", `${base}/zendesk`, { name: "z", domain: "https://z.zendesk.com", config: {} })).status).toBe(403);
      expect((await authnCall(c, "GET", `${base}/${"a".repeat(24)}`, undefined)).status).toBe(403);
      expect((await authnCall(c, "PATCH", `${base}/${"a".repeat(24)}`, { name: "x" })).status).toBe(403);
      expect((await authnCall(c, "DELETE", `${base}/${"a".repeat(24)}`, {})).status).toBe(403);
    }
    const sys = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: [t.community.id] });
    expect((await authnCall(sys, "POST", `${base}/fetch`, {})).status).toBe(200);
  });
});
