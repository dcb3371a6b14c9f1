import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";

/** Hostile inputs to the Identity Provider routes: every one is a 4xx, none changes what is stored. */
let t: TestTenant;
let other: TestTenant;
let caller: AuthnCaller;
let otherCaller: AuthnCaller;
let base: string;
let otherBase: string;
let theirId: string;

const claim = (over: Record<string, unknown> = {}) => ({ claim_name: "email", attribute_name: "email", attribute_type: "identity", value_type: "dynamic", value: null, ...over });
const scopeDef = (over: Record<string, unknown> = {}) => ({ name: "email", display_name: "Email", consent_required: true, claims: [claim()], ...over });
const body = (scopes: unknown[] = [scopeDef()], config: Record<string, unknown> = {}) => ({ type: "oidc", oidc_config: { name: "IdP", description: "d", scopes, ...config } });

interface Idp {
  _id: string;
  oidc_config: { name: string; scopes: { name: string }[] };
  __v: number;
}

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  caller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  otherCaller = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
  otherBase = `/tenant/${other.tenant.id}/community/${other.community.id}`;
  theirId = (await authnCall<string>(otherCaller, "PUT", `${otherBase}/idp`, body())).data;
});

async function refused(payload: unknown, field: RegExp): Promise<void> {
  const r = await authnCall<{ message: string }>(caller, "PUT", `${base}/idp`, payload);
  expect(r.status, JSON.stringify(payload)).toBe(400);
  expect(r.data.message, JSON.stringify(payload)).toMatch(field);
}

describe("Identity Providers: hostile payloads", () => {
  it("wrong types and missing fields are 400 naming the field", async () => {
    await refused({}, /^type: /);
    await refused({ type: "saml", oidc_config: body().oidc_config }, /^saml_config: is required/);
    await refused({ type: "oidc" }, /^oidc_config: /);
    await refused({ type: "oidc", oidc_config: [] }, /^oidc_config: /);
    await refused({ type: "oidc", oidc_config: "x" }, /^oidc_config: /);
    await refused(body([], { name: null }), /^oidc_config\.name: must not be null/);
    await refused(body([], { name: 7 }), /^oidc_config\.name: must be a string/);
    await refused(body([], { name: "  " }), /^oidc_config\.name: must not be empty/);
    await refused(body([], { scopes: "email" }), /^oidc_config\.scopes: /);
    await refused(body([null]), /^oidc_config\.scopes\.0: /);
    await refused(body([scopeDef({ name: null })]), /^oidc_config\.scopes\.0\.name: must not be null/);
    await refused(body([scopeDef({ display_name: null })]), /^oidc_config\.scopes\.0\.display_name: must not be null/);
    await refused(body([scopeDef({ consent_required: "true" })]), /^oidc_config\.scopes\.0\.consent_required: must be true or false/);
    await refused(body([scopeDef({ consent_required: undefined })]), /^oidc_config\.scopes\.0\.consent_required: /);
    await refused(body([scopeDef({ claims: {} })]), /^oidc_config\.scopes\.0\.claims: /);
    await refused(body([scopeDef({ claims: [claim({ claim_name: null })] })]), /claims\.0\.claim_name: must not be null/);
    await refused(body([scopeDef({ claims: [claim({ attribute_type: null })] })]), /claims\.0\.attribute_type: must be one of session, ledger, identity/);
    await refused(body([scopeDef({ claims: [claim({ attribute_type: "wallet" })] })]), /claims\.0\.attribute_type: must be one of/);
    await refused(body([scopeDef({ claims: [claim({ value_type: null })] })]), /claims\.0\.value_type: must be one of static, dynamic/);
    await refused(body([scopeDef({ claims: [claim({ value_type: "computed" })] })]), /claims\.0\.value_type: /);
  });

  it("scope names: RFC 6749 §3.3 scope-token characters, unique within the IdP, openid and offline_access reserved", async () => {
    for (const name of ["two words", 'quo"te', "back\\slash", "", "tab\there", "é", "x".repeat(129)]) {
      await refused(body([scopeDef({ name })]), /^oidc_config\.scopes\.0\.name: /);
    }
    await refused(body([scopeDef(), scopeDef({ display_name: "Again" })]), /^oidc_config\.scopes\.1\.name: scope "email" is defined twice/);
    await refused(body([scopeDef({ name: "openid" })]), /"openid" is reserved/);
    await refused(body([scopeDef({ name: "offline_access" })]), /"offline_access" is reserved/);
    // Every scope-token character is accepted (RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E).
    const ok = await authnCall<string>(caller, "PUT", `${base}/idp`, body([scopeDef({ name: "read:orders/!#$%&'()*+,-.[]^_`{|}~" })]));
    expect(ok.status).toBe(200);
    await authnCall(caller, "DELETE", `${base}/idp/${ok.data}`, undefined);
  });

  it("claim mappings: unique per scope, not the provider's own claims, static needs value, dynamic needs an allowed attribute", async () => {
    await refused(body([scopeDef({ claims: [claim(), claim({ attribute_name: "username" })] })]), /claims\.1\.claim_name: "email" is already mapped in this scope/);
    for (const reserved of ["sub", "iss", "aud", "exp", "nonce", "acr", "amr", "sid", "auth_time", "azp", "at_hash", "__proto__"]) {
      await refused(body([scopeDef({ claims: [claim({ claim_name: reserved })] })]), new RegExp(`claims\\.0\\.claim_name: "${reserved}" is set by the provider`));
    }
    await refused(body([scopeDef({ claims: [claim({ claim_name: "two words" })] })]), /claims\.0\.claim_name: must be printable ASCII/);
    // static: value required; attribute_name must be null
    await refused(body([scopeDef({ claims: [claim({ value_type: "static", attribute_name: null, value: null })] })]), /claims\.0\.value: must not be null/);
    await refused(body([scopeDef({ claims: [claim({ value_type: "static", attribute_name: null, value: undefined })] })]), /claims\.0\.value: is required/);
    await refused(body([scopeDef({ claims: [claim({ value_type: "static", value: "x" })] })]), /claims\.0\.attribute_name: must be null for a static claim/);
    await refused(body([scopeDef({ claims: [claim({ value_type: "static", attribute_name: null, value: 42 })] })]), /claims\.0\.value: must be a string/);
    // dynamic: attribute_name required and known for its type; value must be null
    await refused(body([scopeDef({ claims: [claim({ attribute_name: null })] })]), /claims\.0\.attribute_name: must not be null/);
    await refused(body([scopeDef({ claims: [claim({ attribute_name: "passwordHash" })] })]), /claims\.0\.attribute_name: "passwordHash" is not a known identity attribute/);
    await refused(body([scopeDef({ claims: [claim({ attribute_name: "totpSecretSealed" })] })]), /not a known identity attribute/);
    await refused(body([scopeDef({ claims: [claim({ attribute_name: "__proto__" })] })]), /not a known identity attribute/);
    await refused(body([scopeDef({ claims: [claim({ attribute_name: "constructor" })] })]), /not a known identity attribute/);
    await refused(body([scopeDef({ claims: [claim({ attribute_type: "session", attribute_name: "email" })] })]), /"email" is not a known session attribute/);
    await refused(body([scopeDef({ claims: [claim({ value: "x" })] })]), /claims\.0\.value: must be null for a dynamic claim/);
    await refused(body([scopeDef({ claims: [claim({ attribute_type: "ledger", attribute_name: "a b" })] })]), /claims\.0\.attribute_name: a ledger attribute name/);
    await refused(body([scopeDef({ claims: [claim({ claim_name: "n", attribute_name: "x\u0000y", attribute_type: "ledger" })] })]), /attribute_name/);
  });

  it("oversized: too many scopes or claims, too long strings, a body past the limit", async () => {
    const many = Array.from({ length: 101 }, (_, i) => scopeDef({ name: `s${i}` }));
    await refused(body(many), /^oidc_config\.scopes: /);
    const claims = Array.from({ length: 51 }, (_, i) => claim({ claim_name: `c${i}` }));
    await refused(body([scopeDef({ claims })]), /^oidc_config\.scopes\.0\.claims: /);
    await refused(body([], { name: "n".repeat(257) }), /^oidc_config\.name: /);
    await refused(body([scopeDef({ claims: [claim({ value_type: "static", attribute_name: null, value: "v".repeat(2049) })] })]), /claims\.0\.value: /);
    const huge = await authnCall(caller, "PUT", `${base}/idp`, body([scopeDef({ display_name: "d".repeat(2_000_000) })]));
    expect([400, 413]).toContain(huge.status);
  });

  it("malformed bodies: not JSON, JSON null, an array; never a 5xx", async () => {
    for (const rawBody of ["{", "null", "[]", '"x"', '{"data": 5}', '{"data": "not-encrypted"}']) {
      const r = await authnCall(caller, "PUT", `${base}/idp`, undefined, { rawBody });
      expect(r.status, rawBody).toBeGreaterThanOrEqual(400);
      expect(r.status, rawBody).toBeLessThan(500);
    }
  });

  it("PATCH validates like PUT, and an empty oidc_config is 400", async () => {
    const { data: id } = await authnCall<string>(caller, "PUT", `${base}/idp`, body());
    const p = (payload: unknown) => authnCall<{ message: string }>(caller, "PATCH", `${base}/idp/${id}`, payload);
    expect((await p({})).status).toBe(400);
    expect((await p({ oidc_config: {} })).data.message).toMatch(/^oidc_config: names nothing to update/);
    expect((await p({ type: "saml", oidc_config: { name: "x" } })).status).toBe(400);
    expect((await p({ oidc_config: { scopes: [scopeDef(), scopeDef()] } })).data.message).toMatch(/defined twice/);
    expect((await p({ oidc_config: { name: null } })).data.message).toMatch(/^oidc_config\.name: must not be null/);
    const still = await authnCall<Idp[]>(caller, "POST", `${base}/idp/fetch`, {});
    expect(still.data[0]).toMatchObject({ __v: 0, oidc_config: { name: "IdP", scopes: [{ name: "email" }] } });
    await authnCall(caller, "DELETE", `${base}/idp/${id}`, undefined);
  });

  it("fetch: wrong types are 400", async () => {
    expect((await authnCall(caller, "POST", `${base}/idp/fetch`, { id: 5 })).status).toBe(400);
    expect((await authnCall(caller, "POST", `${base}/idp/fetch`, { type: ["oidc"] })).status).toBe(400);
    expect((await authnCall(caller, "POST", `${base}/idp/fetch`, null, { rawBody: JSON.stringify({ data: null }) })).status).toBe(400);
  });
});

describe("Identity Providers: another tenant's or community's IdP", () => {
  it("another tenant's id is 404 on PATCH and DELETE, absent from fetch, and unchanged", async () => {
    expect((await authnCall(caller, "PATCH", `${base}/idp/${theirId}`, { oidc_config: { name: "mine" } })).status).toBe(404);
    expect((await authnCall(caller, "DELETE", `${base}/idp/${theirId}`, undefined)).status).toBe(404);
    expect((await authnCall<Idp[]>(caller, "POST", `${base}/idp/fetch`, { id: theirId })).data).toEqual([]);
    const theirs = await authnCall<Idp[]>(otherCaller, "POST", `${otherBase}/idp/fetch`, {});
    expect(theirs.data).toHaveLength(1);
    expect(theirs.data[0]).toMatchObject({ _id: theirId, __v: 0, oidc_config: { name: "IdP" } });
  });

  it("a license of this tenant cannot reach the other tenant's path (403), nor a community it is not authorized for", async () => {
    expect((await authnCall(caller, "POST", `${otherBase}/idp/fetch`, {})).status).toBe(403);
    expect((await authnCall(caller, "DELETE", `${otherBase}/idp/${theirId}`, undefined)).status).toBe(403);
    const c2 = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: ["00000000-0000-0000-0000-000000000000"] });
    expect((await authnCall(c2, "PUT", `${base}/idp`, body())).status).toBe(403);
  });

  it("malformed and unknown ids are 404", async () => {
    for (const id of ["not-an-id", "0123456789ABCDEF01234567", "0123456789abcdef01234567", "%2e%2e", "x".repeat(64)]) {
      expect((await authnCall(caller, "PATCH", `${base}/idp/${id}`, { oidc_config: { name: "x" } })).status, id).toBe(404);
      expect((await authnCall(caller, "DELETE", `${base}/idp/${id}`, undefined)).status, id).toBe(404);
    }
  });

  it("a forged license or request id is refused before anything is read", async () => {
    const r = await authnCall(caller, "POST", `${base}/idp/fetch`, {}, { headers: { licensekey: "forged" } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    const noRid = await authnCall(caller, "POST", `${base}/idp/fetch`, {}, { headers: { requestid: "x" } });
    expect([400, 401, 403]).toContain(noRid.status);
  });
});
