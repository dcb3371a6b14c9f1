import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { IDP_RSA_CERT, SP_EC_CERT, SP_EC_KEY, SP_RSA_CERT, SP_RSA_KEY } from "../../../test/helpers/saml-credentials";
import { certificateKey, consumeAuthnRequest } from "../../core/external-idps";
import { inflateRaw } from "../../protocols/saml/authn-request-build";
import { NS, parseXml, requiredChild, textOf } from "../../protocols/saml/xml";
import { verifyElement } from "../../protocols/saml/xmldsig";
import { fromBase64, fromUtf8, utf8 } from "../../crypto/encoding";

/** samlRequest/generate (seed 004): an AuthnRequest to an external IdP, encoded for its binding, remembered for the ACS. */
let t: TestTenant;
let other: TestTenant;
let caller: AuthnCaller;
let base: string;

interface Generated {
  SAMLRequest: string;
  RedirectUrl: string;
  RequestBinding: string;
  ForceAuthn: boolean;
}

const connection = (over: Record<string, unknown> = {}) => ({
  idpName: "Okta",
  idpEntityId: `https://idp.example/${crypto.randomUUID()}`,
  samlLoginUrl: "https://idp.example/sso?tenant=acme",
  samlLogoutUrl: "https://idp.example/slo",
  ssoBinding: "HTTP-Redirect",
  sloBinding: "HTTP-Redirect",
  forceAuthn: true,
  spEntityId: "https://sp.example/entity",
  spSigningCertificate: SP_RSA_CERT,
  spPrivateKey: SP_RSA_KEY,
  idpSigningCertificate: IDP_RSA_CERT,
  ...over,
});

async function create(conn: Record<string, unknown>, tt = t, c = caller): Promise<string> {
  const r = await authnCall<{ _id: string }>(c, "PUT", `/tenant/${tt.tenant.id}/community/${tt.community.id}/external_idp`, { connection: conn });
  expect(r.status).toBe(200);
  return r.data._id;
}

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  caller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("samlRequest/generate", () => {
  it("HTTP-Redirect: a signed query (§3.4.4.1) to the IdP carrying our AuthnRequest; its ID is consumed once by the ACS", async () => {
    const idpId = await create(connection());
    const r = await authnCall<Generated>(caller, "POST", `${base}/samlRequest/generate`, { idpId, dns: t.host.toUpperCase() });
    expect(r.status).toBe(200);
    expect(r.data.RequestBinding).toBe("HTTP-Redirect");
    expect(r.data.ForceAuthn).toBe(true);
    const url = new URL(r.data.RedirectUrl);
    expect(`${url.origin}${url.pathname}`).toBe("https://idp.example/sso");
    expect(url.searchParams.get("tenant")).toBe("acme");
    expect(url.searchParams.get("SAMLRequest")).toBe(r.data.SAMLRequest);
    expect(url.searchParams.get("SigAlg")).toBe("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");

    const xml = await inflateRaw(fromBase64(r.data.SAMLRequest));
    const doc = parseXml(xml);
    const req = doc.documentElement;
    expect(req.localName).toBe("AuthnRequest");
    expect(req.getAttribute("ID")).toMatch(/^_[0-9a-f]{40}$/);
    expect(req.getAttribute("Destination")).toBe("https://idp.example/sso?tenant=acme");
    expect(req.getAttribute("AssertionConsumerServiceURL")).toBe(`http://${t.host}/saml/${t.community.id}/sp/acs`);
    expect(req.getAttribute("ForceAuthn")).toBe("true");
    expect(textOf(requiredChild(req, NS.saml, "Issuer"))).toBe("https://sp.example/entity");

    // The signature covers exactly "SAMLRequest=..&SigAlg=.." as sent.
    const raw = r.data.RedirectUrl.split("?")[1]!.split("&").filter((p) => !p.startsWith("tenant="));
    const signed = raw.filter((p) => !p.startsWith("Signature=")).join("&");
    const sig = fromBase64(decodeURIComponent(raw.find((p) => p.startsWith("Signature="))!.slice("Signature=".length)));
    const pub = (await certificateKey(SP_RSA_CERT))!;
    expect(await crypto.subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, pub.key, sig, utf8(signed))).toBe(true);

    const id = req.getAttribute("ID")!;
    const svc = services();
    expect(await consumeAuthnRequest(svc, t.tenant.id, other.community.id, id)).toBeNull();
    const got = await Promise.all(Array.from({ length: 5 }, () => consumeAuthnRequest(svc, t.tenant.id, t.community.id, id)));
    const winners = got.filter((x) => x !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ id, idpId, communityId: t.community.id, acsUrl: `http://${t.host}/saml/${t.community.id}/sp/acs` });
    expect(await consumeAuthnRequest(svc, t.tenant.id, t.community.id, id)).toBeNull();
    expect(await consumeAuthnRequest(svc, t.tenant.id, t.community.id, "_" + "0".repeat(40))).toBeNull();
    expect(await consumeAuthnRequest(svc, t.tenant.id, t.community.id, "../x")).toBeNull();
  });

  it("HTTP-POST: the form value is the AuthnRequest signed enveloped (EC key); unsigned without an SP key", async () => {
    const idpId = await create(connection({ ssoBinding: "HTTP-POST", forceAuthn: false, spSigningCertificate: SP_EC_CERT, spPrivateKey: SP_EC_KEY }));
    const r = await authnCall<Generated>(caller, "POST", `${base}/samlRequest/generate`, { idpId, dns: t.host });
    expect(r.status).toBe(200);
    expect(r.data).toMatchObject({ RequestBinding: "HTTP-POST", RedirectUrl: "https://idp.example/sso?tenant=acme", ForceAuthn: false });
    const doc = parseXml(fromUtf8(fromBase64(r.data.SAMLRequest)));
    expect(doc.documentElement.getAttribute("ForceAuthn")).toBeNull();
    await verifyElement(doc, doc.documentElement, [(await certificateKey(SP_EC_CERT))!.key]);

    const plain = await create(connection({ spSigningCertificate: "", spPrivateKey: "" }));
    const u = await authnCall<Generated>(caller, "POST", `${base}/samlRequest/generate`, { idpId: plain, dns: t.host });
    expect(u.status).toBe(200);
    const q = new URL(u.data.RedirectUrl).searchParams;
    expect(q.get("Signature")).toBeNull();
    expect(q.get("SigAlg")).toBeNull();
  });

  it("dns must be a host of this tenant; an unknown or foreign idpId is 404; hostile payloads are 4xx", async () => {
    const idpId = await create(connection());
    for (const dns of [other.host, "evil.example", "", "x".repeat(300), `${t.host}:8080`, `https://${t.host}`, `${t.host}/path`, `evil.example\\@${t.host}`]) {
      const r = await authnCall<{ message: string }>(caller, "POST", `${base}/samlRequest/generate`, { idpId, dns });
      expect(r.status, dns).toBe(400);
    }
    const otherCaller = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    const theirs = await create(connection(), other, otherCaller);
    expect((await authnCall(caller, "POST", `${base}/samlRequest/generate`, { idpId: theirs, dns: t.host })).status).toBe(404);
    expect((await authnCall(caller, "POST", `${base}/samlRequest/generate`, { idpId: "0123456789abcdef01234567", dns: t.host })).status).toBe(404);
    expect((await authnCall(caller, "POST", `${base}/samlRequest/generate`, { idpId: "nope", dns: t.host })).status).toBe(404);
    for (const p of [{}, { idpId: 5, dns: t.host }, { idpId, dns: null }]) {
      const r = await authnCall(caller, "POST", `${base}/samlRequest/generate`, p);
      expect(r.status, JSON.stringify(p)).toBe(400);
    }
  });

  it("a remembered request is refused once its time is up (record written with a 150 ms life, then waited for)", async () => {
    const svc = services();
    const id = "_" + "b".repeat(40);
    await svc.secrets.put(`samlreq:${t.tenant.id}`, id, { id, communityId: t.community.id, idpId: "x", acsUrl: "https://a/acs", relay: null, expiresAt: Date.now() + 150 }, 600);
    await new Promise((r) => setTimeout(r, 200));
    expect(await consumeAuthnRequest(svc, t.tenant.id, t.community.id, id)).toBeNull();
    // A live one with the same shape is accepted: the refusal above was the clock.
    const live = "_" + "c".repeat(40);
    await svc.secrets.put(`samlreq:${t.tenant.id}`, live, { id: live, communityId: t.community.id, idpId: "x", acsUrl: "https://a/acs", relay: null, expiresAt: Date.now() + 60_000 }, 600);
    expect(await consumeAuthnRequest(svc, t.tenant.id, t.community.id, live)).not.toBeNull();
  });
});
