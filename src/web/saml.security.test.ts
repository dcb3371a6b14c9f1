import { beforeAll, describe, expect, it } from "vitest";
import { toBase64 } from "../crypto/encoding";
import { forgetTenantCache } from "../http/tenant";
import { buildLogoutRequest } from "../protocols/saml/logout";
import { encodeRedirectMessage } from "../protocols/saml/authn-request";
import { NS } from "../protocols/saml/xml";
import { Browser, hiddenFields, registerClient } from "../../test/helpers/hosted-login";
import { registerSamlSp, signIn, spKeys, spMetadata } from "../../test/helpers/saml-front";
import { createTestTenant, PASSWORD, type TestTenant } from "../../test/helpers/tenant";

/**
 * Hostile inputs against the SAML front channel: forged forms (CSRF), markup in RelayState,
 * another community's or tenant's service provider, ids that are not SAML SPs. Every answer is
 * a page, never a 5xx, and an unknown SP looks like every other unknown SP.
 */
let t: TestTenant;
let t2: TestTenant;
const b64 = (s: string) => toBase64(new TextEncoder().encode(s));

beforeAll(async () => {
  t = await createTestTenant();
  t2 = await createTestTenant();
  forgetTenantCache();
});

describe("SAML front channel, hostile input", () => {
  it("RelayState markup is escaped in the auto-post page and cannot add fields or scripts", async () => {
    const sp = await registerSamlSp(t, { metadata: spMetadata("x", "https://sp.example/slo") });
    const b = new Browser(t.host);
    await signIn(t, b);
    const xml = await buildLogoutRequest({ issuer: sp.entityId, destination: `http://${t.host}/saml/${t.community.id}/slo`, nameId: { value: "a" } });
    const evil = `"><script>alert(1)</script><input name="x`;
    const res = await b.post(`/saml/${t.community.id}/slo`, { SAMLRequest: b64(xml), RelayState: evil });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&quot;&gt;&lt;script&gt;");
    expect(html.match(/<script/g)!.length).toBe(1);
    expect(html.match(/<input /g)!.length).toBe(2);
    expect(html).toContain("<noscript>");
    expect(html).toMatch(/<button type="submit">Continue<\/button>/);
    const nonce = /'nonce-([^']+)'/.exec(res.headers.get("content-security-policy")!)![1];
    expect(html).toContain(`<script nonce="${nonce}">document.forms[0].submit();</script>`);
  });

  it("unknown, another community's, another tenant's, an OIDC client's and a not-opened SP's idp-init links answer the same 404", async () => {
    const closed = await registerSamlSp(t, {});
    const foreign = await registerSamlSp(t2, { idpInitiated: true });
    const oidc = await registerClient(t, { name: "OIDC" });
    const b = new Browser(t.host);
    const bodies = new Set<string>();
    for (const id of [closed.id, foreign.id, foreign.entityId, oidc.spId, oidc.clientId, "0123456789abcdef01234567", "%00", "a".repeat(2000)]) {
      const res = await b.get(`/saml/${t.community.id}/idp-init/${encodeURIComponent(id)}`);
      expect(res.status, id.slice(0, 30)).toBe(404);
      bodies.add((await res.text()).replace(/nonce="[^"]+"/g, ""));
    }
    expect(bodies.size).toBe(1);
  });

  it("another tenant's community at this host is unknown; a missing community is a 404 page", async () => {
    const b = new Browser(t.host);
    expect((await b.get(`/saml/${t2.community.id}/metadata`)).status).toBe(404);
    // Metadata never advertises plain-http endpoints off loopback: a page, not a 5xx.
    expect((await b.get(`/saml/${t.community.id}/metadata`)).status).toBe(404);
    expect((await b.get(`/saml/nope/idp-init/x`)).status).toBe(404);
  });

  it("CSRF: the SAML transaction's login form refuses a missing or foreign token, and another browser", async () => {
    const sp = await registerSamlSp(t, { idpInitiated: true });
    const b = new Browser(t.host);
    const f = hiddenFields(await (await b.get(`/saml/${t.community.id}/idp-init/${sp.id}`)).text());
    const noToken = await b.post(`/oidc/${t.community.id}/login`, { tx: f.tx, username: "Alice", password: PASSWORD });
    expect(noToken.status).toBe(403);
    const other = new Browser(t.host);
    await other.get(`/saml/${t.community.id}/idp-init/${sp.id}`);
    const stolen = await other.post(`/oidc/${t.community.id}/login`, { ...f, username: "Alice", password: PASSWORD });
    expect(stolen.status).toBe(403);
    expect(other.cookies.has("__Host-edge-auth-sso")).toBe(false);
    // The transaction is not usable in another community either.
    const crossCommunity = await b.post(`/oidc/${t2.community.id}/login`, { ...f, username: "Alice", password: PASSWORD });
    expect(crossCommunity.status).toBeGreaterThanOrEqual(400);
    expect(crossCommunity.status).toBeLessThan(500);
  });

  it("a LogoutRequest from another community's SP is refused; oversized and malformed sso messages are pages", async () => {
    const foreign = await registerSamlSp(t2, {});
    const b = new Browser(t.host);
    const xml = await buildLogoutRequest({ issuer: foreign.entityId, destination: `http://${t.host}/saml/${t.community.id}/slo`, nameId: { value: "a" } });
    expect((await b.post(`/saml/${t.community.id}/slo`, { SAMLRequest: b64(xml) })).status).toBe(400);
    const big = await b.request("POST", `/saml/${t.community.id}/sso`, `SAMLRequest=${"A".repeat(70_000)}`);
    expect(big.status).toBe(413);
    for (const q of ["", "?SAMLRequest=a&SAMLRequest=b", `?SAMLRequest=x&RelayState=${"r".repeat(81)}`]) {
      const res = await b.get(`/saml/${t.community.id}/sso${q}`);
      expect(res.status).toBe(400);
    }
  });
});

const authnRequest = (issuer: string, o: { acs?: string; id?: string } = {}) =>
  `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${o.id ?? `_r${crypto.randomUUID()}`}" Version="2.0" IssueInstant="${new Date().toISOString()}"` +
  ` AssertionConsumerServiceURL="${o.acs ?? "https://sp.example/acs"}"><saml:Issuer>${issuer}</saml:Issuer></samlp:AuthnRequest>`;

describe("SAML sso, hostile requests", () => {
  it("an ACS URL that is not the registered one, an unknown or another community's Issuer: a page, never a post", async () => {
    const sp = await registerSamlSp(t, {});
    const foreign = await registerSamlSp(t2, {});
    const b = new Browser(t.host);
    await signIn(t, b);
    for (const xml of [authnRequest(sp.entityId, { acs: "https://evil.example/acs" }), authnRequest("https://nobody.example"), authnRequest(foreign.entityId)]) {
      const res = await b.post(`/saml/${t.community.id}/sso`, { SAMLRequest: b64(xml) });
      expect(res.status).toBe(400);
      const html = await res.text();
      expect(html).not.toContain("SAMLResponse");
      expect(html).not.toContain("evil.example");
    }
  });

  it("a replayed AuthnRequest ID is answered once; ten racing copies get exactly one Response", async () => {
    const sp = await registerSamlSp(t, {});
    const b = new Browser(t.host);
    await signIn(t, b);
    const xml = authnRequest(sp.entityId, { id: "_replayed-once" });
    const first = await b.post(`/saml/${t.community.id}/sso`, { SAMLRequest: b64(xml) });
    expect(await first.text()).toContain("SAMLResponse");
    const again = await b.post(`/saml/${t.community.id}/sso`, { SAMLRequest: b64(xml) });
    expect(again.status).toBe(400);
    const race = authnRequest(sp.entityId, { id: "_raced" });
    const all = await Promise.all(Array.from({ length: 10 }, () => b.post(`/saml/${t.community.id}/sso`, { SAMLRequest: b64(race) })));
    expect(all.filter((r) => r.status === 200).length).toBe(1);
    expect(all.filter((r) => r.status === 400).length).toBe(9);
  });

  it("an SP requiring signed AuthnRequests: unsigned is refused; a deflate bomb over Redirect is a page", async () => {
    const keys = await spKeys();
    const sp = await registerSamlSp(t, { authRequestSignRequired: true, signingCert: keys.certPem });
    const b = new Browser(t.host);
    await signIn(t, b);
    const unsigned = await b.get(`/saml/${t.community.id}/sso?SAMLRequest=${encodeURIComponent(await encodeRedirectMessage(authnRequest(sp.entityId)))}`);
    expect(unsigned.status).toBe(400);
    // Without a session too: refused before the login page is shown.
    const anon = await new Browser(t.host).post(`/saml/${t.community.id}/sso`, { SAMLRequest: b64(authnRequest(sp.entityId)) });
    expect(anon.status).toBe(400);
    expect(await anon.text()).not.toContain("Sign in</h1>");
    const bomb = await encodeRedirectMessage("<a>" + "x".repeat(5_000_000) + "</a>");
    const res = await b.get(`/saml/${t.community.id}/sso?SAMLRequest=${encodeURIComponent(bomb)}`);
    expect(res.status).toBe(400);
  });
});
