import { XMLSerializer, DOMParser } from "@xmldom/xmldom";
import { setNodeDependencies } from "xml-core";
import * as xmldsig from "xmldsigjs";
import { describe, expect, it } from "vitest";
import { buildSaml11Assertion, SAML11_AM_PASSWORD } from "../wsfed/saml11-assertion";
import { AC_PASSWORD_PROTECTED_TRANSPORT, buildResponse, type ResponseModel } from "./assertion";
import { a, canonical, serialize, x, type XElement } from "./c14n-signer";
import { NS, parseXml, textOf, XmlRejected, type Element } from "./xml";
import { verifyElement } from "./xmldsig";

const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
const rsa = () => crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
const ec = () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

/** Values a user or an admin can put into an assertion: markup, quotes, whitespace that parsers normalize, astral characters. */
const HOSTILE = [`a&b<c>d"e'f`, "tab\there", "line\nfeed", "carriage\rreturn\r\n", "]]>", "  spaced  ", "😀 ünïcødé 中文", `"/><saml:Attribute Name="x`];

function model(kp: CryptoKeyPair, alg: "RSA-SHA256" | "ECDSA-SHA256", v: string, over: Partial<ResponseModel> = {}): ResponseModel {
  return {
    issuer: `https://idp.example/${v}`,
    destination: `https://sp.example/acs?x=${v}`,
    inResponseTo: `_req${v}`,
    audience: `urn:sp:${v}`,
    nameId: { value: `user${v}@example.com`, format: `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress${v}` },
    authnInstant: 1_767_000_000_000,
    sessionIndex: `sid${v}`,
    authnContextClassRef: AC_PASSWORD_PROTECTED_TRANSPORT,
    attributes: [{ name: `given${v}`, values: [v, "plain"] }, { name: "empty", values: [] }],
    signing: { key: kp.privateKey, alg, certB64: "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3" },
    signAssertion: true,
    now: 1_767_000_100_000,
    ...over,
  };
}

const one = (el: Element, ns: string, name: string) => el.getElementsByTagNameNS(ns, name)[0]!;

/** xmldsigjs's exclusive c14n (no comments) of a parsed element: the reference our canonical form must equal byte for byte. */
function xmldsigjsC14n(el: Element): string {
  setNodeDependencies({ DOMParser, XMLSerializer });
  const t = new xmldsig.XmlDsigExcC14NTransform();
  t.LoadInnerXml(el as never);
  return t.GetOutput() as string;
}

describe("c14n-signer (Exc-C14N 1.0 by construction)", () => {
  it("writes the canonical form xmldsigjs computes from the parsed document, for hostile values", () => {
    for (const v of HOSTILE) {
      const tree: XElement = x(
        "samlp",
        NS.samlp,
        "Response",
        [a("ID", "_r"), a("Version", "2.0"), a("Destination", v), a("A", v)],
        [
          x("saml", NS.saml, "Issuer", [], [v]),
          x("saml", NS.saml, "Assertion", [a("ID", "_a"), a("IssueInstant", "2026-01-01T00:00:00Z")], [
            x("saml", NS.saml, "AttributeValue", [{ prefix: "xsi", ns: NS.xsi, name: "type", value: "xs:string" }, a("Z", v), a("B", "b")], [v, x("saml", NS.saml, "Empty")]),
          ], { xs: NS.xs, xsi: NS.xsi }),
        ],
        { saml: NS.saml },
      );
      const doc = parseXml(serialize(tree));
      expect(xmldsigjsC14n(doc.documentElement)).toBe(canonical(tree));
      const assertion = one(doc.documentElement, NS.saml, "Assertion");
      expect(xmldsigjsC14n(assertion)).toBe(canonical(tree.children[1] as XElement));
      expect(textOf(one(doc.documentElement, NS.saml, "Issuer"))).toBe(v);
      expect(doc.documentElement.getAttribute("Destination")).toBe(v);
    }
  });

  it("signs Response and Assertion so that xmldsig.ts verifies both, RSA and ECDSA, and the values read back unchanged", async () => {
    for (const [kp, alg] of [[await rsa(), "RSA-SHA256"], [await ec(), "ECDSA-SHA256"]] as const) {
      for (const v of HOSTILE) {
        const xml = await buildResponse(model(kp, alg, v));
        const doc = parseXml(xml);
        const response = doc.documentElement;
        const assertion = one(response, NS.saml, "Assertion");
        await verifyElement(doc, assertion, [kp.publicKey]);
        await verifyElement(doc, response, [kp.publicKey]);
        expect(textOf(one(assertion, NS.saml, "NameID"))).toBe(`user${v}@example.com`);
        expect(one(assertion, NS.saml, "SubjectConfirmationData").getAttribute("Recipient")).toBe(`https://sp.example/acs?x=${v}`);
        expect(response.childNodes[1]!.localName).toBe("Signature");
        expect(assertion.childNodes[1]!.localName).toBe("Signature");
        expect(one(assertion, NS.ds, "X509Certificate").textContent).toBe("MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3");
      }
    }
  });

  it("signs a SAML 1.1 assertion (AssertionID, Signature last) that xmldsig.ts verifies, for hostile values", async () => {
    const kp = await rsa();
    for (const v of HOSTILE) {
      const { id, xml } = await buildSaml11Assertion(
        { issuer: `idp${v}`, audience: `urn:rp:${v}`, nameId: { value: `u${v}`, format: `f${v}` }, attributes: [{ name: `http://schemas.example/claims/${v}`, values: [v] }], issuedAt: 1_767_000_000_000, notBefore: 1_767_000_000_000, notOnOrAfter: 1_767_000_300_000, authnInstant: 1_767_000_000_000, authnMethod: SAML11_AM_PASSWORD },
        { key: kp.privateKey, alg: "RSA-SHA256", certB64: "MIIB" },
      );
      const doc = parseXml(xml);
      const el = doc.documentElement;
      expect(el.getAttribute("AssertionID")).toBe(id);
      expect(el.lastChild!.localName).toBe("Signature");
      await verifyElement(doc, el, [kp.publicKey]);
      expect(el.getAttribute("Issuer")).toBe(`idp${v}`);
      expect(textOf(one(el, NS.saml1, "NameIdentifier"))).toBe(`u${v}`);
      const tampered = parseXml(xml.replace(`urn:rp:`, `urn:xx:`));
      await expect(verifyElement(tampered, tampered.documentElement, [kp.publicKey])).rejects.toThrow(/does not verify/);
    }
  });

  it("a tampered value, an unsigned assertion and a character XML does not allow", async () => {
    const kp = await rsa();
    const xml = await buildResponse(model(kp, "RSA-SHA256", "v"));
    const tampered = parseXml(xml.replace("userv@example.com", "admin@example.com"));
    await expect(verifyElement(tampered, one(tampered.documentElement, NS.saml, "Assertion"), [kp.publicKey])).rejects.toThrow(/does not verify/);
    await expect(verifyElement(tampered, tampered.documentElement, [kp.publicKey])).rejects.toThrow(/does not verify/);
    const plain = parseXml(await buildResponse(model(kp, "RSA-SHA256", "v", { signAssertion: false, inResponseTo: undefined })));
    expect(plain.documentElement.getElementsByTagNameNS(NS.ds, "Signature").length).toBe(1);
    expect(plain.documentElement.hasAttribute("InResponseTo")).toBe(false);
    await verifyElement(plain, plain.documentElement, [kp.publicKey]);
    await expect(buildResponse(model(kp, "RSA-SHA256", "bell\u0007"))).rejects.toBeInstanceOf(XmlRejected);
  });
});
