import { describe, expect, it } from "vitest";
import { toBase64 } from "../../crypto/encoding";
import {
  decodeAnyRequest,
  decodePostRequest,
  decodeRedirectRequest,
  deflateRaw,
  encodeRedirectMessage,
  MAX_MESSAGE_B64,
  parseAuthnRequest,
  rawQueryOf,
  SamlMessageRejected,
  signRedirectQuery,
  verifyPostSignature,
  verifyRedirectSignature,
} from "./authn-request";
import { NS, parseXml, serializeXml } from "./xml";
import { signElement, SignatureRejected } from "./xmldsig";

const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
const rsa = () => crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
const ec = () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

const now = () => new Date().toISOString();
const request = (extra = "", issuer = "https://sp.example.com/metadata") =>
  `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="_abc123" Version="2.0" IssueInstant="${now()}" Destination="https://idp.example.com/sso" AssertionConsumerServiceURL="https://sp.example.com/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" ForceAuthn="true"${extra}><saml:Issuer>${issuer}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"/></samlp:AuthnRequest>`;

describe("AuthnRequest decoding (SAML Bindings §3.4.4, §3.5.4)", () => {
  it("round-trips the Redirect binding's DEFLATE and the POST binding's base64", async () => {
    const xml = request();
    expect(await decodeRedirectRequest(await encodeRedirectMessage(xml))).toBe(xml);
    expect(decodePostRequest(btoa(xml))).toBe(xml);
    expect(await decodeAnyRequest(await encodeRedirectMessage(xml))).toEqual({ xml, binding: "redirect" });
    expect(await decodeAnyRequest(btoa(xml))).toEqual({ xml, binding: "post" });
  });

  it("reads the request's fields", () => {
    const r = parseAuthnRequest(request());
    expect(r).toMatchObject({
      id: "_abc123",
      issuer: "https://sp.example.com/metadata",
      destination: "https://idp.example.com/sso",
      acsUrl: "https://sp.example.com/acs",
      protocolBinding: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
      forceAuthn: true,
      isPassive: false,
      nameIdFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    });
    expect(Math.abs(r.issueInstant - Date.now())).toBeLessThan(5000);
  });

  it("refuses a deflate bomb while inflating, before holding it", async () => {
    // 50 MB of zeros deflates to about 50 KB... too long as base64; 5 MB deflates to ~5 KB.
    const bomb = toBase64(await deflateRaw(new Uint8Array(5 * 1024 * 1024)));
    expect(bomb.length).toBeLessThan(MAX_MESSAGE_B64);
    await expect(decodeRedirectRequest(bomb)).rejects.toThrow(/larger than 65536/);
    await expect(decodeAnyRequest(bomb)).rejects.toThrow(/larger than 65536/);
  });

  it("refuses oversized base64 before decoding it, and garbage of every kind", async () => {
    await expect(decodeRedirectRequest("A".repeat(MAX_MESSAGE_B64 + 4))).rejects.toThrow(/longer than/);
    expect(() => decodePostRequest("A".repeat(MAX_MESSAGE_B64 + 4))).toThrow(/longer than/);
    await expect(decodeRedirectRequest("not base64!")).rejects.toBeInstanceOf(SamlMessageRejected);
    await expect(decodeRedirectRequest(btoa("definitely not deflate"))).rejects.toThrow(/DEFLATE|larger|UTF-8|inflated/);
    await expect(decodeRedirectRequest("")).rejects.toThrow(/empty/);
    expect(() => decodePostRequest(toBase64(new Uint8Array([0xff, 0xfe, 0x3c])))).toThrow(/UTF-8/);
  });

  it("parses strictly: root, version, ID, IssueInstant, Issuer, booleans, DOCTYPE", () => {
    expect(() => parseAuthnRequest(request().replace(/AuthnRequest/g, "LogoutRequest"))).toThrow(/AuthnRequest/);
    expect(() => parseAuthnRequest(request().replace('Version="2.0"', 'Version="1.1"'))).toThrow(/Version/);
    expect(() => parseAuthnRequest(request().replace('ID="_abc123"', 'ID="1bad id"'))).toThrow(/ID/);
    expect(() => parseAuthnRequest(request().replace(/IssueInstant="[^"]*"/, 'IssueInstant="yesterday"'))).toThrow(/IssueInstant/);
    expect(() => parseAuthnRequest(request("", ""))).toThrow(/Issuer/);
    expect(() => parseAuthnRequest(request().replace('ForceAuthn="true"', 'ForceAuthn="yes"'))).toThrow(/boolean/);
    expect(() => parseAuthnRequest(`<!DOCTYPE x [<!ENTITY a "b">]>` + request())).toThrow(SamlMessageRejected);
    expect(() => parseAuthnRequest("<samlp:AuthnRequest")).toThrow(SamlMessageRejected);
    expect(() => parseAuthnRequest(request().replace("</samlp:AuthnRequest>", "<saml:Issuer>x</saml:Issuer></samlp:AuthnRequest>"))).toThrow(/more than one Issuer/);
  });
});

describe("Redirect query signatures (SAML Bindings §3.4.4.1)", () => {
  it("signs and verifies RSA-SHA256 and ECDSA-SHA256, over the raw query as it arrived", async () => {
    for (const [kp, alg] of [[await rsa(), "RSA-SHA256"], [await ec(), "ECDSA-SHA256"]] as const) {
      const SAMLRequest = await encodeRedirectMessage(request());
      const q = await signRedirectQuery({ SAMLRequest, RelayState: "back to /app?x=1&y=2" }, kp.privateKey, alg);
      await verifyRedirectSignature(q, [kp.publicKey]);
      await verifyRedirectSignature(`?${q}&extra=ignored`, [kp.publicKey]);
      // The values reconstructed from decoded JSON strings give the same octets.
      const p = new URLSearchParams(q);
      const back = rawQueryOf({ SAMLRequest: p.get("SAMLRequest")!, RelayState: p.get("RelayState")!, SigAlg: p.get("SigAlg")!, Signature: p.get("Signature")! });
      await verifyRedirectSignature(back, [kp.publicKey]);
    }
  });

  it("accepts a signer that signed encodeURIComponent octets but sent the URL form-encoded (node-saml: '+' for a space)", async () => {
    const kp = await rsa();
    const SAMLRequest = await encodeRedirectMessage(request());
    const q = await signRedirectQuery({ SAMLRequest, RelayState: "relay state/with?chars&" }, kp.privateKey, "RSA-SHA256");
    const p = new URLSearchParams(q);
    // What URLSearchParams writes: form encoding of the same values.
    const sent = new URLSearchParams([["SAMLRequest", p.get("SAMLRequest")!], ["RelayState", p.get("RelayState")!], ["SigAlg", p.get("SigAlg")!], ["Signature", p.get("Signature")!]]).toString();
    expect(sent).toContain("relay+state");
    await verifyRedirectSignature(sent, [kp.publicKey]);
    await expect(verifyRedirectSignature(sent.replace("relay+state", "relay+statf"), [kp.publicKey])).rejects.toThrow(/does not verify/);
  });

  it("accepts a DER-encoded ECDSA signature too", async () => {
    const kp = await ec();
    const SAMLRequest = await encodeRedirectMessage(request());
    const q = await signRedirectQuery({ SAMLRequest }, kp.privateKey, "ECDSA-SHA256");
    const raw = Uint8Array.from(atob(new URLSearchParams(q).get("Signature")!), (c) => c.charCodeAt(0));
    const int = (b: Uint8Array) => {
      let i = 0;
      while (i < b.length - 1 && b[i] === 0) i++;
      const t = b.subarray(i);
      return t[0]! & 0x80 ? [0x02, t.length + 1, 0, ...t] : [0x02, t.length, ...t];
    };
    const body = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
    const der = new Uint8Array([0x30, body.length, ...body]);
    const derQ = q.replace(/Signature=[^&]*$/, `Signature=${encodeURIComponent(toBase64(der))}`);
    await verifyRedirectSignature(derQ, [kp.publicKey]);
  });

  it("refuses another key, a changed value, SHA-1, a missing or repeated signature", async () => {
    const kp = await rsa();
    const other = await rsa();
    const SAMLRequest = await encodeRedirectMessage(request());
    const q = await signRedirectQuery({ SAMLRequest, RelayState: "r" }, kp.privateKey, "RSA-SHA256");
    await expect(verifyRedirectSignature(q, [other.publicKey])).rejects.toBeInstanceOf(SignatureRejected);
    await expect(verifyRedirectSignature(q.replace("RelayState=r", "RelayState=s"), [kp.publicKey])).rejects.toThrow(/does not verify/);
    await expect(verifyRedirectSignature(q.replace(/RelayState=r&/, ""), [kp.publicKey])).rejects.toThrow(/does not verify/);
    const sha1 = q.replace(/SigAlg=[^&]*/, `SigAlg=${encodeURIComponent("http://www.w3.org/2000/09/xmldsig#rsa-sha1")}`);
    await expect(verifyRedirectSignature(sha1, [kp.publicKey])).rejects.toThrow(/not accepted/);
    await expect(verifyRedirectSignature(q.replace(/&Signature=.*$/, ""), [kp.publicKey])).rejects.toThrow(/not signed/);
    await expect(verifyRedirectSignature(`${q}&Signature=AAAA`, [kp.publicKey])).rejects.toThrow(/repeated/);
    await expect(verifyRedirectSignature(q, [])).rejects.toThrow(/no trusted key/);
    await expect(verifyRedirectSignature(q.replace(/Signature=[^&]*$/, "Signature=%%%"), [kp.publicKey])).rejects.toBeInstanceOf(Error);
  });

  it("verifies a POSTed request's enveloped signature with the pinned key only", async () => {
    const kp = await rsa();
    const doc = parseXml(request());
    await signElement(doc, doc.documentElement, { key: kp.privateKey, alg: "RSA-SHA256" });
    const signed = serializeXml(doc);
    await verifyPostSignature(parseAuthnRequest(signed), [kp.publicKey]);
    await expect(verifyPostSignature(parseAuthnRequest(signed), [(await rsa()).publicKey])).rejects.toBeInstanceOf(SignatureRejected);
    await expect(verifyPostSignature(parseAuthnRequest(signed.replace("https://sp.example.com/acs", "https://evil.example.com/acs")), [kp.publicKey])).rejects.toThrow(/does not verify/);
  });
});
