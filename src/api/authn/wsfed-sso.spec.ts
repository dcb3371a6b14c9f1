import { beforeAll, describe, expect, it } from "vitest";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { communitySigningKey, registerRelyingParty, RP_REPLY } from "../../../test/helpers/wsfed";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { NS, childElements, parseXml, textOf } from "../../protocols/saml/xml";
import { verifyElement } from "../../protocols/saml/xmldsig";

/**
 * Authn `POST .../wsfed/sso` (seed 004, Authenticate; WS-Federation 1.2 §13.2): a trusted
 * service answers a wsignin1.0 for its user: wresult (an RSTR with a signed SAML 1.1
 * assertion), wctx, and where to post them.
 */
type Answer = { wresult: string; wctx: string; sp: { assertionConsumerServiceURL: string; assertionMethod: string } };

let t: TestTenant;
let other: TestTenant;
let service: AuthnCaller;
let otherService: AuthnCaller;
let publicKey: CryptoKey;
let base: string;
const realm = `urn:sharepoint:${Date.now()}`;

const session = (uid: string, extra: Record<string, unknown> = {}) => ({ user: { uid, moduleId: "m1" }, pon_data: {}, authenticator_data: {}, ...extra });
const call = (body: unknown, caller = service, path = `${base}/wsfed/sso`) => authnCall<Answer>(caller, "POST", path, body, { host: t.host });

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  service = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  otherService = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
  publicKey = await communitySigningKey(t);
  await registerRelyingParty(service, t, realm);
});

function assertionOf(wresult: string) {
  const doc = parseXml(wresult);
  const token = childElements(doc.documentElement, NS.wst, "RequestedSecurityToken")[0]!;
  return { doc, assertion: childElements(token)[0]! };
}

describe("wsfed/sso", () => {
  it("answers a signed SAML 1.1 token for the realm, the user's attributes, wctx echoed, the registered reply (both payload spellings)", async () => {
    for (const key of ["WSfedPayload", "WSFedPayload"]) {
      const r = await call({ [key]: { wtrealm: realm, wa: "wsignin1.0", wctx: "rm=0&id=passive&ru=%2f" }, userSession: session(t.alice.uid) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.data.wctx).toBe("rm=0&id=passive&ru=%2f");
      expect(r.data.sp).toEqual({ assertionConsumerServiceURL: RP_REPLY, assertionMethod: "post" });
      const { doc, assertion } = assertionOf(r.data.wresult);
      await verifyElement(doc, assertion, [publicKey]);
      expect(assertion.namespaceURI).toBe(NS.saml1);
      expect(assertion.getAttribute("Issuer")).toBe(`https://${t.host}/saml/${t.community.id}`);
      expect(textOf(doc.getElementsByTagNameNS(NS.saml1, "Audience")[0]!)).toBe(realm);
      expect(textOf(doc.getElementsByTagNameNS(NS.wsa, "Address")[0]!)).toBe(realm);
      const nameId = doc.getElementsByTagNameNS(NS.saml1, "NameIdentifier")[0]!;
      expect(textOf(nameId)).toBe(t.alice.email);
      expect(nameId.getAttribute("Format")).toBe("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
      const attrs = Array.from({ length: doc.getElementsByTagNameNS(NS.saml1, "Attribute").length }, (_, i) => doc.getElementsByTagNameNS(NS.saml1, "Attribute")[i]!);
      expect(attrs.map((a) => [a.getAttribute("AttributeNamespace"), a.getAttribute("AttributeName"), textOf(childElements(a)[0]!)])).toEqual([
        ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims", "name", t.alice.username],
        ["http://schemas.xmlsoap.org/claims", "role", "member"],
      ]);
      const stmt = doc.getElementsByTagNameNS(NS.saml1, "AuthenticationStatement")[0]!;
      expect(stmt.getAttribute("AuthenticationMethod")).toBe("urn:oasis:names:tc:SAML:1.0:am:password");
    }
  });

  it("takes wreply when it is the registered endpoint (a query of its own allowed); wctx absent answers an empty one", async () => {
    const r = await call({ WSFedPayload: { wtrealm: realm, wa: "wsignin1.0", wreply: `${RP_REPLY}?x=1` }, userSession: session(t.alice.uid, { aal: 2 }) });
    expect(r.status).toBe(200);
    expect(r.data.sp.assertionConsumerServiceURL).toBe(`${RP_REPLY}?x=1`);
    expect(r.data.wctx).toBe("");
    const { doc } = assertionOf(r.data.wresult);
    expect(doc.getElementsByTagNameNS(NS.saml1, "AuthenticationStatement")[0]!.getAttribute("AuthenticationMethod")).toBe("urn:oasis:names:tc:SAML:1.0:am:unspecified");
  });

  it("refuses a wreply that is not registered: another origin, another path, a look-alike host, a fragment, a script URL (400, never followed)", async () => {
    for (const wreply of ["https://evil.example/_trust/", "https://rp.example.test/other", "https://rp.example.test.evil.example/_trust/", `${RP_REPLY}#x`, "javascript:alert(1)", "https://rp.example.test@evil.example/_trust/"]) {
      const r = await call({ WSFedPayload: { wtrealm: realm, wa: "wsignin1.0", wreply }, userSession: session(t.alice.uid) });
      expect(r.status, wreply).toBe(400);
      expect(JSON.stringify(r.body)).not.toContain("wresult");
    }
  });

  it("refuses wa other than wsignin1.0, a missing realm, both or neither payload spelling, wrong types and oversize values with 400", async () => {
    const bodies: unknown[] = [
      { WSFedPayload: { wtrealm: realm, wa: "wsignout1.0" }, userSession: session(t.alice.uid) },
      { WSFedPayload: { wtrealm: realm, wa: "" }, userSession: session(t.alice.uid) },
      { WSFedPayload: { wa: "wsignin1.0" }, userSession: session(t.alice.uid) },
      { WSFedPayload: { wtrealm: realm, wa: "wsignin1.0" }, WSfedPayload: { wtrealm: realm, wa: "wsignin1.0" }, userSession: session(t.alice.uid) },
      { userSession: session(t.alice.uid) },
      { WSFedPayload: { wtrealm: { $ne: null }, wa: "wsignin1.0" }, userSession: session(t.alice.uid) },
      { WSFedPayload: { wtrealm: realm, wa: "wsignin1.0", wctx: "x".repeat(5000) }, userSession: session(t.alice.uid) },
      { WSFedPayload: { wtrealm: realm, wa: "wsignin1.0", wctx: "a\u0001b" }, userSession: session(t.alice.uid) },
      { WSFedPayload: { wtrealm: realm, wa: "wsignin1.0" } },
      { WSFedPayload: { wtrealm: realm, wa: "wsignin1.0" }, userSession: { user: { uid: 7 } } },
      "not an object",
      [],
    ];
    for (const body of bodies) {
      const r = await call(body);
      expect(r.status, JSON.stringify(body).slice(0, 100)).toBe(400);
    }
  });

  it("an unknown realm, a realm without WS-Fed, and another community's realm are the same 404", async () => {
    const plain = `urn:plain:${Date.now()}`;
    await registerRelyingParty(service, t, plain, null);
    const disabled = `urn:off:${Date.now()}`;
    await registerRelyingParty(service, t, disabled, { enabled: false });
    const foreign = `urn:foreign:${Date.now()}`;
    await registerRelyingParty(otherService, other, foreign);
    const answers = [];
    for (const wtrealm of [`urn:unknown:${Date.now()}`, plain, disabled, foreign]) {
      const r = await call({ WSFedPayload: { wtrealm, wa: "wsignin1.0" }, userSession: session(t.alice.uid) });
      expect(r.status, wtrealm).toBe(404);
      answers.push(JSON.stringify(r.data));
    }
    expect(new Set(answers).size).toBe(1);
  });

  it("an unknown user, another tenant's user and a disabled user are the same 404", async () => {
    const svc = services();
    const disabled = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: `gone-${Date.now()}`, email: null, roles: ["user"], disabled: true } as never);
    const answers = [];
    for (const uid of ["no-such-uid", other.alice.uid, disabled.uid]) {
      const r = await call({ WSFedPayload: { wtrealm: realm, wa: "wsignin1.0" }, userSession: session(uid) });
      expect(r.status, uid).toBe(404);
      answers.push(JSON.stringify(r.data));
    }
    expect(new Set(answers).size).toBe(1);
  });

  it("another community's license is refused", async () => {
    const foreign = await call({ WSFedPayload: { wtrealm: realm, wa: "wsignin1.0" }, userSession: session(t.alice.uid) }, otherService);
    expect([401, 403]).toContain(foreign.status);
  });

  it("a relying party with tokenType saml20 gets a signed SAML 2.0 assertion (bearer Recipient = the reply) in the RSTR", async () => {
    const r20 = `urn:saml20:${Date.now()}`;
    await registerRelyingParty(service, t, r20, { enabled: true, tokenType: "saml20" });
    const r = await call({ WSFedPayload: { wtrealm: r20, wa: "wsignin1.0" }, userSession: session(t.alice.uid) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const { doc, assertion } = assertionOf(r.data.wresult);
    expect(assertion.namespaceURI).toBe(NS.saml);
    await verifyElement(doc, assertion, [publicKey]);
    expect(textOf(childElements(doc.documentElement, NS.wst, "TokenType")[0]!)).toBe("urn:oasis:names:tc:SAML:2.0:assertion");
    expect(textOf(doc.getElementsByTagNameNS(NS.saml, "Audience")[0]!)).toBe(r20);
    expect(doc.getElementsByTagNameNS(NS.saml, "SubjectConfirmationData")[0]!.getAttribute("Recipient")).toBe(RP_REPLY);
    expect(textOf(doc.getElementsByTagNameNS(NS.saml, "NameID")[0]!)).toBe(t.alice.email);
  });

  it("saml_config.wsfed is stored with its default token type and validated", async () => {
    const sp = await registerRelyingParty(service, t, `urn:stored:${Date.now()}`, { enabled: true });
    expect(sp.saml_config!.wsfed).toEqual({ enabled: true, tokenType: "saml11" });
    const bad = await authnCall(service, "PUT", `${base}/serviceprovider`, { name: "x", type: "saml", saml_config: { entityId: `urn:bad:${Date.now()}`, assertionConsumerServiceURL: RP_REPLY, wsfed: { enabled: "yes", tokenType: "jwt" } } });
    expect(bad.status).toBe(400);
  });
});
