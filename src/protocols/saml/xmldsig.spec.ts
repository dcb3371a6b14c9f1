import { describe, expect, it } from "vitest";
import { signElement, SignatureRejected, verifyElement } from "./xmldsig";
import { NS, parseXml, serializeXml, XmlRejected, type Document } from "./xml";

const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
const rsa = () => crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
const ec = () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

const RESPONSE = `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" xmlns:xs="${NS.xs}" ID="_r1" Version="2.0"><saml:Issuer>idp</saml:Issuer><saml:Assertion ID="_a1" Version="2.0"><saml:Issuer>idp</saml:Issuer><saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>`;

async function signedAssertion(kp: CryptoKeyPair, alg: "RSA-SHA256" | "ECDSA-SHA256") {
  const doc = parseXml(RESPONSE);
  const a = doc.getElementsByTagNameNS(NS.saml, "Assertion")[0]!;
  await signElement(doc, a, { key: kp.privateKey, alg });
  return serializeXml(doc);
}

const assertionOf = (doc: Document) => doc.getElementsByTagNameNS(NS.saml, "Assertion")[0]!;

describe("xmldsig", () => {
  it("signs and verifies with RSA-SHA256 and ECDSA-SHA256, the Signature right after Issuer", async () => {
    for (const [kp, alg] of [[await rsa(), "RSA-SHA256"], [await ec(), "ECDSA-SHA256"]] as const) {
      const xml = await signedAssertion(kp, alg);
      const doc = parseXml(xml);
      const a = assertionOf(doc);
      expect(a.childNodes[1]!.localName).toBe("Signature");
      await verifyElement(doc, a, [kp.publicKey]);
    }
  });

  it("refuses another key, a changed value, a comment-free change of NameID, and SHA-1", async () => {
    const kp = await rsa();
    const other = await rsa();
    const xml = await signedAssertion(kp, "RSA-SHA256");
    await expect(verifyElement(parseXml(xml), assertionOf(parseXml(xml)), [other.publicKey])).rejects.toBeInstanceOf(SignatureRejected);
    const tampered = parseXml(xml.replace("alice@example.com", "admin@example.com"));
    await expect(verifyElement(tampered, assertionOf(tampered), [kp.publicKey])).rejects.toThrow(/does not verify/);
    const sha1 = parseXml(xml.replace("xmldsig-more#rsa-sha256", "xmldsig#rsa-sha1"));
    await expect(verifyElement(sha1, assertionOf(sha1), [kp.publicKey])).rejects.toThrow(/not accepted/);
  });

  it("refuses an unsigned element, duplicate IDs and a reference to another element", async () => {
    const kp = await rsa();
    const unsigned = parseXml(RESPONSE);
    await expect(verifyElement(unsigned, assertionOf(unsigned), [kp.publicKey])).rejects.toThrow(/not signed/);
    const xml = await signedAssertion(kp, "RSA-SHA256");
    const dup = parseXml(xml.replace('ID="_r1"', 'ID="_a1"'));
    await expect(verifyElement(dup, assertionOf(dup), [kp.publicKey])).rejects.toThrow(/more than once/);
    const moved = parseXml(xml.replace('URI="#_a1"', 'URI="#_r1"'));
    await expect(verifyElement(moved, assertionOf(moved), [kp.publicKey])).rejects.toThrow(/does not point/);
  });

  it("writes KeyInfo/X509Data/X509Certificate after SignatureValue itself, and verifying leaves the document as it was", async () => {
    const kp = await rsa();
    // Any base64 will do: KeyInfo carries it, nothing parses it (the key is pinned, never read from KeyInfo).
    const certB64 = "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnRlc3Rl";
    const doc = parseXml(RESPONSE);
    const a = assertionOf(doc);
    await signElement(doc, a, { key: kp.privateKey, alg: "RSA-SHA256", certB64 });
    const xml = serializeXml(doc);
    const sig = a.getElementsByTagNameNS(NS.ds, "Signature")[0]!;
    const kids = Array.from(sig.childNodes).map((n) => (n as { localName?: string }).localName);
    expect(kids).toEqual(["SignedInfo", "SignatureValue", "KeyInfo"]);
    const cert = sig.getElementsByTagNameNS(NS.ds, "X509Certificate")[0]!;
    expect(cert.textContent).toBe(certB64);
    expect(cert.parentNode!.localName).toBe("X509Data");
    expect(cert.prefix).toBe(sig.prefix);
    const again = parseXml(xml);
    await verifyElement(again, assertionOf(again), [kp.publicKey]);
    expect(serializeXml(again)).toBe(xml);
    // KeyInfo is outside SignedInfo: changing it changes nothing verified, and it is put back.
    const swapped = parseXml(xml.replace(certB64, "AAAA"));
    await verifyElement(swapped, assertionOf(swapped), [kp.publicKey]);
    expect(serializeXml(swapped)).toContain("<ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>");
  });

  it("parses strictly: DOCTYPE, entities, processing instructions and broken XML are refused", () => {
    expect(() => parseXml(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`)).toThrow(XmlRejected);
    expect(() => parseXml(`<x><?evil?></x>`)).toThrow(XmlRejected);
    expect(() => parseXml(`<x><y></x>`)).toThrow(XmlRejected);
    expect(() => parseXml("x".repeat(300_000))).toThrow(/longer/);
    expect(parseXml(`<?xml version="1.0" encoding="UTF-8"?><x/>`).documentElement!.localName).toBe("x");
  });
});
