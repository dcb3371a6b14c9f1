import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { IDP_RSA_CERT, IDP_RSA_KEY, SP_EC_CERT, SP_EC_KEY, SP_RSA_CERT, SP_RSA_KEY } from "../../../test/helpers/saml-credentials";

/** Hostile inputs to the External Idp routes and samlRequest/generate: every one a 4xx, none changes what is stored. */
let t: TestTenant;
let other: TestTenant;
let caller: AuthnCaller;
let otherCaller: AuthnCaller;
let base: string;
let otherBase: string;
let theirId: string;

let n = 0;
const connection = (over: Record<string, unknown> = {}) => ({
  idpName: "Okta",
  idpEntityId: `https://idp.example/${++n}-${Math.random().toString(36).slice(2, 8)}`,
  samlLoginUrl: "https://idp.example/sso",
  samlLogoutUrl: "https://idp.example/slo",
  ssoBinding: "HTTP-Redirect",
  sloBinding: "HTTP-Redirect",
  forceAuthn: false,
  spEntityId: "https://sp.example",
  spSigningCertificate: SP_RSA_CERT,
  spPrivateKey: SP_RSA_KEY,
  idpSigningCertificate: IDP_RSA_CERT,
  ...over,
});

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  caller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  otherCaller = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
  otherBase = `/tenant/${other.tenant.id}/community/${other.community.id}`;
  theirId = (await authnCall<{ _id: string }>(otherCaller, "PUT", `${otherBase}/external_idp`, { connection: connection() })).data._id;
});

async function refused(payload: unknown, field: RegExp): Promise<void> {
  const r = await authnCall<{ message: string }>(caller, "PUT", `${base}/external_idp`, payload);
  expect(r.status, JSON.stringify(payload).slice(0, 200)).toBe(400);
  expect(r.data.message, JSON.stringify(payload).slice(0, 200)).toMatch(field);
}

describe("External Idp: hostile payloads", () => {
  it("missing fields and wrong types are 400 naming the field", async () => {
    await refused({}, /^connection: /);
    await refused({ connection: "x" }, /^connection: /);
    for (const f of ["idpName", "idpEntityId", "samlLoginUrl", "samlLogoutUrl", "ssoBinding", "sloBinding", "spEntityId", "idpSigningCertificate"]) {
      await refused({ connection: connection({ [f]: undefined }) }, new RegExp(`^connection\\.${f}: `));
      await refused({ connection: connection({ [f]: 7 }) }, new RegExp(`^connection\\.${f}: `));
    }
    await refused({ connection: connection({ forceAuthn: "true" }) }, /^connection\.forceAuthn: /);
    await refused({ connection: connection({ idpName: "  " }) }, /^connection\.idpName: must not be empty/);
    await refused({ connection: connection({ idpName: "a\u0001b" }) }, /^connection\.idpName: /);
    await refused({ connection: connection({ idpName: "x".repeat(257) }) }, /^connection\.idpName: /);
    await refused({ connection: connection(), routingPolicy: "yes" }, /^routingPolicy: /);
    await refused({ connection: connection(), routingPolicy: {} }, /^routingPolicy\.enabled: /);
    await refused({ connection: connection(), routingPolicy: { enabled: true, groups: { value: "a", operator: "overlap" } } }, /^routingPolicy\.groups\.value: /);
    await refused({ connection: connection(), routingPolicy: { enabled: true, groups: { value: ["a"], operator: "some" } } }, /^routingPolicy\.groups\.operator: /);
    await refused({ connection: connection(), routingPolicy: { enabled: true, usernames: { value: [""], operator: "overlap" } } }, /^routingPolicy\.usernames\.value\.0: /);
    await refused({ connection: connection(), routingPolicy: { enabled: true, usersInIdpStore: "no" } }, /^routingPolicy\.usersInIdpStore: /);
  });

  it("URLs: https, or http on loopback only; no userinfo, fragment, javascript:", async () => {
    for (const u of ["http://idp.example/sso", "javascript:alert(1)", "//idp.example/sso", "https://user:pw@idp.example/", "https://idp.example/#x", "ftp://idp.example/", "not a url", "https://idp.example/\\evil"]) {
      await refused({ connection: connection({ samlLoginUrl: u }) }, /^connection\.samlLoginUrl: /);
      await refused({ connection: connection({ samlLogoutUrl: u }) }, /^connection\.samlLogoutUrl: /);
    }
    for (const u of ["http://localhost:9000/sso", "http://127.0.0.1/sso"]) {
      expect((await authnCall(caller, "PUT", `${base}/external_idp`, { connection: connection({ samlLoginUrl: u }) })).status).toBe(200);
    }
  });

  it("bindings: the short and URN names only", async () => {
    await refused({ connection: connection({ ssoBinding: "Okta" }) }, /^connection\.ssoBinding: must be HTTP-Redirect or HTTP-POST/);
    await refused({ connection: connection({ sloBinding: "SOAP" }) }, /^connection\.sloBinding: /);
    const ok = await authnCall<{ connection: { ssoBinding: string; sloBinding: string } }>(caller, "PUT", `${base}/external_idp`, {
      connection: connection({ ssoBinding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", sloBinding: "Redirect" }),
    });
    expect(ok.data.connection).toMatchObject({ ssoBinding: "HTTP-POST", sloBinding: "HTTP-Redirect" });
  });

  it("certificates must parse; the SP key must be PKCS#8 and match its certificate", async () => {
    await refused({ connection: connection({ idpSigningCertificate: "Okta" }) }, /^connection\.idpSigningCertificate: /);
    await refused({ connection: connection({ idpSigningCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" }) }, /^connection\.idpSigningCertificate: /);
    await refused({ connection: connection({ spSigningCertificate: "Okta" }) }, /^connection\.spSigningCertificate: /);
    await refused({ connection: connection({ spPrivateKey: "Okta" }) }, /^connection\.spPrivateKey /);
    await refused({ connection: connection({ spPrivateKey: IDP_RSA_KEY }) }, /^connection\.spPrivateKey does not match spSigningCertificate/);
    await refused({ connection: connection({ spPrivateKey: SP_EC_KEY }) }, /^connection\.spPrivateKey does not match/);
    await refused({ connection: connection({ spSigningCertificate: SP_EC_CERT }) }, /^connection\.spPrivateKey does not match/);
    // A PKCS#8 body under a PKCS#1 label: the label and the content disagree.
    await refused({ connection: connection({ spPrivateKey: SP_RSA_KEY.replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY").replace("END PRIVATE KEY", "END RSA PRIVATE KEY") }) }, /^connection\.spPrivateKey is not a PKCS#8, PKCS#1 or SEC1 private key/);
    await refused({ connection: connection({ spSigningCertificate: "" }) }, /^connection\.spSigningCertificate: is required with spPrivateKey/);
    await refused({ connection: connection({ spPrivateKey: "" }) }, /^connection\.spPrivateKey: is required with spSigningCertificate/);
  });

  it("malformed bodies: not JSON, null, an array, a huge one; never a 5xx", async () => {
    for (const rawBody of ["{", "null", "[]", '"x"', '{"data": 5}', '{"data": "not-encrypted"}']) {
      const r = await authnCall(caller, "PUT", `${base}/external_idp`, undefined, { rawBody });
      expect(r.status, rawBody).toBeGreaterThanOrEqual(400);
      expect(r.status, rawBody).toBeLessThan(500);
    }
    const huge = await authnCall(caller, "PUT", `${base}/external_idp`, { connection: connection({ idpName: "d".repeat(2_000_000) }) });
    expect([400, 413]).toContain(huge.status);
    const patch = await authnCall(caller, "PATCH", `${base}/external_idp/${theirId}`, { connection: 5 });
    expect(patch.status).toBe(400);
  });
});

describe("External Idp: tenancy and licenses", () => {
  it("another community's id: fetch leaves it out, PATCH and DELETE are 404 and change nothing", async () => {
    expect((await authnCall<unknown[]>(caller, "POST", `${base}/external_idp/fetch`, { ids: [theirId] })).data).toEqual([]);
    expect((await authnCall(caller, "PATCH", `${base}/external_idp/${theirId}`, { connection: connection() })).status).toBe(404);
    expect((await authnCall(caller, "DELETE", `${base}/external_idp/${theirId}`, undefined)).status).toBe(404);
    for (const bad of ["not-an-id", "%2e%2e", "0".repeat(64)]) expect((await authnCall(caller, "DELETE", `${base}/external_idp/${bad}`, undefined)).status).toBe(404);
    const theirs = (await services().identity.externalIdps.get(other.tenant.id, other.community.id, theirId))!;
    expect(theirs.version).toBe(0);
    // Our license does not open their community's path.
    expect((await authnCall(caller, "POST", `${otherBase}/external_idp/fetch`, {})).status).toBe(403);
    expect((await authnCall(caller, "PUT", `${otherBase}/external_idp`, { connection: connection() })).status).toBe(403);
  });

  it("license levels: system and service only", async () => {
    for (const level of ["app", "service_ext"] as const) {
      const low = await authnCaller({ tenantId: t.tenant.id, level, communities: [t.community.id] });
      expect((await authnCall(low, "POST", `${base}/external_idp/fetch`, {})).status, level).toBe(403);
      expect((await authnCall(low, "PUT", `${base}/external_idp`, { connection: connection() })).status, level).toBe(403);
      expect((await authnCall(low, "POST", `${base}/samlRequest/generate`, { idpId: theirId, dns: t.host })).status, level).toBe(403);
    }
    const sys = await authnCaller({ tenantId: null, level: "system", communities: [] });
    expect((await authnCall(sys, "POST", `${base}/external_idp/fetch`, {})).status).toBe(200);
  });
});
