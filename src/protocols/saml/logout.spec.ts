import { describe, expect, it } from "vitest";
import { buildLogoutRequest, buildLogoutResponse, parseLogoutRequest, parseLogoutResponse, STATUS, verifyLogoutSignature } from "./logout";
import { NS, XmlRejected } from "./xml";
import { SignatureRejected } from "./xmldsig";

const rsa = () =>
  crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
const ec = () => crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;

const REQ = {
  issuer: "https://sp.example.com/metadata",
  destination: "https://idp.example.com/saml/c1/slo",
  nameId: { value: "alice@example.com", format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" },
  sessionIndexes: ["sid-1"],
};

describe("SAML single logout messages (SAML Core §3.7)", () => {
  it("builds and reads back a LogoutRequest: ID, Issuer, Destination, NameID, SessionIndex", async () => {
    const xml = await buildLogoutRequest({ ...REQ, notOnOrAfter: Date.now() + 60_000, reason: "urn:oasis:names:tc:SAML:2.0:logout:user" });
    const r = parseLogoutRequest(xml);
    expect(r.id).toMatch(/^_[0-9a-f]{40}$/);
    expect(r.issuer).toBe(REQ.issuer);
    expect(r.destination).toBe(REQ.destination);
    expect(r.nameId).toEqual({ value: "alice@example.com", format: REQ.nameId.format, nameQualifier: undefined, spNameQualifier: undefined });
    expect(r.sessionIndexes).toEqual(["sid-1"]);
    expect(r.notOnOrAfter).toBeGreaterThan(Date.now());
    expect(r.reason).toBe("urn:oasis:names:tc:SAML:2.0:logout:user");
    expect(r.signed).toBe(false);
  });

  it("builds and reads back a LogoutResponse with InResponseTo and a second-level status", async () => {
    const xml = await buildLogoutResponse({ issuer: "idp", destination: "https://sp/slo", inResponseTo: "_abc", status: STATUS.success, subStatus: STATUS.partialLogout, message: "a<b" });
    const r = parseLogoutResponse(xml);
    expect(r).toMatchObject({ issuer: "idp", destination: "https://sp/slo", inResponseTo: "_abc", status: STATUS.success, subStatus: STATUS.partialLogout });
    expect(xml).toContain("a&lt;b");
  });

  it("escapes every value: a NameID or Issuer with markup stays text", async () => {
    const xml = await buildLogoutRequest({ ...REQ, issuer: 'x"><evil/>', nameId: { value: "</saml:NameID><saml:NameID>admin" } });
    const r = parseLogoutRequest(xml);
    expect(r.issuer).toBe('x"><evil/>');
    expect(r.nameId.value).toBe("</saml:NameID><saml:NameID>admin");
  });

  it("signs for the POST binding (RSA and ECDSA) and verifies only with the pinned key", async () => {
    for (const [kp, alg] of [[await rsa(), "RSA-SHA256"], [await ec(), "ECDSA-SHA256"]] as const) {
      const other = alg === "RSA-SHA256" ? await rsa() : await ec();
      const req = parseLogoutRequest(await buildLogoutRequest(REQ, { key: kp.privateKey, alg }));
      expect(req.signed).toBe(true);
      await verifyLogoutSignature(req, [kp.publicKey]);
      await expect(verifyLogoutSignature(req, [other.publicKey])).rejects.toBeInstanceOf(SignatureRejected);
      const res = parseLogoutResponse(await buildLogoutResponse({ issuer: "idp", destination: "https://sp/slo", inResponseTo: req.id, status: STATUS.success }, { key: kp.privateKey, alg }));
      await verifyLogoutSignature(res, [kp.publicKey]);
    }
  });

  it("a signed request whose NameID was changed, or an unsigned one, does not verify", async () => {
    const kp = await rsa();
    const xml = await buildLogoutRequest(REQ, { key: kp.privateKey, alg: "RSA-SHA256" });
    const tampered = parseLogoutRequest(xml.replace("alice@example.com", "bob@example.com"));
    await expect(verifyLogoutSignature(tampered, [kp.publicKey])).rejects.toBeInstanceOf(SignatureRejected);
    const unsigned = parseLogoutRequest(await buildLogoutRequest(REQ));
    await expect(verifyLogoutSignature(unsigned, [kp.publicKey])).rejects.toThrow(/not signed/);
  });

  it("refuses malformed messages: wrong root, wrong version, no ID, two NameIDs, EncryptedID, DOCTYPE, missing Status", async () => {
    const good = await buildLogoutRequest(REQ);
    const bad = [
      good.replace(/LogoutRequest/g, "AuthnRequest"),
      good.replace('Version="2.0"', 'Version="1.1"'),
      good.replace(/ ID="[^"]+"/, ""),
      good.replace("</samlp:LogoutRequest>", "<saml:NameID>bob</saml:NameID></samlp:LogoutRequest>"),
      good.replace("</samlp:LogoutRequest>", `<saml:EncryptedID xmlns:saml="${NS.saml}"/></samlp:LogoutRequest>`),
      `<!DOCTYPE x [<!ENTITY e "x">]>` + good,
      good.replace(/IssueInstant="[^"]+"/, 'IssueInstant="yesterday"'),
      "not xml",
    ];
    for (const x of bad) expect(() => parseLogoutRequest(x), x.slice(0, 80)).toThrow(XmlRejected);
    const res = await buildLogoutResponse({ issuer: "idp", destination: "d", status: STATUS.success });
    expect(() => parseLogoutResponse(res.replace(/<samlp:Status>.*<\/samlp:Status>/, ""))).toThrow(XmlRejected);
    expect(() => parseLogoutResponse(good)).toThrow(XmlRejected);
  });
});
