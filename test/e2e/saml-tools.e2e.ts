import { createPublicKey } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
// Plain JavaScript test tools (scripts/lib): none of them is our SAML code.
import { ALG, makeKeyPair, signedResponse, withSignatureTemplate } from "../../scripts/lib/saml-fixtures.mjs";
import { createSp } from "../../scripts/lib/saml-sp.mjs";
import { ID_ATTRS, xmlsec1Version, xmlsecSign, xmlsecVerify } from "../../scripts/lib/xmlsec.mjs";

/**
 * The outside tools of the SAML/WS-Fed e2e tests checked against each other, before any test
 * trusts them with the service's output: Debian's xmlsec1 (installed by scripts/ensure-tools.mjs)
 * and node-saml accept a response from the Node-side IdP (xml-crypto) and refuse it tampered,
 * signed by another key, or unsigned. No Worker is started.
 */
type KeyPair = { keyPem: string; certPem: string };
let idp: KeyPair;
let attacker: KeyPair;
const ACS = "http://127.0.0.1:9/acs";
const sample = (extra: Partial<Parameters<typeof signedResponse>[0]> = {}) =>
  signedResponse({
    issuer: "urn:test:external-idp",
    audience: "urn:test:sp",
    recipient: ACS,
    nameId: "alice@example.com",
    attributes: { email: "alice@example.com", groups: ["admins", "ops"] },
    ...idp,
    ...extra,
  });
const tamper = (xml: string) => xml.replace(">alice@example.com</saml:NameID>", ">mallory@example.com</saml:NameID>");

beforeAll(() => {
  idp = makeKeyPair({ cn: "saml-tools e2e idp" });
  attacker = makeKeyPair({ cn: "saml-tools e2e attacker" });
});

describe("xmlsec1 (the independent XML-DSig verifier)", () => {
  it("is installed", () => {
    expect(xmlsec1Version()).toMatch(/^xmlsec1 1\.\d+\.\d+/);
  });

  it("verifies the Node-side IdP's signed assertion and signed response with the pinned certificate", async () => {
    const r = sample({ signResponse: true });
    const idAttr = [ID_ATTRS.response, ID_ATTRS.assertion];
    const assertion = await xmlsecVerify(r.xml, { certPem: idp.certPem, idAttr, nodeId: r.assertionId });
    expect(assertion.ok, assertion.output).toBe(true);
    const response = await xmlsecVerify(r.xml, { certPem: idp.certPem, idAttr, nodeId: r.responseId });
    expect(response.ok, response.output).toBe(true);
  });

  it("refuses it tampered, signed by a key whose certificate rides in KeyInfo, or without the ID declared", async () => {
    const r = sample();
    const tampered = await xmlsecVerify(tamper(r.xml), { certPem: idp.certPem, idAttr: ID_ATTRS.assertion });
    expect(tampered.ok).toBe(false);
    expect(tampered.output).toMatch(/FAIL|digest do not match/);
    // Signed by the attacker, whose certificate is in KeyInfo: the pinned certificate decides.
    const forged = sample({ ...attacker });
    expect((await xmlsecVerify(forged.xml, { certPem: idp.certPem, idAttr: ID_ATTRS.assertion })).ok).toBe(false);
    expect((await xmlsecVerify(r.xml, { certPem: idp.certPem, idAttr: [] })).ok).toBe(false);
  });

  it("verifies an ECDSA-SHA256 signature (signed by xmlsec1) with the certificate or the bare public key", async () => {
    const ec = makeKeyPair({ alg: "ec" });
    const r = sample({ signAssertion: false });
    const signed = await xmlsecSign(withSignatureTemplate(r.xml, r.assertionId, ALG.ecdsaSha256), { keyPem: ec.keyPem, idAttr: ID_ATTRS.assertion });
    expect(signed).toContain(ALG.ecdsaSha256);
    const byCert = await xmlsecVerify(signed, { certPem: ec.certPem, idAttr: ID_ATTRS.assertion });
    expect(byCert.ok, byCert.output).toBe(true);
    const spki = createPublicKey(ec.keyPem).export({ type: "spki", format: "pem" }).toString();
    expect((await xmlsecVerify(signed, { pubkeyPem: spki, idAttr: ID_ATTRS.assertion })).ok).toBe(true);
    expect((await xmlsecVerify(tamper(signed), { pubkeyPem: spki, idAttr: ID_ATTRS.assertion })).ok).toBe(false);
    expect((await xmlsecVerify(signed, { certPem: idp.certPem, idAttr: ID_ATTRS.assertion })).ok).toBe(false);
  });
});

describe("node-saml (the independent SP)", () => {
  const sp = () => createSp({ entryPoint: "http://127.0.0.1:9/sso", issuer: "urn:test:sp", callbackUrl: ACS, idpCert: idp.certPem });

  it("accepts the Node-side IdP's response to its own AuthnRequest and reads the attributes", async () => {
    const s = sp();
    const { url, requestId } = await s.authnRequestUrl("relay-1");
    expect(new URL(url).searchParams.get("RelayState")).toBe("relay-1");
    const { profile } = await s.validatePostResponse({ SAMLResponse: sample({ inResponseTo: requestId }).base64 });
    expect(profile?.nameID).toBe("alice@example.com");
    expect(profile?.groups).toEqual(["admins", "ops"]);
  });

  it("refuses it tampered, forged, unsigned, for another audience or expired", async () => {
    const s = sp();
    const refused = async (xml: string, why: RegExp) => {
      await expect(s.validatePostResponse({ SAMLResponse: Buffer.from(xml).toString("base64") })).rejects.toThrow(why);
    };
    await refused(tamper(sample().xml), /signature/i);
    await refused(sample({ ...attacker }).xml, /signature/i);
    await refused(sample({ signAssertion: false }).xml, /signature/i);
    await refused(sample({ audience: "urn:test:another-sp" }).xml, /audience/i);
    await refused(sample({ now: new Date(Date.now() - 3_600_000) }).xml, /expired/i);
    // The same response untouched is accepted (IdP-initiated: no InResponseTo), so the refusals
    // above are about what was changed.
    expect((await s.validatePostResponse({ SAMLResponse: sample().base64 })).profile?.nameID).toBe("alice@example.com");
  });
});
