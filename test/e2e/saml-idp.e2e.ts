/**
 * The service as a SAML 2.0 IdP (issue 9) against an SP nobody here wrote: @node-saml/node-saml
 * 5.1 (the library under passport-saml), through Debian's Chromium on the hosted login, with the
 * IdP certificate pinned in the SP. node-saml does every Web Browser SSO check itself (SAML
 * Profiles §4.1.4.3: signature with the pinned key, Issuer, Destination, Recipient, Audience,
 * time window, InResponseTo against the requests it made); xmlsec1 then verifies the same
 * signatures independently, and the IdP metadata's.
 *
 * One Worker, one browser; Alice's browser context is one user's browser (one SSO session)
 * across the ordered tests. The SP is registered through the Authn API (PUT serviceprovider,
 * enveloped, the demo license), pointing at a loopback ACS that catches the auto-posted form.
 */
import { inflateRawSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser";
import { startWorker, type StartedWorker } from "./harness";
import { arriveAtAcs, certB64, communityIdpCert, demoAuthnClient, idOfElement, openRefused, registerSamlSp, rootAttr, xmlOf, type AuthnClient } from "./saml-helpers";
import { createSp, startAcs } from "../../scripts/lib/saml-sp.mjs";
import { ID_ATTRS, xmlsecVerify } from "../../scripts/lib/xmlsec.mjs";

type Sp = ReturnType<typeof createSp>;
type Acs = Awaited<ReturnType<typeof startAcs>>;

let w: StartedWorker;
let browser: Browser;
let acs: Acs;
/** The SP's SingleLogoutService (its metadata's HTTP-POST endpoint), catching the LogoutResponse. */
let slo: Acs;
let client: AuthnClient;
let alice: BrowserContext;
let alicePage: Page;
let idp: { certPem: string; entityId: string; metadata: string };
let spId: string;
let base: string;

const SP_ENTITY_ID = "urn:e2e:node-saml-sp";
const login = () => ({ username: w.demo.user.username, password: w.demo.user.password });

/** A node-saml SP as registered, with the community's IdP pinned; `extra` passes node-saml options through. */
function sp(extra: Record<string, unknown> = {}): Sp {
  return createSp({
    entryPoint: `${base}/sso`,
    issuer: SP_ENTITY_ID,
    callbackUrl: acs.url,
    idpCert: idp.certPem,
    idpIssuer: idp.entityId,
    logoutUrl: `${base}/slo`,
    logoutCallbackUrl: slo.url,
    ...extra,
  } as Parameters<typeof createSp>[0]);
}

/** What the first SP-initiated sign-in answered, for the tests after it. */
const first: { SAMLResponse?: string; RelayState?: string; profile?: Record<string, any>; url?: string } = {};

beforeAll(async () => {
  [w, browser, acs, slo] = await Promise.all([startWorker(), launchBrowser(), startAcs(), startAcs({ path: "/slo" })]);
  base = `${w.url}/saml/${encodeURIComponent(w.demo.communityId)}`;
  client = await demoAuthnClient(w);
  idp = await communityIdpCert(client, w);
  const created = await registerSamlSp(client, w, "node-saml SP", {
    entityId: SP_ENTITY_ID,
    assertionConsumerServiceURL: acs.url,
    assertionMethod: "post",
    assertionSignRequired: true,
    idpInitiated: true,
    // The LogoutResponse goes to the SingleLogoutService of the SP's metadata (node-saml's own).
    logoutResponseSignRequired: true,
    metadata: sp().metadata(),
    nameid: { format: "emailAddress", value: "email", attribute_type: "identity" },
    attributes: [
      { claim_name: "givenName", attribute_name: "given_name", attribute_type: "identity", value_type: "dynamic" },
      { claim_name: "roles", attribute_name: "roles", attribute_type: "identity", value_type: "dynamic" },
      { claim_name: "department", attribute_type: "identity", value_type: "static", value: "Engineering" },
    ],
  });
  spId = created._id;
  alice = await browser.newContext();
  alicePage = await alice.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([acs?.close(), slo?.close()]);
  await w?.stop();
});

describe("IdP metadata", () => {
  it("names the entity, the SSO endpoints and the signing certificate idp_config holds; xmlsec1 verifies it when signed", async () => {
    const m = idp.metadata;
    // A generated credential's entity ID is <https://primary hostname>/saml/<communityId>: an
    // identifier (stable across ports and schemes), not where the endpoints are.
    expect(idp.entityId).toMatch(new RegExp(`/saml/${w.demo.communityId}$`));
    expect(rootAttr(m, "entityID")).toBe(idp.entityId);
    expect(m).toContain("IDPSSODescriptor");
    expect(m).toMatch(new RegExp(`Location="http://(localhost|127\\.0\\.0\\.1):${new URL(w.url).port}/saml/${w.demo.communityId}/sso"`));
    expect(m).toContain("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect");
    expect(m).toContain("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST");
    // The KeyDescriptor's certificate is the one GET idp_config answers.
    const x509 = /<(?:\w+:)?X509Certificate>([^<]+)</.exec(m)?.[1];
    expect(x509 && certB64(x509)).toBe(certB64(idp.certPem));
    if (/<(?:\w+:)?Signature[\s>]/.test(m)) {
      const v = await xmlsecVerify(m, { certPem: idp.certPem, idAttr: ID_ATTRS.entityDescriptor });
      expect(v.ok, v.output).toBe(true);
    }
    const res = await fetch(`${base}/metadata`);
    expect(res.headers.get("content-type")).toMatch(/^application\/samlmetadata\+xml/);
  });
});

describe("node-saml SP against the community's IdP, through the hosted login", () => {
  it("SP-initiated, HTTP-Redirect: the user signs in; node-saml validates the Response and reads NameID and attributes", async () => {
    const s = sp();
    const { url, requestId } = await s.authnRequestUrl("relay-redirect-1");
    const { seen } = await arriveAtAcs(alicePage, url, acs.url, login());
    expect(seen).toEqual(["login"]);
    const posted = await acs.nextPost();
    expect(posted.RelayState).toBe("relay-redirect-1");
    Object.assign(first, { SAMLResponse: posted.SAMLResponse, url });
    expect(rootAttr(xmlOf(posted.SAMLResponse!), "InResponseTo")).toBe(requestId);
    const { profile } = await s.validatePostResponse({ SAMLResponse: posted.SAMLResponse!, RelayState: posted.RelayState! });
    first.profile = profile as Record<string, any>;
    expect(profile?.issuer).toBe(idp.entityId);
    expect(profile?.nameID).toBe("alice@localhost");
    expect(profile?.nameIDFormat).toBe("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    expect(profile?.givenName).toBe("Alice");
    expect([profile?.roles].flat()).toEqual(["user"]);
    expect(profile?.department).toBe("Engineering");
    expect(typeof profile?.sessionIndex).toBe("string");
  });

  it("xmlsec1 verifies the Response's and the Assertion's signatures with the pinned certificate, and refuses them tampered", async () => {
    const xml = xmlOf(first.SAMLResponse!);
    const idAttr = [ID_ATTRS.response, ID_ATTRS.assertion];
    const responseId = rootAttr(xml, "ID")!;
    const assertionId = idOfElement(xml, "Assertion")!;
    const signedIds = [responseId, assertionId].filter((id) => new RegExp(`URI="#${id}"`).test(xml));
    // The SP asked for signed assertions (assertionSignRequired): the assertion is signed at least.
    expect(signedIds).toContain(assertionId);
    for (const nodeId of signedIds) {
      const v = await xmlsecVerify(xml, { certPem: idp.certPem, idAttr, nodeId });
      expect(v.ok, `${nodeId}: ${v.output}`).toBe(true);
    }
    const tampered = xml.replace(">alice@localhost<", ">mallory@localhost<");
    expect(tampered).not.toBe(xml);
    expect((await xmlsecVerify(tampered, { certPem: idp.certPem, idAttr, nodeId: assertionId })).ok).toBe(false);
  });

  it("the same AuthnRequest again is refused (its ID is single use): an error page, nothing posted", async () => {
    const r = await openRefused(alicePage, first.url!);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(alicePage.url().startsWith(w.url)).toBe(true);
    await expect(acs.nextPost(300)).rejects.toThrow(/no POST/);
  });

  it("a second sign-in reuses the SSO session: no login page, the same session", async () => {
    const s = sp();
    const { url } = await s.authnRequestUrl("relay-2");
    const { seen } = await arriveAtAcs(alicePage, url, acs.url);
    expect(seen).toEqual([]);
    const posted = await acs.nextPost();
    const { profile } = await s.validatePostResponse({ SAMLResponse: posted.SAMLResponse!, RelayState: posted.RelayState! });
    expect(profile?.nameID).toBe("alice@localhost");
    expect(profile?.sessionIndex).toBe(first.profile!.sessionIndex);
  });

  it("ForceAuthn shows the login page again despite the SSO session", async () => {
    const s = sp({ forceAuthn: true });
    const { url, xml } = await s.authnRequestUrl("relay-force");
    expect(xml).toContain('ForceAuthn="true"');
    const { seen } = await arriveAtAcs(alicePage, url, acs.url, login());
    expect(seen).toEqual(["login"]);
    const posted = await acs.nextPost();
    const { profile } = await s.validatePostResponse({ SAMLResponse: posted.SAMLResponse!, RelayState: posted.RelayState! });
    expect(profile?.nameID).toBe("alice@localhost");
  });

  it("IdP-initiated (/saml/<communityId>/idp-init/<spId>): an unsolicited Response with the RelayState, accepted by node-saml", async () => {
    const { seen } = await arriveAtAcs(alicePage, `${base}/idp-init/${encodeURIComponent(spId)}?RelayState=dashboard`, acs.url);
    expect(seen).toEqual([]);
    const posted = await acs.nextPost();
    expect(posted.RelayState).toBe("dashboard");
    const xml = xmlOf(posted.SAMLResponse!);
    expect(rootAttr(xml, "InResponseTo")).toBeUndefined();
    const { profile } = await sp().validatePostResponse({ SAMLResponse: posted.SAMLResponse! });
    expect(profile?.nameID).toBe("alice@localhost");
  });

  it("HTTP-POST binding: the AuthnRequest posted by the SP's form; a fresh browser signs in first", async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      const s = sp({ authnRequestBinding: "HTTP-POST" });
      const { html, requestId } = await s.authnRequestForm("relay-post");
      // The SP's page auto-submits its form to our SSO URL.
      // (setContent may report the navigation its onload submit starts as an interruption.)
      const { seen } = await arriveAtAcs(page, () => page.setContent(html).catch(() => undefined), acs.url, login());
      expect(seen).toEqual(["login"]);
      const posted = await acs.nextPost();
      expect(posted.RelayState).toBe("relay-post");
      expect(rootAttr(xmlOf(posted.SAMLResponse!), "InResponseTo")).toBe(requestId);
      const { profile } = await s.validatePostResponse({ SAMLResponse: posted.SAMLResponse!, RelayState: posted.RelayState! });
      expect(profile?.nameID).toBe("alice@localhost");
    } finally {
      await ctx.close();
    }
  });

  it("an AuthnRequest naming an unregistered ACS URL gets an error page; nothing is posted anywhere", async () => {
    const elsewhere = await startAcs();
    try {
      const outside: string[] = [];
      alicePage.on("request", (r) => {
        if (!r.url().startsWith(w.url)) outside.push(r.url());
      });
      const { url } = await sp({ callbackUrl: elsewhere.url }).authnRequestUrl("relay-evil");
      const r = await openRefused(alicePage, url);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(alicePage.url().startsWith(w.url)).toBe(true);
      expect(outside).toEqual([]);
      await expect(elsewhere.nextPost(300)).rejects.toThrow(/no POST/);
      await expect(acs.nextPost(300)).rejects.toThrow(/no POST/);
    } finally {
      alicePage.removeAllListeners("request");
      await elsewhere.close();
    }
  });

  it("Authn saml/sso: a service answers node-saml's AuthnRequest for its own user; node-saml validates the Response", async () => {
    const s = sp();
    const { url, requestId } = await s.authnRequestUrl("relay-api");
    const q = new URL(url).searchParams;
    const r = await client.call<{ SAMLResponse: string; relayState?: string; sp: { assertionConsumerServiceURL: string; assertionMethod: string } }>("POST", `/tenant/${w.demo.tenantId}/community/${w.demo.communityId}/saml/sso`, {
      SAMLPayload: { SAMLRequest: q.get("SAMLRequest"), RelayState: q.get("RelayState") },
      userSession: { user: { uid: w.demo.user.uid }, pon_data: {}, authenticator_data: {} },
    });
    expect(r.status, JSON.stringify(r.data).slice(0, 300)).toBe(200);
    expect(r.data.sp).toEqual({ assertionConsumerServiceURL: acs.url, assertionMethod: "post" });
    expect(r.data.relayState).toBe("relay-api");
    expect(rootAttr(xmlOf(r.data.SAMLResponse), "InResponseTo")).toBe(requestId);
    const { profile } = await s.validatePostResponse({ SAMLResponse: r.data.SAMLResponse, RelayState: "relay-api" });
    expect(profile?.nameID).toBe("alice@localhost");
    expect(profile?.department).toBe("Engineering");
  });

  it("Authn saml/idp-init and idp/{idpIdentifier}/metadata: node-saml accepts the unsolicited Response; xmlsec1 verifies the metadata", async () => {
    const r = await client.call<{ SAMLResponse: string; relayState?: string; sp: { assertionConsumerServiceURL: string; assertionMethod: string } }>("POST", `/tenant/${w.demo.tenantId}/community/${w.demo.communityId}/saml/idp-init`, {
      serviceProviderId: spId,
      idpInitConfig: { relayState: "relay-idp-init-api" },
      userSession: { user: { uid: w.demo.user.uid }, pon_data: {}, authenticator_data: {} },
    });
    expect(r.status, JSON.stringify(r.data).slice(0, 300)).toBe(200);
    expect(r.data.sp).toEqual({ assertionConsumerServiceURL: acs.url, assertionMethod: "post" });
    expect(r.data.relayState).toBe("relay-idp-init-api");
    expect(rootAttr(xmlOf(r.data.SAMLResponse), "InResponseTo")).toBeUndefined();
    const { profile } = await sp().validatePostResponse({ SAMLResponse: r.data.SAMLResponse, RelayState: "relay-idp-init-api" });
    expect(profile?.nameID).toBe("alice@localhost");

    const cfg = await client.call<{ identifier: string }>("GET", `/tenant/${w.demo.tenantId}/community/${w.demo.communityId}/idp_config`);
    expect(cfg.status).toBe(200);
    const ssoUrl = `${base}/sso`;
    const sloUrl = `${base}/slo`;
    const m = await client.call<string>("POST", `/tenant/${w.demo.tenantId}/community/${w.demo.communityId}/idp/${encodeURIComponent(cfg.data.identifier)}/metadata`, { ssoUrl, sloUrl });
    expect(m.status, JSON.stringify(m.data).slice(0, 300)).toBe(200);
    expect(m.data).toContain(`Location="${ssoUrl}"`);
    const v = await xmlsecVerify(m.data, { certPem: idp.certPem, idAttr: ID_ATTRS.entityDescriptor });
    expect(v.ok, v.output).toBe(true);
    const unknown = await client.call("POST", `/tenant/${w.demo.tenantId}/community/${w.demo.communityId}/idp/no-such-idp/metadata`, { ssoUrl, sloUrl });
    expect(unknown.status).toBe(404);
  });

  it("single logout: node-saml's LogoutRequest ends the SSO session; a signed LogoutResponse is posted to the SP's SLO endpoint", async () => {
    const s = sp();
    // The session the browser has now (the sign-ins above replaced it: ForceAuthn).
    const { url } = await s.authnRequestUrl("relay-before-logout");
    expect((await arriveAtAcs(alicePage, url, acs.url)).seen).toEqual([]);
    const { profile } = await s.validatePostResponse(await acs.nextPost() as { SAMLResponse: string });
    const logoutUrl = await s.saml.getLogoutUrlAsync(profile!, "relay-slo", {});
    const logoutRequestId = rootAttr(inflateRawSync(Buffer.from(new URL(logoutUrl).searchParams.get("SAMLRequest")!, "base64")).toString("utf8"), "ID");
    await arriveAtAcs(alicePage, logoutUrl, slo.url);
    const posted = await slo.nextPost();
    expect(posted.RelayState).toBe("relay-slo");
    const xml = xmlOf(posted.SAMLResponse!);
    expect(xml).toContain("LogoutResponse");
    expect(rootAttr(xml, "InResponseTo")).toBe(logoutRequestId);
    expect(xml).toContain("urn:oasis:names:tc:SAML:2.0:status:Success");
    const v = await xmlsecVerify(xml, { certPem: idp.certPem, idAttr: ID_ATTRS.logoutResponse });
    expect(v.ok, v.output).toBe(true);
    const checked = await s.validatePostResponse({ SAMLResponse: posted.SAMLResponse!, RelayState: posted.RelayState! });
    expect(checked.loggedOut).toBe(true);
    // The SSO session is gone: the next sign-in asks for the password.
    const again = await sp().authnRequestUrl("relay-after-logout");
    expect((await arriveAtAcs(alicePage, again.url, acs.url, login())).seen).toEqual(["login"]);
    await acs.nextPost();
  });
});
