import { beforeAll, describe, expect, it } from "vitest";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { scopeOf } from "../../../test/helpers/consents";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { fromBase64, fromUtf8, toBase64 } from "../../crypto/encoding";
import { generateSigningCredential, importCertificateKey, importPrivateKeyPem } from "../../crypto/x509";
import { samlSigningCredential } from "../../core/saml-idp/credential";
import { createServiceProvider } from "../../core/service-providers/service-providers";
import type { SamlConfigInput } from "../../core/service-providers/types";
import { deflateRaw, encodeRedirectMessage, signRedirectQuery } from "../../protocols/saml/authn-request";
import { NS, parseXml, textOf } from "../../protocols/saml/xml";
import { verifyElement } from "../../protocols/saml/xmldsig";

/**
 * Authn `saml/sso`, `saml/idp-init` and `idp/{idpIdentifier}/metadata` (seed 004): the
 * document's shapes, its errors, and hostile input (never a 5xx, never an answer for a
 * request that should be refused).
 */
type SsoAnswer = { SAMLResponse: string; relayState?: string; sp: { assertionConsumerServiceURL: string; assertionMethod: string } };

let t: TestTenant;
let other: TestTenant;
let service: AuthnCaller;
let appLicense: AuthnCaller;
let base: string;
let spKey: CryptoKey;
let spCertPem: string;

const userSession = (uid: string, aal: string | number = "1") => ({ pon_data: {}, authenticator_data: {}, user: { uid, moduleId: "m1" }, wallet: {}, aal });

async function sp(tt: TestTenant, config: Partial<SamlConfigInput> = {}) {
  const entityId = `https://sp-${crypto.randomUUID()}.example.test/metadata`;
  const view = await createServiceProvider(services(), scopeOf(tt), {
    name: "SAML app",
    type: "saml",
    saml_config: { entityId, assertionConsumerServiceURL: "https://sp.example.test/saml/acs", nameid: { format: "emailAddress", value: "email", attribute_type: "identity" }, ...config },
  });
  return { id: view._id, entityId };
}

const requestXml = (issuer: string, opts: { id?: string; acs?: string } = {}) =>
  `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${opts.id ?? "_" + crypto.randomUUID().replace(/-/g, "")}" Version="2.0" IssueInstant="${new Date().toISOString()}" AssertionConsumerServiceURL="${opts.acs ?? "https://sp.example.test/saml/acs"}"><saml:Issuer>${issuer}</saml:Issuer></samlp:AuthnRequest>`;

const sso = (payload: unknown, caller = service, path = `${base}/saml/sso`) => authnCall<SsoAnswer>(caller, "POST", path, payload, { host: t.host });

async function idpKey(tt: TestTenant): Promise<CryptoKey> {
  return importCertificateKey((await samlSigningCredential(services(), scopeOf(tt))).certPem);
}

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  service = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  appLicense = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
  const cred = await generateSigningCredential("RSA-SHA256", "sp");
  spKey = await importPrivateKeyPem(cred.privateKeyPkcs8Pem, "RSA-SHA256");
  spCertPem = cred.certPem;
});

describe("saml/sso", () => {
  it("answers a Redirect-encoded request: a signed Response for the user, RelayState back, the registered ACS and method", async () => {
    const s = await sp(t);
    const r = await sso({ SAMLPayload: { SAMLRequest: await encodeRedirectMessage(requestXml(s.entityId)), RelayState: "state-1" }, userSession: userSession(t.alice.uid) });
    expect(r.status).toBe(200);
    expect(r.data.sp).toEqual({ assertionConsumerServiceURL: "https://sp.example.test/saml/acs", assertionMethod: "post" });
    expect(r.data.relayState).toBe("state-1");
    const doc = parseXml(fromUtf8(fromBase64(r.data.SAMLResponse)));
    await verifyElement(doc, doc.documentElement, [await idpKey(t)]);
    expect(textOf(doc.documentElement.getElementsByTagNameNS(NS.saml, "NameID")[0]!)).toBe(t.alice.email);
    const issuer = textOf(doc.documentElement.getElementsByTagNameNS(NS.saml, "Issuer")[0]!);
    expect(issuer).toMatch(new RegExp(`/saml/${t.community.id}$`));
  });

  it("answers a POST-encoded request, and a signed Redirect request when the SP requires signatures", async () => {
    const plain = await sp(t);
    expect((await sso({ SAMLPayload: { SAMLRequest: btoa(requestXml(plain.entityId)) }, userSession: userSession(t.alice.uid) })).status).toBe(200);
    const signed = await sp(t, { authRequestSignRequired: true, signingCert: spCertPem });
    const SAMLRequest = await encodeRedirectMessage(requestXml(signed.entityId));
    const q = new URLSearchParams(await signRedirectQuery({ SAMLRequest, RelayState: "rs" }, spKey, "RSA-SHA256"));
    const ok = await sso({ SAMLPayload: { SAMLRequest, RelayState: "rs", SigAlg: q.get("SigAlg")!, Signature: q.get("Signature")! }, userSession: userSession(t.alice.uid) });
    expect(ok.status).toBe(200);
    const unsigned = await sso({ SAMLPayload: { SAMLRequest: await encodeRedirectMessage(requestXml(signed.entityId)) }, userSession: userSession(t.alice.uid) });
    expect(unsigned.status).toBe(400);
    const SAMLRequest2 = await encodeRedirectMessage(requestXml(signed.entityId));
    const q2 = new URLSearchParams(await signRedirectQuery({ SAMLRequest: SAMLRequest2, RelayState: "rs" }, spKey, "RSA-SHA256"));
    const wrong = await sso({ SAMLPayload: { SAMLRequest: SAMLRequest2, RelayState: "other", SigAlg: q2.get("SigAlg")!, Signature: q2.get("Signature")! }, userSession: userSession(t.alice.uid) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toMatch(/signature/);
  });

  it("refuses an unknown SP, another community's SP, an unregistered ACS URL (400), an unknown or foreign user (404 alike)", async () => {
    const s = await sp(t);
    const foreign = await sp(other);
    const call = async (xml: string, uid = t.alice.uid) => sso({ SAMLPayload: { SAMLRequest: await encodeRedirectMessage(xml) }, userSession: userSession(uid) });
    for (const r of [await call(requestXml("https://nobody.example.test")), await call(requestXml(foreign.entityId)), await call(requestXml(s.entityId, { acs: "https://evil.example.test/acs" }))]) {
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400 });
    }
    const missing = await call(requestXml(s.entityId), "00000000-0000-4000-8000-000000000000");
    const foreignUser = await call(requestXml(s.entityId), other.alice.uid);
    expect(missing.status).toBe(404);
    expect(foreignUser.status).toBe(404);
    expect(foreignUser.body.message).toBe(missing.body.message);
  });

  it("hostile SAMLRequest: malformed, not base64, a deflate bomb, a DOCTYPE, an oversized body: 4xx, never 5xx", async () => {
    const s = await sp(t);
    const bomb = toBase64(await deflateRaw(new Uint8Array(4 * 1024 * 1024)));
    const doctype = await encodeRedirectMessage(`<!DOCTYPE x [<!ENTITY a "b">]>` + requestXml(s.entityId));
    for (const SAMLRequest of ["%%%not base64", btoa("<not xml"), btoa("plain text"), bomb, doctype, await encodeRedirectMessage(`<x/>`)]) {
      const r = await sso({ SAMLPayload: { SAMLRequest }, userSession: userSession(t.alice.uid) });
      expect(r.status).toBe(400);
    }
    const wrongTypes = await sso({ SAMLPayload: { SAMLRequest: 42 }, userSession: { user: {} } });
    expect(wrongTypes.status).toBe(400);
    const huge = await authnCall(service, "POST", `${base}/saml/sso`, undefined, { host: t.host, rawBody: JSON.stringify({ data: "A".repeat(2_000_000) }) });
    expect([400, 413]).toContain(huge.status);
  });

  it("a replayed AuthnRequest ID, raced 10 times: exactly one 200", async () => {
    const s = await sp(t);
    const SAMLRequest = await encodeRedirectMessage(requestXml(s.entityId));
    const results = await Promise.all(Array.from({ length: 10 }, () => sso({ SAMLPayload: { SAMLRequest }, userSession: userSession(t.alice.uid) })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(9);
  });

  it("needs a system or service license authorized for the community", async () => {
    const s = await sp(t);
    const r = await sso({ SAMLPayload: { SAMLRequest: await encodeRedirectMessage(requestXml(s.entityId)) }, userSession: userSession(t.alice.uid) }, appLicense);
    expect(r.status).toBe(403);
    const otherPath = await sso({ SAMLPayload: { SAMLRequest: await encodeRedirectMessage(requestXml(s.entityId)) }, userSession: userSession(t.alice.uid) }, service, `/tenant/${other.tenant.id}/community/${other.community.id}/saml/sso`);
    expect([401, 403]).toContain(otherPath.status);
  });
});

describe("saml/idp-init", () => {
  it("sends an unsolicited Response to an SP that allows it; 404 for one that does not, another community's and a missing one", async () => {
    const on = await sp(t, { idpInitiated: true });
    const off = await sp(t);
    const foreign = await sp(other, { idpInitiated: true });
    const r = await authnCall<SsoAnswer>(service, "POST", `${base}/saml/idp-init`, { serviceProviderId: on.id, idpInitConfig: { relayState: "/welcome" }, userSession: userSession(t.alice.uid, 2) }, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.data.relayState).toBe("/welcome");
    const doc = parseXml(fromUtf8(fromBase64(r.data.SAMLResponse)));
    await verifyElement(doc, doc.documentElement, [await idpKey(t)]);
    expect(doc.documentElement.hasAttribute("InResponseTo")).toBe(false);
    for (const id of [off.id, foreign.id, "ffffffffffffffffffffffff"]) {
      const miss = await authnCall(service, "POST", `${base}/saml/idp-init`, { serviceProviderId: id, userSession: userSession(t.alice.uid) }, { host: t.host });
      expect(miss.status).toBe(404);
    }
  });
});

describe("idp/{idpIdentifier}/metadata", () => {
  it("answers the community's signed IdP metadata for its identifier; 404 for another; 400 for a non-https URL", async () => {
    const cred = await samlSigningCredential(services(), scopeOf(t));
    const config = (await services().authnConfig.idpConfigs.get(t.tenant.id, t.community.id))!;
    const body = { ssoUrl: `https://${t.host}/saml/${t.community.id}/sso`, sloUrl: `https://${t.host}/saml/${t.community.id}/slo` };
    const r = await authnCall<string>(service, "POST", `${base}/idp/${config.identifier}/metadata`, body, { host: t.host });
    expect(r.status).toBe(200);
    const doc = parseXml(r.data);
    expect(doc.documentElement.getAttribute("entityID")).toBe(cred.entityId);
    await verifyElement(doc, doc.documentElement, [await importCertificateKey(cred.certPem)]);
    expect(r.data).toContain(body.ssoUrl);
    const miss = await authnCall(service, "POST", `${base}/idp/00000000-0000-4000-8000-000000000000/metadata`, body, { host: t.host });
    expect(miss.status).toBe(404);
    const bad = await authnCall(service, "POST", `${base}/idp/${config.identifier}/metadata`, { ssoUrl: "javascript:alert(1)", sloUrl: body.sloUrl }, { host: t.host });
    expect(bad.status).toBe(400);
  });

  it("a community without idp_config gets 404 and no credential is created by asking", async () => {
    const fresh = await createTestTenant();
    const caller = await authnCaller({ tenantId: fresh.tenant.id, level: "system", communities: [fresh.community.id] });
    const r = await authnCall(caller, "POST", `/tenant/${fresh.tenant.id}/community/${fresh.community.id}/idp/whatever/metadata`, { ssoUrl: "https://a.example/sso", sloUrl: "https://a.example/slo" }, { host: fresh.host });
    expect(r.status).toBe(404);
    expect(await services().authnConfig.idpConfigs.get(fresh.tenant.id, fresh.community.id)).toBeNull();
  });
});
