import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { readSsoSession } from "../core/oidc-provider/sso-session";
import { samlSigningCredential } from "../core/saml-idp/credential";
import { toBase64 } from "../crypto/encoding";
import { importCertificateKey } from "../crypto/x509";
import { forgetTenantCache } from "../http/tenant";
import { encodeRedirectMessage, signRedirectQuery, verifyRedirectSignature } from "../protocols/saml/authn-request";
import { NS, parseXml } from "../protocols/saml/xml";
import { verifyElement } from "../protocols/saml/xmldsig";
import { buildLogoutRequest, buildLogoutResponse, parseLogoutResponse, STATUS, verifyLogoutSignature } from "../protocols/saml/logout";
import { Browser, hiddenFields } from "../../test/helpers/hosted-login";
import { registerSamlSp, scopeOf, signIn, spKeys, spMetadata, type SpKeys } from "../../test/helpers/saml-front";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../test/helpers/tenant";
import { SSO_COOKIE } from "./cookies";

/**
 * The SAML front channel (src/web/saml/) inside workerd: IdP-initiated links into the hosted
 * login, single logout (POST binding, signed both ways), the auto-post page. The AuthnRequest
 * checks and the Response itself are engineer B's (web/saml/idp-seam.ts until merged).
 */
let t: TestTenant;
let keys: SpKeys;
const b64 = (s: string) => toBase64(new TextEncoder().encode(s));
const fromB64 = (s: string) => new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));
const sloUrl = () => `http://${t.host}/saml/${t.community.id}/slo`;
const hidden = (html: string, name: string) => {
  const m = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  return m ? m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'").replace(/&amp;/g, "&") : null;
};

beforeAll(async () => {
  t = await createTestTenant();
  forgetTenantCache();
  keys = await spKeys();
});

describe("IdP-initiated sign-in (/saml/:communityId/idp-init/:spId)", () => {
  it("without a session shows the hosted login for the SP, CSP without script, forms to self and the ACS origin", async () => {
    const sp = await registerSamlSp(t, { idpInitiated: true, assertionConsumerServiceURL: "https://acs.example/saml/acs" }, { name: "Wiki" });
    const b = new Browser(t.host);
    const res = await b.get(`/saml/${t.community.id}/idp-init/${sp.id}?RelayState=%2Fhome`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<h1>Sign in<\/h1>/);
    expect(html).toContain("to continue to Wiki");
    expect(html).toContain(`action="/oidc/${t.community.id}/login"`);
    const csp = res.headers.get("content-security-policy")!;
    // The login page's one script is the passkey script, by nonce (web/passkeys.tsx).
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9_-]+'/);
    expect(csp).toContain("form-action 'self' https://acs.example");
    expect(b.cookies.has("__Host-edge-auth-csrf")).toBe(true);
  });

  it("a wrong password keeps the SAML transaction on the login page; the right one completes it once", async () => {
    const sp = await registerSamlSp(t, { idpInitiated: true }, { name: "Once" });
    const b = new Browser(t.host);
    const html = await (await b.get(`/saml/${t.community.id}/idp-init/${sp.id}`)).text();
    const f = hiddenFields(html);
    const wrong = await b.post(`/oidc/${t.community.id}/login`, { ...f, username: "Alice", password: "nope" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("to continue to Once");
    const ok = await b.post(`/oidc/${t.community.id}/login`, { ...f, username: "Alice", password: PASSWORD });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain(`action="${sp.acsUrl}"`);
    expect(b.cookies.has(SSO_COOKIE)).toBe(true);
    const again = await b.post(`/oidc/${t.community.id}/login`, { ...f, username: "Alice", password: PASSWORD });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("This sign-in has expired");
  });

  it("RelayState over 80 bytes (SAML Bindings §3.4.3) or repeated is refused with a page", async () => {
    const sp = await registerSamlSp(t, { idpInitiated: true });
    const b = new Browser(t.host);
    expect((await b.get(`/saml/${t.community.id}/idp-init/${sp.id}?RelayState=${"a".repeat(81)}`)).status).toBe(400);
    expect((await b.get(`/saml/${t.community.id}/idp-init/${sp.id}?RelayState=a&RelayState=b`)).status).toBe(400);
  });
});

describe("single logout (/saml/:communityId/slo), HTTP-POST binding", () => {
  it("a signed LogoutRequest ends the session it names and the browser's, and answers a signed LogoutResponse to the SP's SLO URL", async () => {
    const sp = await registerSamlSp(t, {
      signingCert: keys.certPem,
      logoutRequestSignRequired: true,
      logoutResponseSignRequired: true,
      metadata: spMetadata("x", "https://sp.example/slo"),
    });
    const b = new Browser(t.host);
    const { session, cookie } = await signIn(t, b);
    const xml = await buildLogoutRequest(
      { issuer: sp.entityId, destination: sloUrl(), nameId: { value: "alice" }, sessionIndexes: [session.sid] },
      { key: keys.keyPair.privateKey, alg: "RSA-SHA256" },
    );
    const res = await b.post(`/saml/${t.community.id}/slo`, { SAMLRequest: b64(xml), RelayState: "back-to-home" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('action="https://sp.example/slo"');
    expect(hidden(html, "RelayState")).toBe("back-to-home");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9_-]+'/);
    expect(csp).toContain("form-action https://sp.example;");
    expect(csp).not.toContain("'self'");
    const out = parseLogoutResponse(fromB64(hidden(html, "SAMLResponse")!));
    expect(out.status).toBe(STATUS.success);
    expect(out.destination).toBe("https://sp.example/slo");
    const cred = await samlSigningCredential(services(), scopeOf(t));
    expect(out.issuer).toBe(cred.entityId);
    await verifyLogoutSignature(out, [await importCertificateKey(cred.certPem)]);
    expect(await readSsoSession(services(), scopeOf(t), cookie)).toBeNull();
    expect(b.cookies.has(SSO_COOKIE)).toBe(false);
  });

  it("ends a session named by SessionIndex even without the browser's cookie (a cross-site POST carries none)", async () => {
    const sp = await registerSamlSp(t, {});
    const victim = new Browser(t.host);
    const { session, cookie } = await signIn(t, victim);
    const xml = await buildLogoutRequest({ issuer: sp.entityId, destination: sloUrl(), nameId: { value: "alice" }, sessionIndexes: [session.sid] });
    const res = await new Browser(t.host).post(`/saml/${t.community.id}/slo`, { SAMLRequest: b64(xml) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Signed out");
    expect(await readSsoSession(services(), scopeOf(t), cookie)).toBeNull();
  });

  it("an unsigned, wrongly signed, misaddressed or expired request is refused and the session lives on", async () => {
    const sp = await registerSamlSp(t, { signingCert: keys.certPem, logoutRequestSignRequired: true });
    const other = await spKeys();
    const b = new Browser(t.host);
    const { session, cookie } = await signIn(t, b);
    const base = { issuer: sp.entityId, destination: sloUrl(), nameId: { value: "alice" }, sessionIndexes: [session.sid] };
    const attempts = [
      await buildLogoutRequest(base),
      await buildLogoutRequest(base, { key: other.keyPair.privateKey, alg: "RSA-SHA256" }),
      await buildLogoutRequest({ ...base, destination: "https://elsewhere.example/slo" }, { key: keys.keyPair.privateKey, alg: "RSA-SHA256" }),
      await buildLogoutRequest({ ...base, notOnOrAfter: Date.now() - 1000 }, { key: keys.keyPair.privateKey, alg: "RSA-SHA256" }),
      await buildLogoutRequest({ ...base, issuer: "https://unknown.example/sp" }),
    ];
    for (const xml of attempts) {
      const res = await b.post(`/saml/${t.community.id}/slo`, { SAMLRequest: b64(xml) });
      expect(res.status).toBe(400);
    }
    expect(await readSsoSession(services(), scopeOf(t), cookie)).not.toBeNull();
  });

  it("a LogoutResponse is read and shows signed out; malformed messages are pages, never 5xx", async () => {
    const b = new Browser(t.host);
    const resp = await buildLogoutResponse({ issuer: "https://sp.example", destination: sloUrl(), inResponseTo: "_x", status: STATUS.success });
    const ok = await b.post(`/saml/${t.community.id}/slo`, { SAMLResponse: b64(resp) });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("Signed out");
    for (const body of [{ SAMLRequest: "%%%" }, { SAMLRequest: b64("<x/>") }, { SAMLRequest: b64("<!DOCTYPE x><x/>") }, {}, { SAMLRequest: b64(resp), SAMLResponse: b64(resp) }]) {
      const res = await b.post(`/saml/${t.community.id}/slo`, body as Record<string, string>);
      expect(res.status).toBe(400);
    }
    const json = await b.request("POST", `/saml/${t.community.id}/slo`, "{}", { "content-type": "application/json" });
    expect(json.status).toBe(415);
  });
});

const ssoUrl = () => `http://${t.host}/saml/${t.community.id}/sso`;
let reqN = 0;
const authnRequest = (issuer: string, o: { acs?: string; forceAuthn?: boolean; isPassive?: boolean; id?: string } = {}) =>
  `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${o.id ?? `_req${Date.now()}${reqN++}`}" Version="2.0" IssueInstant="${new Date().toISOString()}"` +
  ` Destination="${ssoUrl()}" AssertionConsumerServiceURL="${o.acs ?? "https://sp.example/acs"}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"` +
  `${o.forceAuthn ? ' ForceAuthn="true"' : ""}${o.isPassive ? ' IsPassive="true"' : ""}><saml:Issuer>${issuer}</saml:Issuer></samlp:AuthnRequest>`;
const redirectSso = async (b: Browser, xml: string, relay?: string) =>
  b.get(`/saml/${t.community.id}/sso?SAMLRequest=${encodeURIComponent(await encodeRedirectMessage(xml))}${relay ? `&RelayState=${encodeURIComponent(relay)}` : ""}`);

async function idpKey() {
  const cred = await samlSigningCredential(services(), scopeOf(t));
  return importCertificateKey(cred.certPem);
}

describe("SP-initiated sign-in (/saml/:communityId/sso)", () => {
  it("HTTP-Redirect without a session: the hosted login, then a signed Response posted to the registered ACS with InResponseTo and RelayState", async () => {
    const sp = await registerSamlSp(t, {}, { name: "Ledger SP" });
    const b = new Browser(t.host);
    const xml = authnRequest(sp.entityId, { id: "_first-request-1" });
    const page = await redirectSso(b, xml, "state-42");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("to continue to Ledger SP");
    const res = await b.post(`/oidc/${t.community.id}/login`, { ...hiddenFields(html), username: "Alice", password: PASSWORD });
    expect(res.status).toBe(200);
    const post = await res.text();
    expect(post).toContain('action="https://sp.example/acs"');
    expect(hidden(post, "RelayState")).toBe("state-42");
    const doc = parseXml(fromB64(hidden(post, "SAMLResponse")!));
    expect(doc.documentElement.getAttribute("InResponseTo")).toBe("_first-request-1");
    expect(doc.documentElement.getAttribute("Destination")).toBe("https://sp.example/acs");
    await verifyElement(doc, doc.documentElement, [await idpKey()]);
    expect(res.headers.get("content-security-policy")).toContain("form-action https://sp.example;");
  });

  it("HTTP-POST with a live session answers at once; ForceAuthn shows the login; IsPassive without a session answers NoPassive", async () => {
    const sp = await registerSamlSp(t, {});
    const b = new Browser(t.host);
    await signIn(t, b);
    const now = await b.post(`/saml/${t.community.id}/sso`, { SAMLRequest: b64(authnRequest(sp.entityId)) });
    expect(now.status).toBe(200);
    expect(hidden(await now.text(), "SAMLResponse")).toBeTruthy();
    const forced = await redirectSso(b, authnRequest(sp.entityId, { forceAuthn: true }));
    expect(await forced.text()).toMatch(/<h1>Sign in<\/h1>/);
    const anon = new Browser(t.host);
    const passive = await redirectSso(anon, authnRequest(sp.entityId, { isPassive: true }));
    expect(passive.status).toBe(200);
    const r = parseXml(fromB64(hidden(await passive.text(), "SAMLResponse")!));
    const codes = r.getElementsByTagNameNS(NS.samlp, "StatusCode");
    expect(codes[1]!.getAttribute("Value")).toBe("urn:oasis:names:tc:SAML:2.0:status:NoPassive");
    expect(r.getElementsByTagNameNS(NS.saml, "Assertion").length).toBe(0);
  });

  it("IdP-initiated with a live session posts an unsolicited Response; the metadata is public XML", async () => {
    const sp = await registerSamlSp(t, { idpInitiated: true });
    const b = new Browser(t.host);
    await signIn(t, b);
    const res = await b.get(`/saml/${t.community.id}/idp-init/${sp.id}?RelayState=home`);
    const html = await res.text();
    const doc = parseXml(fromB64(hidden(html, "SAMLResponse")!));
    expect(doc.documentElement.getAttribute("InResponseTo")).toBeNull();
    expect(hidden(html, "RelayState")).toBe("home");
    // The metadata's endpoints must be https (B's idp-metadata.ts): fetched over https here.
    const md = await SELF.fetch(`https://${t.host}/saml/${t.community.id}/metadata`);
    expect(md.status).toBe(200);
    expect(md.headers.get("content-type")).toContain("application/samlmetadata+xml");
    expect(md.headers.get("cache-control")).toBe("public, max-age=300");
    expect(await md.text()).toContain(`https://${t.host}/saml/${t.community.id}/sso`);
  });
});

describe("single logout, HTTP-Redirect binding", () => {
  it("a query-signed LogoutRequest ends the session; the LogoutResponse goes back by Redirect, query-signed by the IdP", async () => {
    const sp = await registerSamlSp(t, {
      signingCert: keys.certPem,
      logoutRequestSignRequired: true,
      logoutResponseSignRequired: true,
      metadata: spMetadata("x", "https://sp.example/slo-r", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"),
    });
    const b = new Browser(t.host);
    const { session, cookie } = await signIn(t, b);
    const xml = await buildLogoutRequest({ issuer: sp.entityId, destination: sloUrl(), nameId: { value: "alice" }, sessionIndexes: [session.sid] });
    const msg = await encodeRedirectMessage(xml);
    const forged = await b.get(`/saml/${t.community.id}/slo?SAMLRequest=${encodeURIComponent(msg)}`);
    expect(forged.status).toBe(400);
    expect(await readSsoSession(services(), scopeOf(t), cookie)).not.toBeNull();
    const query = await signRedirectQuery({ SAMLRequest: msg, RelayState: "rs" }, keys.keyPair.privateKey, "RSA-SHA256");
    const res = await b.get(`/saml/${t.community.id}/slo?${query}`);
    expect(res.status).toBe(303);
    const loc = res.headers.get("location")!;
    expect(loc.startsWith("https://sp.example/slo-r?SAMLResponse=")).toBe(true);
    await verifyRedirectSignature(loc.slice(loc.indexOf("?") + 1), [await idpKey()]);
    expect(new URL(loc).searchParams.get("RelayState")).toBe("rs");
    expect(await readSsoSession(services(), scopeOf(t), cookie)).toBeNull();
  });
});
