import { describe, expect, it } from "vitest";
import { NS, childElements, parseXml, textOf } from "../saml/xml";
import { verifyElement, SignatureRejected } from "../saml/xmldsig";
import { parseSignInRequest, parseSignOutRequest } from "./passive-request";
import { buildSaml11Assertion, SAML11_AM_PASSWORD, SAML11_BEARER, splitClaim, type Saml11AssertionModel } from "./saml11-assertion";
import { buildWresult, TOKEN_TYPE } from "./wresult";

const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
const rsa = () => crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
const ec = () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

const now = Date.UTC(2026, 0, 2, 3, 4, 5);
const model: Saml11AssertionModel = {
  issuer: "https://idp.example/saml/c1",
  audience: "urn:sharepoint:portal",
  nameId: { value: "alice@example.com", format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" },
  attributes: [
    { name: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", values: ["alice@example.com"] },
    { name: "groups", values: ["a<b", "c&d"] },
    { name: "empty", values: [] },
  ],
  issuedAt: now,
  notBefore: now - 60_000,
  notOnOrAfter: now + 3_600_000,
  authnInstant: now - 5_000,
  authnMethod: SAML11_AM_PASSWORD,
};

describe("parseSignInRequest (WS-Federation 1.2 §13.2.1)", () => {
  it("reads wa, wtrealm, wreply, wctx and wfresh from a query or an object", () => {
    const q = new URLSearchParams({ wa: "wsignin1.0", wtrealm: "urn:rp", wreply: "https://rp.example/_trust/", wctx: "rm=0&id=x", wfresh: "5" });
    expect(parseSignInRequest(q)).toEqual({ ok: true, request: { wa: "wsignin1.0", wtrealm: "urn:rp", wreply: "https://rp.example/_trust/", wctx: "rm=0&id=x", wfresh: 5 } });
    expect(parseSignInRequest({ wa: "wsignin1.0", wtrealm: "urn:rp" })).toEqual({ ok: true, request: { wa: "wsignin1.0", wtrealm: "urn:rp" } });
  });

  it("refuses another wa, a missing realm, repeats, wrong types, oversize and control characters, bad wreply and wfresh", () => {
    const bad: [Record<string, unknown> | URLSearchParams, RegExp][] = [
      [{ wa: "wsignout1.0", wtrealm: "urn:rp" }, /wa/],
      [{ wtrealm: "urn:rp" }, /wa/],
      [{ wa: "wsignin1.0" }, /wtrealm/],
      [{ wa: "wsignin1.0", wtrealm: "urn:r p" }, /wtrealm/],
      [new URLSearchParams("wa=wsignin1.0&wtrealm=a&wtrealm=b"), /repeated/],
      [{ wa: "wsignin1.0", wtrealm: 42 }, /string/],
      [{ wa: "wsignin1.0", wtrealm: { $ne: 1 } }, /string/],
      [{ wa: "wsignin1.0", wtrealm: "x".repeat(1025) }, /longer/],
      [{ wa: "wsignin1.0", wtrealm: "urn:rp", wctx: "x".repeat(4097) }, /longer/],
      [{ wa: "wsignin1.0", wtrealm: "urn:rp", wctx: "a\u0000b" }, /control/],
      [{ wa: "wsignin1.0", wtrealm: "urn:rp", wreply: "javascript:alert(1)" }, /http/],
      [{ wa: "wsignin1.0", wtrealm: "urn:rp", wreply: "/relative" }, /absolute/],
      [{ wa: "wsignin1.0", wtrealm: "urn:rp", wreply: "https://u:p@rp.example/" }, /credentials/],
      [{ wa: "wsignin1.0", wtrealm: "urn:rp", wfresh: "-1" }, /wfresh/],
    ];
    for (const [input, why] of bad) {
      const r = parseSignInRequest(input);
      expect(r.ok, JSON.stringify(input).slice(0, 80)).toBe(false);
      if (!r.ok) expect(r.error).toMatch(why);
    }
  });
});

describe("parseSignOutRequest (§13.2.4)", () => {
  it("accepts wsignout1.0 and wsignoutcleanup1.0, with an optional wreply", () => {
    expect(parseSignOutRequest({ wa: "wsignout1.0", wreply: "https://rp.example/" })).toEqual({ ok: true, request: { wa: "wsignout1.0", wreply: "https://rp.example/" } });
    expect(parseSignOutRequest({ wa: "wsignoutcleanup1.0" })).toEqual({ ok: true, request: { wa: "wsignoutcleanup1.0" } });
    expect(parseSignOutRequest({ wa: "wsignin1.0" }).ok).toBe(false);
    expect(parseSignOutRequest({ wa: "wsignout1.0", wreply: "data:text/html,x" }).ok).toBe(false);
  });
});

describe("SAML 1.1 assertion", () => {
  it("splits claim URIs into namespace and name as ADFS does", () => {
    expect(splitClaim("http://schemas.xmlsoap.org/claims/Group")).toEqual({ namespace: "http://schemas.xmlsoap.org/claims", name: "Group" });
    expect(splitClaim("email")).toEqual({ namespace: "http://schemas.xmlsoap.org/claims", name: "email" });
  });

  for (const [label, gen, alg] of [["RSA-SHA256", rsa, "RSA-SHA256"], ["ECDSA-SHA256", ec, "ECDSA-SHA256"]] as const) {
    it(`is signed (${label}) with the Signature last, verifies inside the wresult, and carries what it was given`, async () => {
      const kp = await gen();
      const { id, xml } = await buildSaml11Assertion(model, { key: kp.privateKey, alg });
      expect(id).toMatch(/^_[0-9a-f]{40}$/);
      const wresult = buildWresult({ assertionXml: xml, tokenType: "saml11", appliesTo: model.audience, created: now, expires: now + 3_600_000 });
      const doc = parseXml(wresult);
      const rstr = doc.documentElement;
      expect(rstr.namespaceURI).toBe(NS.wst);
      expect(rstr.localName).toBe("RequestSecurityTokenResponse");
      expect(childElements(rstr).map((e) => e.localName)).toEqual(["Lifetime", "AppliesTo", "RequestedSecurityToken", "TokenType", "RequestType", "KeyType"]);
      expect(textOf(childElements(rstr, NS.wst, "TokenType")[0]!)).toBe(TOKEN_TYPE.saml11);
      expect(textOf(childElements(rstr, NS.wst, "RequestType")[0]!)).toBe("http://schemas.xmlsoap.org/ws/2005/02/trust/Issue");
      const lifetime = childElements(rstr, NS.wst, "Lifetime")[0]!;
      expect(textOf(childElements(lifetime, NS.wsu, "Created")[0]!)).toBe("2026-01-02T03:04:05Z");
      const address = doc.getElementsByTagNameNS(NS.wsa, "Address")[0]!;
      expect(textOf(address)).toBe(model.audience);

      const assertion = childElements(childElements(rstr, NS.wst, "RequestedSecurityToken")[0]!)[0]!;
      expect(assertion.namespaceURI).toBe(NS.saml1);
      expect(assertion.getAttribute("AssertionID")).toBe(id);
      expect(assertion.getAttribute("MajorVersion")).toBe("1");
      expect(assertion.getAttribute("MinorVersion")).toBe("1");
      expect(assertion.getAttribute("Issuer")).toBe(model.issuer);
      const kids = childElements(assertion).map((e) => e.localName);
      expect(kids).toEqual(["Conditions", "AttributeStatement", "AuthenticationStatement", "Signature"]);
      await verifyElement(doc, assertion, [kp.publicKey]);

      const audience = doc.getElementsByTagNameNS(NS.saml1, "Audience")[0]!;
      expect(textOf(audience)).toBe(model.audience);
      const conf = doc.getElementsByTagNameNS(NS.saml1, "ConfirmationMethod");
      expect(conf.length).toBe(2);
      expect(textOf(conf[0]!)).toBe(SAML11_BEARER);
      const nameIds = doc.getElementsByTagNameNS(NS.saml1, "NameIdentifier");
      expect(textOf(nameIds[0]!)).toBe("alice@example.com");
      const attrs = doc.getElementsByTagNameNS(NS.saml1, "Attribute");
      expect(attrs.length).toBe(2);
      expect(attrs[0]!.getAttribute("AttributeName")).toBe("emailaddress");
      expect(attrs[0]!.getAttribute("AttributeNamespace")).toBe("http://schemas.xmlsoap.org/ws/2005/05/identity/claims");
      const groupValues = Array.from({ length: attrs[1]!.childNodes.length }, (_, i) => textOf(attrs[1]!.childNodes[i] as never));
      expect(groupValues).toEqual(["a<b", "c&d"]);
    });
  }

  it("refuses a tampered assertion and another key", async () => {
    const kp = await rsa();
    const { xml } = await buildSaml11Assertion(model, { key: kp.privateKey, alg: "RSA-SHA256" });
    const tampered = parseXml(xml.replace(">alice@example.com<", ">admin@example.com<"));
    await expect(verifyElement(tampered, tampered.documentElement, [kp.publicKey])).rejects.toBeInstanceOf(SignatureRejected);
    const other = await rsa();
    const doc = parseXml(xml);
    await expect(verifyElement(doc, doc.documentElement, [other.publicKey])).rejects.toBeInstanceOf(SignatureRejected);
  });

  it("escapes hostile values: no element or attribute injection through the realm, NameID or attributes", async () => {
    const kp = await rsa();
    const evil = { ...model, audience: `urn:x</saml:Audience><saml:Audience>urn:evil`, nameId: { value: `a"/><x>` }, attributes: [{ name: `n" x="1`, values: [`</saml:AttributeValue>`] }] };
    const { xml } = await buildSaml11Assertion(evil, { key: kp.privateKey, alg: "RSA-SHA256" });
    const wresult = buildWresult({ assertionXml: xml, tokenType: "saml11", appliesTo: evil.audience, created: now, expires: now + 1 });
    const doc = parseXml(wresult);
    const audiences = doc.getElementsByTagNameNS(NS.saml1, "Audience");
    expect(audiences.length).toBe(1);
    expect(textOf(audiences[0]!)).toBe(evil.audience);
    expect(textOf(doc.getElementsByTagNameNS(NS.wsa, "Address")[0]!)).toBe(evil.audience);
    await verifyElement(doc, doc.getElementsByTagNameNS(NS.saml1, "Assertion")[0]!, [kp.publicKey]);
  });
});
