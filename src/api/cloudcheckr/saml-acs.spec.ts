import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import type { Scope } from "../../core/context";
import { parseTenantSettings } from "../../core/tenants/settings";
import { generateSigningCredential, importPrivateKeyPem } from "../../crypto/x509";
import { forgetTenantCache } from "../../http/tenant";
import { encodeRedirectMessage, signRedirectQuery } from "../../protocols/saml/authn-request";
import { responseXml, signXml, type ResponseOptions } from "../../protocols/saml/hostile/fixtures";
import { newSamlId, samlInstant } from "../../protocols/saml/xml";
import { registerTestIdp, type TestExternalIdp } from "../../core/saml-sp/test-idp";

/** CloudCheckr's ACS and SLS (seed 001): real D1/KV/DO, a test IdP whose key we hold. */
let t: TestTenant;
let idp: TestExternalIdp;
let key: CryptoKey;
let forger: CryptoKey;
const APP = "https://glass.example.com/app";
const DASHBOARD = "https://glass.example.com/app/dashboard";

const acsUrl = () => `http://${t.host}/v1/auth/saml/acs`;
const slsUrl = () => `http://${t.host}/v1/auth/saml/sls`;
const b64 = (xml: string) => btoa(String.fromCharCode(...new TextEncoder().encode(xml)));

beforeAll(async () => {
  t = await createTestTenant();
  const scope: Scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
  idp = await registerTestIdp(services(), scope, { origin: `http://${t.host}`, acsUrl: `http://${t.host}/v1/auth/saml/acs` });
  // Our own key for the same IdP: the record's certificate is replaced by one we can sign with.
  const cred = await generateSigningCredential("RSA-SHA256", "cc-test-idp");
  key = await importPrivateKeyPem(cred.privateKeyPkcs8Pem, "RSA-SHA256");
  const record = { ...idp.record, body: { ...idp.record.body, connection: { ...(idp.record.body as { connection: Record<string, unknown> }).connection, idpSigningCertificate: cred.certPem } } };
  expect(await services().identity.externalIdps.replace(record as typeof idp.record, idp.record.version)).toBe(true);
  const other = await generateSigningCredential("RSA-SHA256", "forger");
  forger = await importPrivateKeyPem(other.privateKeyPkcs8Pem, "RSA-SHA256");
  await services().tenants.updateTenantSettings(t.tenant.id, {
    cloudcheckr: { saml: { communityId: t.community.id, externalIdpId: idp.record.id, allowedReturnUrls: [APP], dashboardUrl: DASHBOARD } },
  });
  forgetTenantCache();
});

async function signedResponse(o: ResponseOptions = {}, k: CryptoKey = key): Promise<string> {
  const xml = responseXml({ issuer: idp.entityId, audience: idp.spEntityId, destination: acsUrl(), recipient: acsUrl(), issuedAt: Date.now(), assertionId: newSamlId(), responseId: newSamlId(), nameId: "alice", ...o });
  return b64(await signXml(xml, { key: k }));
}

const post = (body: string, type = "application/x-www-form-urlencoded") =>
  SELF.fetch(acsUrl(), { method: "POST", redirect: "manual", body, headers: { host: t.host, "content-type": type, "cf-connecting-ip": "203.0.113.7" } });
const form = (f: Record<string, string>) => new URLSearchParams(f).toString();
const get = (path: string) => SELF.fetch(`http://${t.host}${path}`, { redirect: "manual", headers: { host: t.host, "cf-connecting-ip": "203.0.113.7" } });

async function expectRefused(res: Response, status = 400, error = "invalid_request") {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: string; message: string };
  expect(body.error).toBe(error);
  return body;
}

describe("POST /v1/auth/saml/acs", () => {
  it("a signed Response to our request redirects to the return URL kept at login, the token in the fragment; a replay is refused", async () => {
    const inResponseTo = await idp.request({ returnUrl: `${APP}/reports?x=1`, relayState: "r1" });
    const SAMLResponse = await signedResponse({ inResponseTo });
    const res = await post(form({ SAMLResponse, RelayState: "https://evil.example/" }));
    expect(res.status).toBe(302);
    const u = new URL(res.headers.get("location")!);
    expect(`${u.origin}${u.pathname}${u.search}`).toBe(`${APP}/reports?x=1`);
    const f = new URLSearchParams(u.hash.slice(1));
    expect(f.get("token")).toMatch(/^ey/);
    expect(f.get("token_type")).toBe("Bearer");
    // The token is CloudCheckr's: it refreshes on PATCH /v1/auth/token.
    const refreshed = await SELF.fetch(`http://${t.host}/v1/auth/token`, { method: "PATCH", headers: { host: t.host, authorization: `Bearer ${f.get("token")}` } });
    expect(refreshed.status).toBe(200);

    const again = await post(form({ SAMLResponse }));
    const body = await expectRefused(again);
    expect(body.message).toBe("the SAML response was not accepted");
    expect(again.headers.get("www-authenticate")).toBeNull();
  });

  it("two racing posts of one Response: exactly one signs in", async () => {
    const SAMLResponse = await signedResponse({ inResponseTo: await idp.request({ returnUrl: APP, relayState: "r" }) });
    const got = await Promise.all([0, 1, 2].map(() => post(form({ SAMLResponse }))));
    expect(got.map((r) => r.status).sort()).toEqual([302, 400, 400]);
  });

  it("unsigned, signed by another key, wrong audience, unsolicited, wrong destination, unknown user: all refused alike", async () => {
    const cases = [
      b64(responseXml({ issuer: idp.entityId, audience: idp.spEntityId, destination: acsUrl(), recipient: acsUrl(), issuedAt: Date.now(), inResponseTo: await idp.request() })),
      await signedResponse({ inResponseTo: await idp.request() }, forger),
      await signedResponse({ inResponseTo: await idp.request(), audience: "https://other.example/sp" }),
      await signedResponse({ inResponseTo: null }),
      // A NameID no account has: the same refusal as a forged one (nothing tells them apart).
      await signedResponse({ inResponseTo: await idp.request(), nameId: "nobody-here" }),
      await signedResponse({ inResponseTo: await idp.request(), destination: "https://other.example/acs", recipient: "https://other.example/acs" }),
    ];
    const messages = new Set<string>();
    for (const SAMLResponse of cases) messages.add((await expectRefused(await post(form({ SAMLResponse })))).message);
    expect([...messages]).toEqual(["the SAML response was not accepted"]);
  });

  it("malformed bodies: never a 5xx", async () => {
    await expectRefused(await post(form({ SAMLResponse: "%%%not base64%%%" })));
    await expectRefused(await post(form({ SAMLResponse: b64("<not-xml") })));
    await expectRefused(await post(form({ SAMLResponse: b64('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>') })));
    expect((await post(form({ RelayState: "x" }))).status).toBe(422);
    expect((await post(form({ SAMLResponse: "" }))).status).toBe(422);
    const json = await post(JSON.stringify({ SAMLResponse: "x" }), "application/json");
    expect(json.status).toBeGreaterThanOrEqual(400);
    expect(json.status).toBeLessThan(500);
  });

  it("bodies: past 64 KiB is still read (a signed Response is large); past 512 KiB is 413", async () => {
    await expectRefused(await post(form({ SAMLResponse: "A".repeat(100 * 1024) })));
    await expectRefused(await post(form({ SAMLResponse: "A".repeat(600 * 1024) })), 413, "payload_too_large");
  });

  it("a tenant without SAML configured: 404 not_configured", async () => {
    const bare = await createTestTenant();
    const res = await SELF.fetch(`http://${bare.host}/v1/auth/saml/acs`, { method: "POST", redirect: "manual", body: form({ SAMLResponse: "eA==" }), headers: { host: bare.host, "content-type": "application/x-www-form-urlencoded" } });
    await expectRefused(res, 404, "not_configured");
  });
});

function logoutResponseXml(o: { issuer?: string; destination?: string; status?: string } = {}): string {
  return (
    `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${newSamlId()}" Version="2.0" IssueInstant="${samlInstant(Date.now())}" Destination="${o.destination ?? slsUrl()}">` +
    `<saml:Issuer>${o.issuer ?? idp.entityId}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${o.status ?? "urn:oasis:names:tc:SAML:2.0:status:Success"}"/></samlp:Status></samlp:LogoutResponse>`
  );
}

async function startLogout(): Promise<string> {
  const res = await get(`/v1/auth/saml/logout?return_url=${encodeURIComponent(`${APP}/bye`)}`);
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!).searchParams.get("RelayState")!;
}

async function slsQuery(relay: string, xml = logoutResponseXml(), k: CryptoKey | null = key): Promise<string> {
  const SAMLResponse = await encodeRedirectMessage(xml);
  if (!k) return new URLSearchParams({ SAMLResponse, RelayState: relay }).toString();
  return signRedirectQuery({ SAMLResponse, RelayState: relay }, k, "RSA-SHA256");
}

describe("GET /v1/auth/saml/sls", () => {
  it("a signed LogoutResponse whose RelayState saml/logout issued redirects to the kept return URL, once", async () => {
    const relay = await startLogout();
    const q = await slsQuery(relay);
    const res = await get(`/v1/auth/saml/sls?${q}`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${APP}/bye`);
    await expectRefused(await get(`/v1/auth/saml/sls?${q}`));
  });

  it("a forged signature, or none, is refused and does not use up the logout", async () => {
    const relay = await startLogout();
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery(relay, logoutResponseXml(), forger)}`));
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery(relay, logoutResponseXml(), null)}`));
    const good = await get(`/v1/auth/saml/sls?${await slsQuery(relay)}`);
    expect(good.status).toBe(302);
  });

  it("unknown RelayState, wrong issuer or destination, a failed status, malformed messages: refused, never a 5xx", async () => {
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery("0123456789abcdef0123456789abcdef")}`));
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery("not-a-relay")}`));
    const relay = await startLogout();
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery(relay, logoutResponseXml({ issuer: "https://evil.example/" }))}`));
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery(relay, logoutResponseXml({ destination: "https://evil.example/sls" }))}`));
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery(relay, logoutResponseXml({ status: "urn:oasis:names:tc:SAML:2.0:status:Responder" }))}`));
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery(relay, "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>")}`));
    await expectRefused(await get(`/v1/auth/saml/sls?${await slsQuery(relay, "<<<")}`));
    await expectRefused(await get(`/v1/auth/saml/sls?SAMLResponse=%%%&RelayState=${relay}&SigAlg=x&Signature=y`));
    expect((await get(`/v1/auth/saml/sls?RelayState=${relay}`)).status).toBe(422);
    // None of those used up the logout.
    expect((await get(`/v1/auth/saml/sls?${await slsQuery(relay)}`)).status).toBe(302);
  });
});
