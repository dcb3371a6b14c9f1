import { beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { codeTokens, createOidcClient, issuerOf, payloadOf, postForm, userinfoGet, withAuth, type Json } from "./testing";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
  const now = Date.now();
  // The community's own scope: a static claim, an identity attribute, a session fact, a ledger one.
  await services().identity.idps.create({
    id: "0123456789abcdef01234567",
    tenantId: t.tenant.id,
    communityId: t.community.id,
    type: "oidc",
    body: {
      type: "oidc",
      oidc_config: {
        name: "main",
        scopes: [
          {
            name: "membership",
            display_name: "Your membership",
            consent_required: true,
            claims: [
              { claim_name: "tier", attribute_name: null, attribute_type: "identity", value_type: "static", value: "gold" },
              { claim_name: "member_name", attribute_name: "given_name", attribute_type: "identity", value_type: "dynamic", value: null },
              { claim_name: "login_methods", attribute_name: "amr", attribute_type: "session", value_type: "dynamic", value: null },
              { claim_name: "balance", attribute_name: "balance", attribute_type: "ledger", value_type: "dynamic", value: null },
            ],
          },
          // A row that no longer passes core/idps' rules (written around them): the scope is
          // left out whole, so none of its mappings can release a secret or forge `sub`.
          {
            name: "hostile",
            display_name: "Hostile",
            consent_required: false,
            claims: [
              { claim_name: "secret", attribute_name: "passwordHash", attribute_type: "identity", value_type: "dynamic", value: null },
              { claim_name: "sub", attribute_name: null, attribute_type: "identity", value_type: "static", value: "forged" },
            ],
          },
          // Redefines a standard scope: the community's definition wins over the default.
          { name: "email", display_name: "Email", consent_required: false, claims: [{ claim_name: "mail", attribute_name: "email", attribute_type: "identity", value_type: "dynamic", value: null }] },
        ],
      },
    },
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
});

describe("discovery (OIDC Discovery 1.0 §3-4) and JWKS", () => {
  it("the issuer is the document's base URL, every endpoint under it; code, S256, iss in responses", async () => {
    const r = await callJson<Json>("GET", `/oidc/${t.community.id}/.well-known/openid-configuration`, undefined, { host: t.host });
    expect(r.status).toBe(200);
    const m = r.body;
    expect(m.issuer).toBe(issuerOf(t));
    for (const [k, p] of Object.entries({ authorization_endpoint: "/authorize", token_endpoint: "/token", userinfo_endpoint: "/userinfo", jwks_uri: "/jwks", revocation_endpoint: "/revoke", introspection_endpoint: "/introspect", end_session_endpoint: "/end_session" })) {
      expect(m[k], k).toBe(`${issuerOf(t)}${p}`);
    }
    expect(m.response_types_supported).toEqual(["code"]);
    expect(m.code_challenge_methods_supported).toEqual(["S256"]);
    expect(m.authorization_response_iss_parameter_supported).toBe(true);
    expect(m.token_endpoint_auth_methods_supported).toEqual(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]);
    expect(m.scopes_supported).toEqual(expect.arrayContaining(["openid", "offline_access", "profile", "email", "phone", "address", "membership"]));
    expect(m.scopes_supported).not.toContain("hostile");
    expect(m.acr_values_supported).toEqual(["urn:edge-auth:acr:password", "urn:edge-auth:acr:mfa"]);
    expect(m.claims_supported).toEqual(expect.arrayContaining(["sub", "auth_time", "acr", "amr", "sid", "tier", "member_name", "mail", "name"]));
    expect(m.claims_supported).not.toContain("balance");
  });

  it("JWKS is the deployment keyring, as /.well-known/jwks.json (which stays valid)", async () => {
    const a = await callJson<Json>("GET", `/oidc/${t.community.id}/jwks`, undefined, { host: t.host });
    const b = await callJson<Json>("GET", "/.well-known/jwks.json", undefined, { host: t.host });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body).toEqual(b.body);
    expect((a.body.keys as Json[]).length).toBeGreaterThan(0);
    for (const k of a.body.keys as Json[]) expect(k.d).toBeUndefined();
  });

  it("an unknown community is 404 in the OAuth shape", async () => {
    for (const id of ["nope", "a%2F..%2Fb", "x".repeat(200)]) {
      const r = await callJson<Json>("GET", `/oidc/${id}/.well-known/openid-configuration`, undefined, { host: t.host });
      expect(r.status, id).toBe(404);
      expect(r.body).toEqual({ error: "not_found", error_description: expect.any(String) });
    }
  });

  it("a community is not served on another tenant's bound hostname", async () => {
    const other = await createTestTenant();
    const r = await callJson<Json>("GET", `/oidc/${t.community.id}/.well-known/openid-configuration`, undefined, { host: other.host });
    expect(r.status).toBe(404);
    expect(r.body.error).toBe("not_found");
  });

  it("an unbound Host gets the tenant's own hostname in the issuer, never the Host", async () => {
    const r = await callJson<Json>("GET", `/oidc/${t.community.id}/.well-known/openid-configuration`, undefined, { host: "evil.example" });
    expect(r.status).toBe(200);
    expect(r.body.issuer).toBe(issuerOf(t));
  });
});

describe("claims of granted scopes from the community's IdP configuration", () => {
  it("static, identity and session claims; ledger, secrets and reserved names never; userinfo answers the same", async () => {
    const client = await createOidcClient(t);
    const { body, grant } = await codeTokens(t, client, { scopes: ["openid", "membership", "email", "profile"] });
    const id = payloadOf(String(body.id_token));
    expect(id).toMatchObject({ tier: "gold", member_name: "Alice", login_methods: ["pwd"], mail: t.alice.email, sub: t.alice.uid, given_name: "Alice" });
    expect(id.balance).toBeUndefined();
    expect(id.secret).toBeUndefined();
    expect(id.email).toBeUndefined();
    const ui = await userinfoGet(t, String(body.access_token));
    expect(ui.status).toBe(200);
    expect(ui.headers.get("cache-control")).toBe("no-store");
    const fromId = Object.fromEntries(Object.entries(id).filter(([k]) => !["iss", "aud", "exp", "iat", "jti", "token_use", "azp", "auth_time", "amr", "acr", "sid", "nonce", "at_hash"].includes(k)));
    expect(ui.body).toEqual(fromId);
    expect(grant.scopes).toContain("membership");
  });

  it("userinfo by POST too (OIDC Core §5.3.1)", async () => {
    const client = await createOidcClient(t);
    const { body } = await codeTokens(t, client);
    const r = await callJson<Json>("POST", `/oidc/${t.community.id}/userinfo`, undefined, { host: t.host, headers: { authorization: `Bearer ${String(body.access_token)}` } });
    expect(r.status).toBe(200);
    expect(r.body.sub).toBe(t.alice.uid);
  });
});

describe("revocation (RFC 7009) and introspection (RFC 7662)", () => {
  it("revoking a refresh token ends its family: its access token is inactive and userinfo refuses it", async () => {
    const client = await createOidcClient(t);
    const { body } = await codeTokens(t, client);
    const auth = async (f: Record<string, string>) => withAuth(client, f);
    const introspect = async (tok: string) => {
      const a = await auth({ token: tok });
      return postForm(t, "/introspect", a.body, a.headers);
    };
    expect((await introspect(String(body.access_token))).body).toMatchObject({ active: true, client_id: client.clientId, sub: t.alice.uid, token_type: "Bearer" });
    expect((await introspect(String(body.refresh_token))).body).toMatchObject({ active: true, token_type: "refresh_token" });
    const a = await auth({ token: String(body.refresh_token), token_type_hint: "refresh_token" });
    const rv = await postForm(t, "/revoke", a.body, a.headers);
    expect(rv.status).toBe(200);
    expect((await introspect(String(body.access_token))).body).toEqual({ active: false });
    expect((await introspect(String(body.refresh_token))).body).toEqual({ active: false });
    expect((await userinfoGet(t, String(body.access_token))).status).toBe(401);
  });

  it("revoking an access token ends its family too (its sid)", async () => {
    const client = await createOidcClient(t);
    const { body } = await codeTokens(t, client);
    const a = await withAuth(client, { token: String(body.access_token) });
    expect((await postForm(t, "/revoke", a.body, a.headers)).status).toBe(200);
    expect((await userinfoGet(t, String(body.access_token))).status).toBe(401);
  });

  it("unknown tokens: revocation answers 200, introspection active:false", async () => {
    const client = await createOidcClient(t);
    for (const tok of ["nope", "a".repeat(43) + "." + "b".repeat(43), "x.y.z"]) {
      const a = await withAuth(client, { token: tok });
      const rv = await postForm(t, "/revoke", a.body, a.headers);
      expect(rv.status).toBe(200);
      const b = await withAuth(client, { token: tok });
      expect((await postForm(t, "/introspect", b.body, b.headers)).body).toEqual({ active: false });
    }
  });

  it("another client's token: introspection says inactive, revocation changes nothing", async () => {
    const owner = await createOidcClient(t);
    const other = await createOidcClient(t);
    const { body } = await codeTokens(t, owner);
    for (const tok of [String(body.access_token), String(body.refresh_token)]) {
      const b = await withAuth(other, { token: tok });
      expect((await postForm(t, "/introspect", b.body, b.headers)).body).toEqual({ active: false });
      const a = await withAuth(other, { token: tok });
      expect((await postForm(t, "/revoke", a.body, a.headers)).status).toBe(200);
    }
    expect((await userinfoGet(t, String(body.access_token))).status).toBe(200);
  });

  it("a public client may revoke its own tokens but not introspect", async () => {
    const pub = await createOidcClient(t, { method: "none" });
    const { body } = await codeTokens(t, pub);
    const b = await withAuth(pub, { token: String(body.access_token) });
    expect((await postForm(t, "/introspect", b.body, b.headers)).status).toBe(401);
    const a = await withAuth(pub, { token: String(body.refresh_token) });
    expect((await postForm(t, "/revoke", a.body, a.headers)).status).toBe(200);
    expect((await userinfoGet(t, String(body.access_token))).status).toBe(401);
  });
});

describe("RFC 8414 §3.1 path-inserted metadata", () => {
  it("/.well-known/oauth-authorization-server/oidc/<id> answers the same document; the tenant's own discovery is unchanged", async () => {
    const appended = await callJson<Json>("GET", `/oidc/${t.community.id}/.well-known/openid-configuration`, undefined, { host: t.host });
    for (const p of [`/.well-known/oauth-authorization-server/oidc/${t.community.id}`, `/.well-known/openid-configuration/oidc/${t.community.id}`]) {
      const r = await callJson<Json>("GET", p, undefined, { host: t.host });
      expect(r.status, p).toBe(200);
      expect(r.body).toEqual(appended.body);
    }
    expect((await callJson<Json>("GET", "/.well-known/oauth-authorization-server/oidc/nope", undefined, { host: t.host })).status).toBe(404);
    const tenantDoc = await callJson<Json>("GET", "/.well-known/openid-configuration", undefined, { host: t.host });
    expect(tenantDoc.status).toBe(200);
    expect(tenantDoc.body.jwks_uri).toBe(`http://${t.host}/.well-known/jwks.json`);
  });
});
