import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import type { Scope } from "../../core/context";
import { registerTestIdp, type TestExternalIdp } from "../../core/saml-sp/test-idp";
import { parseTenantSettings } from "../../core/tenants/settings";
import { fromBase64 } from "../../crypto/encoding";
import { generateSigningCredential, importPrivateKeyPem } from "../../crypto/x509";
import { inflateRaw } from "../../protocols/saml/authn-request-build";
import { responseXml, signXml, type ResponseOptions } from "../../protocols/saml/hostile/fixtures";
import { newSamlId, parseXml } from "../../protocols/saml/xml";

/** Sentinel SSO over a SAML connection (seed 000 /sso/initiate): initiate -> AuthnRequest URL; the ACS signs in. */
let t: TestTenant;
let idp: TestExternalIdp;
let key: CryptoKey;
let forger: CryptoKey;
const APP = "https://app.example.com/sso-done";
const domain = `saml-${crypto.randomUUID().slice(0, 8)}.example`;
const acsUrl = () => `http://${t.host}/v1.0/auth/sso/saml/acs`;
const b64 = (xml: string) => btoa(String.fromCharCode(...new TextEncoder().encode(xml)));

beforeAll(async () => {
  t = await createTestTenant();
  const scope: Scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
  idp = await registerTestIdp(services(), scope, { origin: `http://${t.host}`, acsUrl: `http://${t.host}/v1.0/auth/sso/saml/acs`, usersInIdpStore: true });
  const cred = await generateSigningCredential("RSA-SHA256", "sso-saml-idp");
  key = await importPrivateKeyPem(cred.privateKeyPkcs8Pem, "RSA-SHA256");
  const body = idp.record.body as { connection: Record<string, unknown> };
  expect(await services().identity.externalIdps.replace({ ...idp.record, body: { ...idp.record.body, connection: { ...body.connection, idpSigningCertificate: cred.certPem } } } as typeof idp.record, idp.record.version)).toBe(true);
  forger = await importPrivateKeyPem((await generateSigningCredential("RSA-SHA256", "forger")).privateKeyPkcs8Pem, "RSA-SHA256");
  await services().ssoConnections.create({
    id: crypto.randomUUID(), tenantId: t.tenant.id, communityId: t.community.id, name: "SAML", type: "saml", domains: [domain],
    issuer: idp.entityId, clientId: "", clientSecretSealed: null, tokenEndpointAuthMethod: "none", clientKeySealed: null, clientPublicJwk: null,
    discoveryUrl: null, authorizationEndpoint: null, tokenEndpoint: null, jwksUri: null, userinfoEndpoint: null, scopes: "", redirectUris: [APP], defaultRoles: ["user"], enabled: true,
  });
});

async function initiate(state = "s1"): Promise<string> {
  const res = await SELF.fetch(`http://${t.host}/v1.0/auth/sso/initiate`, { method: "POST", body: JSON.stringify({ email: `bob@${domain}`, state }), headers: { host: t.host, "content-type": "application/json", "cf-connecting-ip": "203.0.113.9" } });
  expect(res.status).toBe(200);
  const u = new URL(((await res.json()) as { authorizationUrl: string }).authorizationUrl);
  expect(`${u.origin}${u.pathname}`).toBe("https://idp.example/sso");
  const req = parseXml(await inflateRaw(fromBase64(u.searchParams.get("SAMLRequest")!))).documentElement;
  expect(req.getAttribute("AssertionConsumerServiceURL")).toBe(acsUrl());
  return req.getAttribute("ID")!;
}

async function signed(o: ResponseOptions = {}, k: CryptoKey = key): Promise<string> {
  const xml = responseXml({ issuer: idp.entityId, audience: idp.spEntityId, destination: acsUrl(), recipient: acsUrl(), issuedAt: Date.now(), assertionId: newSamlId(), responseId: newSamlId(), nameId: `bob@${domain}`, attributes: { email: [`bob@${domain}`] }, ...o });
  return b64(await signXml(xml, { key: k }));
}

const post = (SAMLResponse: string) =>
  SELF.fetch(acsUrl(), { method: "POST", redirect: "manual", body: new URLSearchParams({ SAMLResponse }).toString(), headers: { host: t.host, "content-type": "application/x-www-form-urlencoded" } });

describe("Sentinel SSO over SAML", () => {
  it("initiate answers the AuthnRequest URL; the signed Response signs in and redirects to the app, token in the fragment; a replay is refused", async () => {
    const SAMLResponse = await signed({ inResponseTo: await initiate("s1") });
    const res = await post(SAMLResponse);
    expect(res.status).toBe(302);
    const u = new URL(res.headers.get("location")!);
    expect(`${u.origin}${u.pathname}`).toBe(APP);
    const f = new URLSearchParams(u.hash.slice(1));
    expect(f.get("token")).toMatch(/^ey/);
    expect(f.get("state")).toBe("s1");
    const again = await post(SAMLResponse);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ code: "invalid_grant" });
  });

  it("forged, unsigned, unsolicited, wrong audience, malformed: 400 invalid_grant, never a 5xx", async () => {
    const cases = [
      await signed({ inResponseTo: await initiate() }, forger),
      b64(responseXml({ issuer: idp.entityId, audience: idp.spEntityId, destination: acsUrl(), recipient: acsUrl(), issuedAt: Date.now(), inResponseTo: await initiate() })),
      await signed({ inResponseTo: null }),
      await signed({ inResponseTo: await initiate(), audience: "https://other.example/sp" }),
      await signed({ inResponseTo: await initiate(), issuer: "https://unknown-idp.example/" }),
      "%%%",
      b64("<nope"),
    ];
    for (const c of cases) {
      const res = await post(c);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_grant" });
    }
  });

  it("an email outside the connection's domains (or none) ends at the app with access_denied, no token", async () => {
    for (const email of ["mallory@elsewhere.example", null]) {
      const res = await post(await signed({ inResponseTo: await initiate("s2"), nameId: "mallory", attributes: email ? { email: [email] } : {} }));
      expect(res.status).toBe(302);
      const f = new URLSearchParams(new URL(res.headers.get("location")!).hash.slice(1));
      expect(f.get("error")).toBe("access_denied");
      expect(f.get("token")).toBeNull();
      expect(f.get("state")).toBe("s2");
    }
  });

  it("two racing posts of one Response: exactly one signs in", async () => {
    const SAMLResponse = await signed({ inResponseTo: await initiate() });
    const got = await Promise.all([0, 1, 2].map(() => post(SAMLResponse)));
    expect(got.map((r) => r.status).sort()).toEqual([302, 400, 400]);
  });
});
