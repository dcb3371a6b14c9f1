import { describe, expect, it } from "vitest";
import { fromBase64 } from "../../crypto/encoding";
import { AC_PASSWORD_PROTECTED_TRANSPORT, buildResponse, type ResponseModel } from "./assertion";
import { AES256_GCM, RSA_OAEP_MGF1P } from "./encryption";
import { childElements, NS, parseXml, textOf, type Element } from "./xml";
import { verifyElement } from "./xmldsig";

const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
const rsa = () => crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
const oaep = () =>
  crypto.subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-1" }, true, ["encrypt", "decrypt"]) as Promise<CryptoKeyPair>;

function model(kp: CryptoKeyPair, over: Partial<ResponseModel> = {}): ResponseModel {
  return {
    issuer: "https://idp.example.com/saml/c1",
    destination: "https://sp.example.com/acs?a=1&b=2",
    inResponseTo: "_req1",
    audience: "https://sp.example.com/metadata",
    nameId: { value: "alice@example.com", format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" },
    authnInstant: Date.now() - 1000,
    sessionIndex: "_sess1",
    authnContextClassRef: AC_PASSWORD_PROTECTED_TRANSPORT,
    attributes: [
      { name: "email", values: ["alice@example.com"] },
      { name: "groups", values: ["admins", "<script>&"] },
      { name: "empty", values: [] },
    ],
    signing: { key: kp.privateKey, alg: "RSA-SHA256" },
    signAssertion: true,
    ...over,
  };
}

const one = (el: Element, ns: string, name: string) => {
  const all = el.getElementsByTagNameNS(ns, name);
  expect(all.length).toBe(1);
  return all[0]!;
};

describe("buildResponse (SAML Core §2, Profiles §4.1.4.2)", () => {
  it("builds a signed Response with a signed Assertion holding what the profile asks", async () => {
    const kp = await rsa();
    const now = Date.now();
    const xml = await buildResponse(model(kp, { now }));
    const doc = parseXml(xml);
    const res = doc.documentElement;
    expect(res.localName).toBe("Response");
    expect(res.getAttribute("Destination")).toBe("https://sp.example.com/acs?a=1&b=2");
    expect(res.getAttribute("InResponseTo")).toBe("_req1");
    expect(res.getAttribute("ID")).toMatch(/^_[0-9a-f]{40}$/);
    expect(one(res, NS.samlp, "StatusCode").getAttribute("Value")).toBe("urn:oasis:names:tc:SAML:2.0:status:Success");
    const a = one(res, NS.saml, "Assertion");
    await verifyElement(doc, res, [kp.publicKey]);
    await verifyElement(doc, a, [kp.publicKey]);
    // The Signature sits right after each Issuer (Core §3.2.1, §2.3.3).
    expect(childElements(res)[1]!.localName).toBe("Signature");
    expect(childElements(a)[1]!.localName).toBe("Signature");
    const nameId = one(a, NS.saml, "NameID");
    expect(textOf(nameId)).toBe("alice@example.com");
    expect(nameId.getAttribute("Format")).toBe("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    const scd = one(a, NS.saml, "SubjectConfirmationData");
    expect(scd.getAttribute("Recipient")).toBe("https://sp.example.com/acs?a=1&b=2");
    expect(scd.getAttribute("InResponseTo")).toBe("_req1");
    const notOnOrAfter = Date.parse(scd.getAttribute("NotOnOrAfter")!);
    expect(notOnOrAfter - now).toBeGreaterThan(298_000);
    expect(notOnOrAfter - now).toBeLessThanOrEqual(300_000);
    const cond = one(a, NS.saml, "Conditions");
    expect(Date.parse(cond.getAttribute("NotBefore")!)).toBeLessThanOrEqual(now);
    expect(textOf(one(cond, NS.saml, "Audience"))).toBe("https://sp.example.com/metadata");
    expect(one(a, NS.saml, "AuthnStatement").getAttribute("SessionIndex")).toBe("_sess1");
    expect(textOf(one(a, NS.saml, "AuthnContextClassRef"))).toBe(AC_PASSWORD_PROTECTED_TRANSPORT);
    const attrs = Array.from(a.getElementsByTagNameNS(NS.saml, "Attribute"));
    expect(attrs.map((x) => x.getAttribute("Name"))).toEqual(["email", "groups"]);
    const groupValues = Array.from(attrs[1]!.getElementsByTagNameNS(NS.saml, "AttributeValue"));
    expect(groupValues.map(textOf)).toEqual(["admins", "<script>&"]);
    expect(groupValues[0]!.getAttributeNS(NS.xsi, "type")).toBe("xs:string");
  });

  it("signs only the Response when the SP does not ask for signed assertions; no InResponseTo when unsolicited", async () => {
    const kp = await rsa();
    const model0 = model(kp, { signAssertion: false, attributes: [] });
    delete model0.inResponseTo;
    const doc = parseXml(await buildResponse(model0));
    const a = one(doc.documentElement, NS.saml, "Assertion");
    expect(childElements(a, NS.ds, "Signature")).toHaveLength(0);
    await verifyElement(doc, doc.documentElement, [kp.publicKey]);
    expect(doc.documentElement.hasAttribute("InResponseTo")).toBe(false);
    expect(one(a, NS.saml, "SubjectConfirmationData").hasAttribute("InResponseTo")).toBe(false);
    expect(a.getElementsByTagNameNS(NS.saml, "AttributeStatement")).toHaveLength(0);
  });

  it("a value cannot inject markup: a NameID holding XML stays text and the signature holds", async () => {
    const kp = await rsa();
    const evil = `x</saml:NameID><saml:NameID>admin@example.com`;
    const doc = parseXml(await buildResponse(model(kp, { nameId: { value: evil, format: `f"><x y="` } })));
    const a = one(doc.documentElement, NS.saml, "Assertion");
    expect(textOf(one(a, NS.saml, "NameID"))).toBe(evil);
    await verifyElement(doc, a, [kp.publicKey]);
  });
});

describe("EncryptedAssertion (XML Encryption 1.1, SAML Core §6.2)", () => {
  it("encrypts the signed assertion with AES-256-GCM under an RSA-OAEP (mgf1p, SHA-1) wrapped key; WebCrypto decrypts it", async () => {
    const kp = await rsa();
    const enc = await oaep();
    const doc = parseXml(await buildResponse(model(kp, { encryptTo: enc.publicKey })));
    await verifyElement(doc, doc.documentElement, [kp.publicKey]);
    expect(doc.documentElement.getElementsByTagNameNS(NS.saml, "Assertion")).toHaveLength(0);
    const ea = one(doc.documentElement, NS.saml, "EncryptedAssertion");
    const data = one(ea, NS.xenc, "EncryptedData");
    const methods = Array.from(data.getElementsByTagNameNS(NS.xenc, "EncryptionMethod")).map((m) => m.getAttribute("Algorithm"));
    expect(methods).toEqual([AES256_GCM, RSA_OAEP_MGF1P]);
    const values = Array.from(data.getElementsByTagNameNS(NS.xenc, "CipherValue")).map((v) => fromBase64(textOf(v)));
    const rawKey = await crypto.subtle.decrypt({ name: "RSA-OAEP" }, enc.privateKey, values[0]!);
    const cek = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["decrypt"]);
    const body = values[1]!;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: body.subarray(0, 12), tagLength: 128 }, cek, body.subarray(12));
    const adoc = parseXml(new TextDecoder().decode(plain));
    expect(adoc.documentElement.localName).toBe("Assertion");
    await verifyElement(adoc, adoc.documentElement, [kp.publicKey]);
    expect(textOf(one(adoc.documentElement, NS.saml, "NameID"))).toBe("alice@example.com");
  });

  it("refuses a key that is not RSA-OAEP", async () => {
    const kp = await rsa();
    await expect(buildResponse(model(kp, { encryptTo: kp.publicKey }))).rejects.toThrow(/RSA-OAEP/);
  });
});
