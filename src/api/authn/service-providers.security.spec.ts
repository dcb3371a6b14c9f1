import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { certificateProblem } from "../../core/service-providers/x509";
import { CERT, saml, type Sp } from "../../../test/helpers/service-providers";

/** Hostile input on the Service Providers routes: 400/404, never a 5xx, never another tenant's data. */
let t: TestTenant;
let caller: AuthnCaller;
let base: string;

beforeAll(async () => {
  t = await createTestTenant();
  caller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}/serviceprovider`;
});

const oidc = (config: Record<string, unknown>) => ({ name: "x", type: "oidc", oidc_config: { redirect_uris: ["https://app.example.test/cb"], ...config } });

describe("bad redirect URIs of every kind are 400 (redirect_uris and post_logout_redirect_uris)", () => {
  const BAD = [
    "http://app.example.test/cb", // http on a non-loopback host
    "https://app.example.test/cb#frag", // fragment
    "https://*.example.test/cb", // wildcard host
    "https://app.example.test/*", // wildcard path
    "https://app.example.test/cb?x=*",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "/relative/cb",
    "app.example.test/cb",
    "https://user:pw@app.example.test/cb", // userinfo
    "https://app.example.test@evil.test/cb",
    "myapp:/cb", // custom scheme not in reverse-domain notation
    "https://app.example.test/c b",
    "https://app.example.test/cb\n",
    `https://app.example.test/${"a".repeat(2100)}`,
    "",
  ];
  it.each(BAD)("%s", async (uri) => {
    const a = await authnCall(caller, "PUT", base, oidc({ redirect_uris: [uri] }));
    const b = await authnCall(caller, "PUT", base, oidc({ post_logout_redirect_uris: [uri] }));
    expect(a.status).toBe(400);
    expect(b.status).toBe(400);
  });

  it("good ones: https, http on loopback (any of 127.0.0.1, [::1], localhost), reverse-domain custom scheme", async () => {
    const ok = ["https://app.example.test/cb?x=1", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "http://localhost:3000/cb", "com.example.app:/oauth2redirect"];
    const r = await authnCall<Sp>(caller, "PUT", base, oidc({ redirect_uris: ok }));
    expect(r.status).toBe(200);
    expect(r.data.oidc_config!.redirect_uris).toEqual(ok);
  });

  it("duplicates, too many, none for authorization_code: 400", async () => {
    expect((await authnCall(caller, "PUT", base, oidc({ redirect_uris: ["https://a.test/cb", "https://a.test/cb"] }))).status).toBe(400);
    expect((await authnCall(caller, "PUT", base, oidc({ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.test/${i}`) }))).status).toBe(400);
    expect((await authnCall(caller, "PUT", base, oidc({ redirect_uris: [] }))).status).toBe(400);
    // client_credentials alone needs no redirect URI.
    expect((await authnCall(caller, "PUT", base, oidc({ redirect_uris: [], grant_types: ["client_credentials"] }))).status).toBe(200);
  });
});

describe("PATCH re-validates the merged registration", () => {
  it("a bad redirect URI, a private JWK or a wildcard post-logout URI sent by PATCH is 400 and changes nothing", async () => {
    const r = await authnCall<Sp>(caller, "PUT", base, oidc({}));
    const id = r.data._id;
    const bad: unknown[] = [
      { oidc_config: { redirect_uris: ["https://app.example.test/cb#x"] } },
      { oidc_config: { post_logout_redirect_uris: ["https://*.example.test/bye"] } },
      { oidc_config: { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ kty: "EC", crv: "P-256", x: "a", y: "b", d: "c" }] } } },
      { oidc_config: { token_endpoint_auth_method: "none", grant_types: ["client_credentials"] } },
      { oidc_config: { redirect_uris: [] } },
    ];
    for (const p of bad) expect((await authnCall(caller, "PATCH", `${base}/${id}`, p)).status).toBe(400);
    const now = await authnCall<Sp>(caller, "GET", `${base}/${id}`, undefined);
    expect(now.data.__v).toBe(0);
    expect(now.data.oidc_config!.redirect_uris).toEqual(["https://app.example.test/cb"]);
  });
});

describe("keys: public only", () => {
  const ec = { kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" };
  const cases: [string, Record<string, unknown>][] = [
    ["an EC private key (d)", { ...ec, d: "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI" }],
    ["an RSA private key (p, q)", { kty: "RSA", n: "sXch", e: "AQAB", p: "x", q: "y" }],
    ["a symmetric key (oct, k)", { kty: "oct", k: "c2VjcmV0" }],
    ["a key without kty", { x: "a" }],
    ["an EC key without y", { kty: "EC", crv: "P-256", x: "a" }],
  ];
  it.each(cases)("%s is refused", async (_name, key) => {
    const r = await authnCall<{ message: string }>(caller, "PUT", base, oidc({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key] } }));
    expect(r.status).toBe(400);
    // Nothing was stored.
    const list = await authnCall<Sp[]>(caller, "POST", `${base}/fetch`, {});
    expect(JSON.stringify(list.data)).not.toContain('"d":');
  });

  it("a jwks_uri on http or with userinfo is refused", async () => {
    for (const u of ["http://keys.example.test/jwks", "https://u:p@keys.example.test/jwks", "ftp://keys.example.test/jwks"]) {
      expect((await authnCall(caller, "PUT", base, oidc({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: u }))).status).toBe(400);
    }
  });
});

describe("wrong types, unknown values, oversized", () => {
  const cases: unknown[] = [
    null,
    [],
    "oidc",
    {},
    { name: "x" },
    { name: "x", type: "ldap", oidc_config: {} },
    { name: 7, type: "oidc", oidc_config: { redirect_uris: ["https://a.test/cb"] } },
    { name: "x".repeat(300), type: "oidc", oidc_config: { redirect_uris: ["https://a.test/cb"] } },
    { name: "x", type: "oidc" },
    { name: "x", type: "oidc", oidc_config: "config" },
    oidc({ redirect_uris: "https://a.test/cb" }),
    oidc({ grant_types: ["implicit"] }),
    oidc({ grant_types: ["refresh_token"] }),
    oidc({ token_endpoint_auth_method: "client_secret_jwt" }),
    oidc({ require_pkce: "yes" }),
    oidc({ client_secret: "chosen-by-me" }),
    oidc({ client_id: "" }),
    oidc({ client_id: "has space" }),
    oidc({ client_id: "0123456789abcdef01234567" }),
    oidc({ client_id: "x".repeat(256) }),
    oidc({ scope: "openid \"quoted\"" }),
    oidc({ logo_uri: "javascript:alert(1)" }),
    { ...oidc({}), saml_config: { entityId: "x" } },
    { ...saml("urn:x"), oidc_config: {} },
    { ...saml("urn:x"), forceReauthentication: "maybe" },
  ];
  it.each(cases.map((c, i) => [i, c]))("PUT case %i is 400", async (_i, payload) => {
    const r = await authnCall(caller, "PUT", base, payload);
    expect(r.status).toBe(400);
  });

  it("an oversized body is 413", async () => {
    const r = await authnCall(caller, "PUT", base, saml("urn:big", { metadata: `<x>${"a".repeat(70_000)}</x>` }));
    expect(r.status).toBe(413);
  });

  it("PATCH and GET with odd ids: 404 or 400, never 5xx", async () => {
    expect((await authnCall(caller, "PATCH", `${base}/not-an-id`, { name: "x" })).status).toBe(404);
    expect((await authnCall(caller, "PATCH", `${base}/${"f".repeat(24)}`, { name: "x" })).status).toBe(404);
    expect((await authnCall(caller, "PATCH", `${base}/${"f".repeat(24)}`, { name: 7 })).status).toBe(400);
    expect((await authnCall(caller, "GET", `${base}/${"x".repeat(1100)}`, undefined)).status).toBe(400);
    expect((await authnCall(caller, "GET", `${base}/%00%FF`, undefined)).status).toBeLessThan(500);
    expect((await authnCall(caller, "GET", `${base}/'%20OR%201=1`, undefined)).status).toBe(404);
    expect((await authnCall(caller, "DELETE", `${base}/..%2F..%2F`, {})).status).toBe(404);
  });
});

describe("saml_config is validated", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["ACS on http (non-loopback)", { assertionConsumerServiceURL: "http://sp.example.test/acs" }],
    ["ACS javascript:", { assertionConsumerServiceURL: "javascript:alert(1)" }],
    ["ACS with a fragment", { assertionConsumerServiceURL: "https://sp.example.test/acs#x" }],
    ["entityId with spaces", { entityId: "urn:a b" }],
    ["entityId over 1024", { entityId: `urn:${"a".repeat(1100)}` }],
    ["a garbage signingCert", { signingCert: "not a certificate" }],
    ["a base64 blob that is not DER", { signingCert: btoa("hello world, not DER!") }],
    ["a private key as a certificate", { signingCert: "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----" }],
    ["a truncated certificate", { encryptionCert: CERT.slice(0, 200) + "\n-----END CERTIFICATE-----" }],
    ["signed requests without a signingCert", { signingCert: null, authRequestSignRequired: true }],
    ["a NameID format that is none", { nameid: { format: "bogus", value: "email", attribute_type: "identity" } }],
    ["a NameID attribute_type that is none", { nameid: { format: "emailAddress", value: "email", attribute_type: "db" } }],
    ["a dynamic attribute without attribute_name", { attributes: [{ claim_name: "c", attribute_type: "identity", value_type: "dynamic" }] }],
    ["a static attribute without value", { attributes: [{ claim_name: "c", attribute_type: "session", value_type: "static" }] }],
    ["an attribute uuid that is none", { attributes: [{ uuid: "123", claim_name: "c", attribute_type: "session", value_type: "static", value: "v" }] }],
    ["two attributes with one uuid", { attributes: [1, 2].map(() => ({ uuid: "6a1f3c1e-4b7a-4c1e-9a2b-0c1d2e3f4a5b", claim_name: "c", attribute_type: "session", value_type: "static", value: "v" })) }],
    ["metadata that is not XML", { metadata: "{json: true}" }],
    ["assertionMethod unknown", { assertionMethod: "carrier-pigeon" }],
  ];
  it.each(cases)("%s: 400", async (_name, extra) => {
    expect((await authnCall(caller, "PUT", base, saml(`urn:bad:${Math.random()}`, extra))).status).toBe(400);
  });

  it("the certificate check: PEM and bare base64 of a real certificate pass; garbage does not", () => {
    expect(certificateProblem(CERT)).toBeNull();
    expect(certificateProblem(CERT.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""))).toBeNull();
    expect(certificateProblem("")).not.toBeNull();
    expect(certificateProblem("MIIB")).not.toBeNull();
    expect(certificateProblem(`${CERT}\n${CERT}`)).not.toBeNull();
  });
});

describe("another tenant's or community's service providers are 404, and untouched", () => {
  it("GET, PATCH, DELETE by _id, client_id and entityId", async () => {
    const other = await createTestTenant();
    const oc = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    const ob = `/tenant/${other.tenant.id}/community/${other.community.id}/serviceprovider`;
    const theirsOidc = await authnCall<Sp>(oc, "PUT", ob, oidc({ client_id: `theirs-${Date.now()}` }));
    const entityId = `urn:theirs:${Date.now()}`;
    const theirsSaml = await authnCall<Sp>(oc, "PUT", ob, saml(entityId));
    for (const id of [theirsOidc.data._id, theirsOidc.data.oidc_config!.client_id as string, theirsSaml.data._id, entityId]) {
      const enc = encodeURIComponent(id);
      expect((await authnCall(caller, "GET", `${base}/${enc}`, undefined)).status).toBe(404);
      expect((await authnCall(caller, "PATCH", `${base}/${enc}`, { name: "mine" })).status).toBe(404);
      expect((await authnCall(caller, "DELETE", `${base}/${enc}`, {})).status).toBe(404);
    }
    // Our license on their path: refused by the guard (403), whatever the id.
    expect((await authnCall(caller, "GET", `${ob}/${theirsOidc.data._id}`, undefined)).status).toBe(403);
    expect((await authnCall(caller, "POST", `${ob}/fetch`, {})).status).toBe(403);
    // A wide system license of our tenant on their tenant's path: still refused.
    const wide = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: ["*"] });
    expect((await authnCall(wide, "DELETE", `${ob}/${theirsOidc.data._id}`, {})).status).toBe(403);
    const still = await authnCall<Sp[]>(oc, "POST", `${ob}/fetch`, {});
    expect(still.data.map((s) => s.name).sort()).toEqual(["SAML app", "x"]);
    expect(still.data.every((s) => s.__v === 0)).toBe(true);
  });
});

describe("uniqueness under races", () => {
  it("parallel creates of one client_id: exactly one succeeds, the others are 400", async () => {
    const id = `race-${Date.now()}`;
    const rs = await Promise.all(Array.from({ length: 6 }, () => authnCall(caller, "PUT", base, oidc({ client_id: id }))));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rs.filter((r) => r.status === 400)).toHaveLength(5);
    const stored = await services().identity.serviceProviders.list(t.tenant.id, t.community.id);
    expect(stored.filter((s) => s.clientId === id)).toHaveLength(1);
  });

  it("parallel creates of one entityId: exactly one", async () => {
    const entityId = `urn:race:${Date.now()}`;
    const rs = await Promise.all(Array.from({ length: 6 }, () => authnCall(caller, "PUT", base, saml(entityId))));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rs.filter((r) => r.status === 400)).toHaveLength(5);
  });

  it("a PATCH to an entityId another SP has is 400, and the SP keeps its own", async () => {
    const a = `urn:pa:${Date.now()}`;
    const b = `urn:pb:${Date.now()}`;
    await authnCall(caller, "PUT", base, saml(a));
    const sb = await authnCall<Sp>(caller, "PUT", base, saml(b));
    expect((await authnCall(caller, "PATCH", `${base}/${sb.data._id}`, { saml_config: { entityId: a } })).status).toBe(400);
    expect((await authnCall<Sp>(caller, "GET", `${base}/${sb.data._id}`, undefined)).data.saml_config!.entityId).toBe(b);
  });
});

describe("secrets", () => {
  it("the client secret is in no answer after the create and nowhere in storage or the audit log", async () => {
    const r = await authnCall<Sp>(caller, "PUT", base, oidc({}));
    const secret = r.data.oidc_config!.client_secret as string;
    const answers = [
      await authnCall(caller, "GET", `${base}/${r.data._id}`, undefined),
      await authnCall(caller, "POST", `${base}/fetch`, {}),
      await authnCall(caller, "PATCH", `${base}/${r.data._id}`, { name: "renamed" }),
    ];
    for (const a of answers) expect(JSON.stringify(a.data)).not.toContain(secret);
    const row = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, r.data._id);
    expect(JSON.stringify(row)).not.toContain(secret);
    await new Promise((res) => setTimeout(res, 200));
    const audit = await services().audit.list(t.tenant.id, { limit: 100 });
    expect(audit.some((e) => e.type === "service_provider_created")).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });
});
