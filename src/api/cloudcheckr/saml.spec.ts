import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { IDP_RSA_CERT, SP_RSA_CERT, SP_RSA_KEY } from "../../../test/helpers/saml-credentials";
import { createExternalIdp, consumeAuthnRequest, consumeLogout, allowedReturnUrl } from "../../core/external-idps";
import type { Scope } from "../../core/context";
import { forgetTenantCache } from "../../http/tenant";
import { inflateRaw } from "../../protocols/saml/authn-request-build";
import { childElements, NS, parseXml, requiredChild, textOf } from "../../protocols/saml/xml";
import { fromBase64, fromUtf8 } from "../../crypto/encoding";

/** CloudCheckr SAML (seed 001): login, logout, metadata over the tenant's configured external IdP; never an open redirect. */
let t: TestTenant;
let idpId: string;
const APP = "https://glass.example.com/app";
const DASHBOARD = "https://glass.example.com/app/dashboard";

const conn = (over: Record<string, unknown> = {}) => ({
  idpName: "Okta",
  idpEntityId: `https://idp.example/${crypto.randomUUID()}`,
  samlLoginUrl: "https://idp.example/sso",
  samlLogoutUrl: "https://idp.example/slo",
  ssoBinding: "HTTP-Redirect",
  sloBinding: "HTTP-Redirect",
  forceAuthn: false,
  spEntityId: "https://glass.example.com/saml",
  spSigningCertificate: SP_RSA_CERT,
  spPrivateKey: SP_RSA_KEY,
  idpSigningCertificate: IDP_RSA_CERT,
  ...over,
});

async function configure(tt: TestTenant, connection: Record<string, unknown>): Promise<string> {
  const svc = services();
  const scope = { tenant: tt.tenant, community: tt.community, ip: "203.0.113.7", userAgent: null } as unknown as Scope;
  const created = await createExternalIdp(svc, scope, { connection });
  await svc.tenants.updateTenantSettings(tt.tenant.id, {
    cloudcheckr: { saml: { communityId: tt.community.id, externalIdpId: created._id, allowedReturnUrls: [APP, "https://lens.example.com/"], dashboardUrl: DASHBOARD } },
  });
  forgetTenantCache();
  return created._id;
}

const get = (tt: TestTenant, path: string, headers: Record<string, string> = {}, method = "GET") =>
  SELF.fetch(`http://${tt.host}${path}`, { method, redirect: "manual", headers: { host: tt.host, "cf-connecting-ip": "203.0.113.7", ...headers } });

beforeAll(async () => {
  t = await createTestTenant();
  idpId = await configure(t, conn());
});

async function requestOf(location: string) {
  const u = new URL(location);
  const doc = parseXml(await inflateRaw(fromBase64(u.searchParams.get("SAMLRequest")!)));
  return { u, req: doc.documentElement };
}

describe("GET/POST /v1/auth/saml/login", () => {
  it("redirects to the IdP with an AuthnRequest for our CloudCheckr ACS; the return URL is kept server-side behind an opaque RelayState", async () => {
    for (const method of ["GET", "POST"]) {
      const res = await get(t, `/v1/auth/saml/login?return_url=${encodeURIComponent(`${APP}/reports?x=1`)}`, {}, method);
      expect(res.status, method).toBe(302);
      expect(res.headers.get("cache-control")).toContain("no-store");
      const { u, req } = await requestOf(res.headers.get("location")!);
      expect(`${u.origin}${u.pathname}`).toBe("https://idp.example/sso");
      const relay = u.searchParams.get("RelayState")!;
      expect(relay).toMatch(/^[0-9a-f]{32}$/);
      expect(relay).not.toContain("glass");
      expect(u.searchParams.get("Signature")).toBeTruthy();
      expect(req.getAttribute("AssertionConsumerServiceURL")).toBe(`http://${t.host}/v1/auth/saml/acs`);
      expect(textOf(requiredChild(req, NS.saml, "Issuer"))).toBe("https://glass.example.com/saml");
      const remembered = await consumeAuthnRequest(services(), t.tenant.id, t.community.id, req.getAttribute("ID")!);
      expect(remembered).toMatchObject({ idpId, relay: { returnUrl: `${APP}/reports?x=1`, relayState: relay } });
    }
  });

  it("no return_url: the Referer when allowed, else the dashboard", async () => {
    const fromReferer = await get(t, "/v1/auth/saml/login", { referer: "https://lens.example.com/page" });
    const a = await requestOf(fromReferer.headers.get("location")!);
    expect((await consumeAuthnRequest(services(), t.tenant.id, t.community.id, a.req.getAttribute("ID")!))!.relay!.returnUrl).toBe("https://lens.example.com/page");
    const foreignReferer = await get(t, "/v1/auth/saml/login?return_url=", { referer: "https://evil.example/" });
    expect(foreignReferer.status).toBe(302);
    const b = await requestOf(foreignReferer.headers.get("location")!);
    expect((await consumeAuthnRequest(services(), t.tenant.id, t.community.id, b.req.getAttribute("ID")!))!.relay!.returnUrl).toBe(DASHBOARD);
  });

  it("a return_url not under an allowed one is 400 and nothing is redirected", async () => {
    const hostile = [
      "//evil.com",
      "https://evil.com",
      "https://glass.example.com.evil.com/app",
      "https://evil.com@glass.example.com/app",
      "https://glass.example.com@evil.com/app",
      "https:\\\\evil.com/app",
      "https://glass.example.com\\@evil.com/app",
      "javascript:alert(1)",
      "JaVaScRiPt://glass.example.com/app%0aalert(1)",
      "data:text/html,hi",
      "/app/relative",
      "https://glass.example.com/appevil",
      "https://glass.example.com/app/%2e%2e/admin",
      "https://glass.example.com/app/..%2fadmin",
      "https://glass.example.com/app%2f..%2fadmin",
      "https://glass.example.com/app/%5c..",
      "http://glass.example.com/app",
      "https://glass.example.com:8443/app",
      " https://glass.example.com/app",
      "https://glass.example.com/app\t",
      "https://glass.example.com/ap%70",
    ];
    for (const r of hostile) {
      const res = await get(t, `/v1/auth/saml/login?return_url=${encodeURIComponent(r)}`);
      expect(res.status, r).toBe(400);
      expect(res.headers.get("location"), r).toBeNull();
      const body = (await res.json()) as { error: string };
      expect(body.error, r).toBe("invalid_request");
    }
    // Repeated, oversized or garbage inputs: refused, never a 5xx; a garbage Referer is ignored.
    for (const q of [`return_url=${encodeURIComponent(APP)}&return_url=https%3A%2F%2Fevil.com`, `return_url=${"a".repeat(3000)}`, "return_url=%ZZ"]) {
      const res = await get(t, `/v1/auth/saml/login?${q}`);
      expect(res.status, q).toBeGreaterThanOrEqual(400);
      expect(res.status, q).toBeLessThan(500);
      expect(res.headers.get("location"), q).toBeNull();
    }
    const junkReferer = await get(t, "/v1/auth/saml/login", { referer: "\\evil.com/%00" });
    expect(junkReferer.status).toBe(302);
    expect(new URL(junkReferer.headers.get("location")!).origin).toBe("https://idp.example");
    // The parsed form of "/app/./x" is under the prefix; "/app/../x" is not.
    expect(allowedReturnUrl("https://glass.example.com/app/./x", [APP])).toBe("https://glass.example.com/app/x");
    expect(allowedReturnUrl("https://glass.example.com/app/../x", [APP])).toBeNull();
    expect(allowedReturnUrl("https://GLASS.example.com/app", [APP])).toBe("https://glass.example.com/app");
  });

  it("HTTP-POST binding: a form (no script) posting SAMLRequest and RelayState to the IdP", async () => {
    const tt = await createTestTenant();
    await configure(tt, conn({ ssoBinding: "HTTP-POST" }));
    const res = await get(tt, "/v1/auth/saml/login");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('action="https://idp.example/sso"');
    expect(html).not.toContain("<script");
    const value = /name="SAMLRequest" value="([^"]+)"/.exec(html)![1]!;
    expect(parseXml(fromUtf8(fromBase64(value))).documentElement.localName).toBe("AuthnRequest");
    expect(html).toMatch(/name="RelayState" value="[0-9a-f]{32}"/);
  });

  it("a tenant without the setting, or whose setting names a missing IdP, answers 404 not_configured", async () => {
    const bare = await createTestTenant();
    forgetTenantCache();
    for (const p of ["/v1/auth/saml/login", "/v1/auth/saml/logout", "/v1/auth/saml/metadata"]) {
      const res = await get(bare, p);
      expect(res.status, p).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBe("not_configured");
    }
    const svc = services();
    await svc.tenants.updateTenantSettings(bare.tenant.id, { cloudcheckr: { saml: { communityId: bare.community.id, externalIdpId: idpId, allowedReturnUrls: [APP], dashboardUrl: DASHBOARD } } });
    forgetTenantCache();
    // Another tenant's IdP id: not found in this tenant.
    expect((await get(bare, "/v1/auth/saml/login")).status).toBe(404);
  });
});

describe("GET /v1/auth/saml/logout", () => {
  it("redirects to the IdP's SLO URL; the return URL is found once by its RelayState", async () => {
    const res = await get(t, `/v1/auth/saml/logout?return_url=${encodeURIComponent(APP)}`);
    expect(res.status).toBe(302);
    const u = new URL(res.headers.get("location")!);
    expect(`${u.origin}${u.pathname}`).toBe("https://idp.example/slo");
    const relay = u.searchParams.get("RelayState")!;
    const got = await Promise.all([0, 1, 2].map(() => consumeLogout(services(), t.tenant.id, relay)));
    expect(got.filter((x) => x !== null)).toHaveLength(1);
    expect(got.find((x) => x !== null)).toMatchObject({ returnUrl: APP, idpId });
    expect((await get(t, "/v1/auth/saml/logout?return_url=https%3A%2F%2Fevil.com")).status).toBe(400);
  });
});

describe("GET /v1/auth/saml/metadata", () => {
  it("our SP's EntityDescriptor: entity id, ACS (POST), SLS, the signing certificate, signed assertions wanted", async () => {
    const res = await get(t, "/v1/auth/saml/metadata");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/samlmetadata+xml");
    const text = await res.text();
    expect(text).not.toContain("PRIVATE");
    const doc = parseXml(text);
    const ed = doc.documentElement;
    expect(ed.getAttribute("entityID")).toBe("https://glass.example.com/saml");
    const sp = requiredChild(ed, NS.md, "SPSSODescriptor");
    expect(sp.getAttribute("AuthnRequestsSigned")).toBe("true");
    expect(sp.getAttribute("WantAssertionsSigned")).toBe("true");
    expect(requiredChild(sp, NS.md, "AssertionConsumerService").getAttribute("Location")).toBe(`http://${t.host}/v1/auth/saml/acs`);
    const slo = childElements(sp, NS.md, "SingleLogoutService");
    expect(slo.map((e) => e.getAttribute("Binding"))).toEqual(["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"]);
    for (const e of slo) expect(e.getAttribute("Location")).toBe(`http://${t.host}/v1/auth/saml/sls`);
    const certs = sp.getElementsByTagNameNS(NS.ds, "X509Certificate");
    expect(certs.length).toBe(2);
    expect(SP_RSA_CERT.replace(/-----[A-Z ]+-----|\s/g, "")).toBe(textOf(certs[0]!));
  });
});
