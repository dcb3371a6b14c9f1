import { beforeAll, describe, expect, it } from "vitest";
import { scopeOf } from "../../../test/helpers/consents";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { fromBase64, fromUtf8 } from "../../crypto/encoding";
import { generateSigningCredential, importCertificateKey, importPrivateKeyPem, importRsaOaepPrivateKeyPem } from "../../crypto/x509";
import { AC_MOBILE_TWO_FACTOR, AC_PASSWORD_PROTECTED_TRANSPORT } from "../../protocols/saml/assertion";
import { encodeRedirectMessage, parseAuthnRequest, signRedirectQuery } from "../../protocols/saml/authn-request";
import { NS, parseXml, serializeXml, textOf, type Element } from "../../protocols/saml/xml";
import { signElement, verifyElement } from "../../protocols/saml/xmldsig";
import { AuthError } from "../errors";
import { createServiceProvider } from "../service-providers/service-providers";
import type { SamlConfigInput } from "../service-providers/types";
import { idpInitiated, samlSso, type IdpSigner } from "./sso";

let t: TestTenant;
let other: TestTenant;
let signer: IdpSigner;
let idpPublic: CryptoKey;
let spKey: CryptoKey;
let spCertPem: string;

const signIn = (amr = ["pwd"]) => ({ sid: crypto.randomUUID(), authTime: Math.floor(Date.now() / 1000) - 5, amr, acr: "x" });

async function sp(tt: TestTenant, config: Partial<SamlConfigInput> = {}) {
  const entityId = `https://sp-${crypto.randomUUID()}.example.test/metadata`;
  const view = await createServiceProvider(services(), scopeOf(tt), {
    name: "SAML app",
    type: "saml",
    saml_config: {
      entityId,
      assertionConsumerServiceURL: "https://sp.example.test/saml/acs",
      nameid: { format: "emailAddress", value: "email", attribute_type: "identity" },
      attributes: [
        { claim_name: "roles", attribute_name: "roles", attribute_type: "identity", value_type: "dynamic" },
        { claim_name: "tier", attribute_type: "identity", value_type: "static", value: "gold" },
        { claim_name: "sid", attribute_name: "sid", attribute_type: "session", value_type: "dynamic" },
        { claim_name: "given", attribute_name: "given_name", attribute_type: "ledger", value_type: "dynamic" },
      ],
      ...config,
    },
  });
  return { id: view._id, entityId };
}

const now = () => new Date().toISOString();
function requestXml(issuer: string, opts: { id?: string; acs?: string; instant?: string; binding?: string } = {}) {
  const acs = opts.acs === undefined ? ` AssertionConsumerServiceURL="https://sp.example.test/saml/acs"` : opts.acs ? ` AssertionConsumerServiceURL="${opts.acs}"` : "";
  const binding = opts.binding ? ` ProtocolBinding="${opts.binding}"` : "";
  return `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${opts.id ?? "_" + crypto.randomUUID().replace(/-/g, "")}" Version="2.0" IssueInstant="${opts.instant ?? now()}"${acs}${binding}><saml:Issuer>${issuer}</saml:Issuer></samlp:AuthnRequest>`;
}

const decoded = (b64: string) => parseXml(fromUtf8(fromBase64(b64)));
const first = (el: Element, ns: string, name: string) => el.getElementsByTagNameNS(ns, name)[0]!;
const refused = (re: RegExp) => expect.objectContaining({ code: expect.stringMatching(/invalid_request|not_found|not_configured/), message: expect.stringMatching(re) });

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  const idp = await generateSigningCredential("RSA-SHA256", "test idp");
  signer = { key: await importPrivateKeyPem(idp.privateKeyPkcs8Pem, "RSA-SHA256"), alg: "RSA-SHA256", entityId: "https://idp.example.test/saml/c1" };
  idpPublic = await importCertificateKey(idp.certPem);
  const spCred = await generateSigningCredential("RSA-SHA256", "test sp");
  spKey = await importPrivateKeyPem(spCred.privateKeyPkcs8Pem, "RSA-SHA256");
  spCertPem = spCred.certPem;
});

describe("samlSso (SAML Profiles §4.1.4)", () => {
  it("answers a request with a signed Response: NameID and attributes from saml_config, InResponseTo, the registered ACS", async () => {
    const s = await sp(t);
    const req = parseAuthnRequest(requestXml(s.entityId, { binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" }));
    const facts = signIn();
    const out = await samlSso(services(), scopeOf(t), { request: req, binding: "post", relayState: "rs-1", user: t.alice, signIn: facts, signer });
    expect(out.sp).toEqual({ assertionConsumerServiceURL: "https://sp.example.test/saml/acs", assertionMethod: "post" });
    expect(out.relayState).toBe("rs-1");
    const doc = decoded(out.SAMLResponse);
    await verifyElement(doc, doc.documentElement, [idpPublic]);
    const a = first(doc.documentElement, NS.saml, "Assertion");
    await verifyElement(doc, a, [idpPublic]);
    expect(doc.documentElement.getAttribute("InResponseTo")).toBe(req.id);
    expect(textOf(first(a, NS.saml, "Issuer"))).toBe(signer.entityId);
    expect(textOf(first(a, NS.saml, "NameID"))).toBe(t.alice.email);
    expect(first(a, NS.saml, "NameID").getAttribute("Format")).toBe("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    expect(textOf(first(a, NS.saml, "Audience"))).toBe(s.entityId);
    expect(first(a, NS.saml, "AuthnStatement").getAttribute("SessionIndex")).toBe(facts.sid);
    expect(textOf(first(a, NS.saml, "AuthnContextClassRef"))).toBe(AC_PASSWORD_PROTECTED_TRANSPORT);
    const attrs = Object.fromEntries(
      Array.from(a.getElementsByTagNameNS(NS.saml, "Attribute")).map((x) => [x.getAttribute("Name"), Array.from(x.getElementsByTagNameNS(NS.saml, "AttributeValue")).map(textOf)]),
    );
    expect(attrs).toEqual({ roles: ["user"], tier: ["gold"], sid: [facts.sid], given: ["Alice"] });
  });

  it("two factors give the two-factor class; an SP that wants no signed assertion gets only the Response signed; encryptionCert encrypts", async () => {
    const enc = await generateSigningCredential("RSA-SHA256", "sp enc");
    const s = await sp(t, { assertionSignRequired: false, encryptionCert: enc.certPem });
    const out = await samlSso(services(), scopeOf(t), { request: parseAuthnRequest(requestXml(s.entityId)), binding: "post", user: t.alice, signIn: signIn(["pwd", "otp"]), signer });
    const doc = decoded(out.SAMLResponse);
    await verifyElement(doc, doc.documentElement, [idpPublic]);
    const data = first(doc.documentElement, NS.xenc, "EncryptedData");
    const [k, body] = Array.from(data.getElementsByTagNameNS(NS.xenc, "CipherValue")).map((v) => fromBase64(textOf(v)));
    const priv = await importRsaOaepPrivateKeyPem(enc.privateKeyPkcs8Pem, "SHA-1");
    const cek = await crypto.subtle.importKey("raw", await crypto.subtle.decrypt({ name: "RSA-OAEP" }, priv, k!), "AES-GCM", false, ["decrypt"]);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: body!.subarray(0, 12) }, cek, body!.subarray(12));
    const a = parseXml(new TextDecoder().decode(plain)).documentElement;
    expect(a.getElementsByTagNameNS(NS.ds, "Signature")).toHaveLength(0);
    expect(textOf(first(a, NS.saml, "AuthnContextClassRef"))).toBe(AC_MOBILE_TWO_FACTOR);
  });

  it("refuses an unknown Issuer, another community's SP, an unregistered ACS URL, another binding, a stale IssueInstant", async () => {
    const svc = services();
    const s = await sp(t);
    const foreign = await sp(other);
    const call = (xml: string) => samlSso(svc, scopeOf(t), { request: parseAuthnRequest(xml), binding: "post", user: t.alice, signIn: signIn(), signer });
    await expect(call(requestXml("https://unknown.example.test"))).rejects.toEqual(refused(/no SAML service provider/));
    await expect(call(requestXml(foreign.entityId))).rejects.toEqual(refused(/no SAML service provider/));
    await expect(call(requestXml(s.entityId, { acs: "https://evil.example.test/acs" }))).rejects.toEqual(refused(/AssertionConsumerServiceURL/));
    await expect(call(requestXml(s.entityId, { binding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" }))).rejects.toEqual(refused(/HTTP-POST/));
    await expect(call(requestXml(s.entityId, { instant: new Date(Date.now() - 6 * 60_000).toISOString() }))).rejects.toEqual(refused(/IssueInstant/));
    await expect(call(requestXml(s.entityId, { instant: new Date(Date.now() + 6 * 60_000).toISOString() }))).rejects.toEqual(refused(/IssueInstant/));
    // Without an AssertionConsumerServiceURL the registered one is used.
    await expect(call(requestXml(s.entityId, { acs: "" }))).resolves.toMatchObject({ sp: { assertionConsumerServiceURL: "https://sp.example.test/saml/acs" } });
  });

  it("refuses a disabled user, a user of another community and a missing user alike", async () => {
    const s = await sp(t);
    const svc = services();
    const bob = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: `bob-${Date.now()}`, email: "bob@example.test", passwordHash: "x", passwordChangedAt: Date.now(), roles: [] });
    await svc.users.update(t.tenant.id, bob.uid, { disabled: true });
    const disabled = await svc.users.byUid(t.tenant.id, bob.uid);
    for (const user of [disabled, other.alice, null]) {
      const e = await samlSso(svc, scopeOf(t), { request: parseAuthnRequest(requestXml(s.entityId)), binding: "post", user, signIn: signIn(), signer }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AuthError);
      expect((e as AuthError).code).toBe("not_found");
      expect((e as AuthError).message).toBe("user not found in this community");
    }
  });

  it("a request ID is answered once: of 10 racing copies exactly one succeeds", async () => {
    const s = await sp(t);
    const xml = requestXml(s.entityId);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => samlSso(services(), scopeOf(t), { request: parseAuthnRequest(xml), binding: "post", user: t.alice, signIn: signIn(), signer })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected")) expect((r as PromiseRejectedResult).reason).toEqual(refused(/already answered/));
  });

  it("signed requests: required signatures must be there and verify, Redirect (query) or POST (enveloped); a present bad one is refused", async () => {
    const s = await sp(t, { authRequestSignRequired: true, signingCert: spCertPem });
    const svc = services();
    const unsigned = requestXml(s.entityId);
    await expect(samlSso(svc, scopeOf(t), { request: parseAuthnRequest(unsigned), binding: "post", user: t.alice, signIn: signIn(), signer })).rejects.toEqual(refused(/must be signed/));

    // Redirect: the query's signature over the parameters as sent.
    const xml = requestXml(s.entityId);
    const SAMLRequest = await encodeRedirectMessage(xml);
    const q = new URLSearchParams(await signRedirectQuery({ SAMLRequest, RelayState: "r&1" }, spKey, "RSA-SHA256"));
    const redirectSignature = { SAMLRequest, RelayState: q.get("RelayState")!, SigAlg: q.get("SigAlg")!, Signature: q.get("Signature")! };
    await expect(samlSso(svc, scopeOf(t), { request: parseAuthnRequest(xml), binding: "redirect", redirectSignature: { ...redirectSignature, RelayState: "r&2" }, user: t.alice, signIn: signIn(), signer })).rejects.toEqual(refused(/signature/));
    await expect(samlSso(svc, scopeOf(t), { request: parseAuthnRequest(xml), binding: "redirect", redirectSignature, relayState: "r&1", user: t.alice, signIn: signIn(), signer })).resolves.toMatchObject({ relayState: "r&1" });

    // POST: the enveloped signature, with the SP's pinned certificate.
    const doc = parseXml(requestXml(s.entityId));
    await signElement(doc, doc.documentElement, { key: spKey, alg: "RSA-SHA256" });
    const signed = serializeXml(doc);
    const tampered = signed.replace("https://sp.example.test/saml/acs", "https://sp.example.test/saml/acs2");
    await expect(samlSso(svc, scopeOf(t), { request: parseAuthnRequest(tampered), binding: "post", user: t.alice, signIn: signIn(), signer })).rejects.toEqual(refused(/signature/));
    await expect(samlSso(svc, scopeOf(t), { request: parseAuthnRequest(signed), binding: "post", user: t.alice, signIn: signIn(), signer })).resolves.toBeTruthy();
  });
});

describe("idpInitiated (SAML Profiles §4.1.5)", () => {
  it("sends an unsolicited Response only to an SP with idpInitiated: true of this community", async () => {
    const svc = services();
    const on = await sp(t, { idpInitiated: true });
    const off = await sp(t);
    const foreign = await sp(other, { idpInitiated: true });
    const out = await idpInitiated(svc, scopeOf(t), { serviceProviderId: on.id, relayState: "/home", user: t.alice, signIn: signIn(), signer });
    expect(out.relayState).toBe("/home");
    const doc = decoded(out.SAMLResponse);
    await verifyElement(doc, doc.documentElement, [idpPublic]);
    expect(doc.documentElement.hasAttribute("InResponseTo")).toBe(false);
    for (const id of [off.id, foreign.id, "0123456789abcdef01234567", "not-an-id"]) {
      await expect(idpInitiated(svc, scopeOf(t), { serviceProviderId: id, user: t.alice, signIn: signIn(), signer })).rejects.toMatchObject({ code: "not_found" });
    }
  });
});
