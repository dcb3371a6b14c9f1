import { describe, expect, it } from "vitest";
import { readSamlResponse, SamlRejected } from "./response-reader";
import { ACS, b64, expectation, expectRefused, goodResponse, IDP, mutate, NOW, REQUEST_ID, responseXml, signXml, assertionOf } from "./hostile/fixtures";
import { NS, parseXml, serializeXml } from "./xml";
import { signElement } from "./xmldsig";

describe("readSamlResponse", () => {
  it("reads a signed assertion: NameID, format, attributes, session index, instants, InResponseTo", async () => {
    const xml = await goodResponse();
    const id = await readSamlResponse(b64(xml), await expectation());
    expect(id).toMatchObject({
      issuer: IDP,
      nameId: "alice@example.com",
      nameIdFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
      sessionIndex: "_sess1",
      attributes: { email: ["alice@example.com"], groups: ["staff", "admins"] },
      assertionId: "_assert1",
      authnInstant: NOW,
      inResponseTo: REQUEST_ID,
      notOnOrAfter: NOW + 5 * 60_000,
    });
    // Raw XML is accepted as well as the POST binding's base64.
    expect((await readSamlResponse(xml, await expectation())).nameId).toBe("alice@example.com");
    // Line-wrapped base64 (some IdPs wrap at 76) is accepted.
    expect((await readSamlResponse(b64(xml).replace(/(.{76})/g, "$1\r\n"), await expectation())).nameId).toBe("alice@example.com");
  });

  it("accepts a signed Response around a signed Assertion, and an ECDSA key", async () => {
    await readSamlResponse(b64(await goodResponse({}, { signResponse: true })), await expectation());
    const ec = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const doc = parseXml(responseXml());
    await signElement(doc, assertionOf(doc), { key: ec.privateKey, alg: "ECDSA-SHA256" });
    await readSamlResponse(b64(serializeXml(doc)), await expectation({ keys: [ec.publicKey] }));
  });

  it("a signed Response alone is enough only when the caller does not require a signed assertion", async () => {
    const xml = await goodResponse({}, { signAssertion: false, signResponse: true });
    await expectRefused(xml, /Assertion is not signed/);
    const id = await readSamlResponse(b64(xml), await expectation({ requireSignedAssertion: false }));
    expect(id.nameId).toBe("alice@example.com");
    await expectRefused(responseXml(), /neither the Response nor the Assertion is signed/, { requireSignedAssertion: false });
  });

  it("unsolicited responses: accepted with inResponseTo null only when none is carried", async () => {
    const unsolicited = await goodResponse({ inResponseTo: null });
    expect((await readSamlResponse(b64(unsolicited), await expectation({ inResponseTo: null }))).inResponseTo).toBeNull();
    await expectRefused(unsolicited, /InResponseTo does not match/);
    await expectRefused(await goodResponse(), /unsolicited response was expected/, { inResponseTo: null });
    await expectRefused(await goodResponse({ inResponseTo: "_other" }), /InResponseTo does not match/);
  });

  it("the InResponseTo callback runs last, once, only after everything verified", async () => {
    const seen: (string | null)[] = [];
    const check = async (v: string | null) => (seen.push(v), v === REQUEST_ID);
    await readSamlResponse(b64(await goodResponse()), await expectation({ inResponseTo: check }));
    expect(seen).toEqual([REQUEST_ID]);
    const expired = await goodResponse({ issuedAt: NOW - 3600_000 });
    await expectRefused(expired, /expired/, { inResponseTo: check });
    expect(seen).toHaveLength(1);
    await expectRefused(await goodResponse({ inResponseTo: "_nope" }), /no pending request/, { inResponseTo: check });
    await expectRefused(await goodResponse({ inResponseTo: null }), /unsolicited responses are not accepted/, { inResponseTo: async () => false });
  });

  it("InResponseTo must agree between the Response and the SubjectConfirmationData", async () => {
    const xml = await signXml(responseXml().replace(`<samlp:Response `, `<samlp:Response `).replace(/(<samlp:Response[^>]*InResponseTo=")[^"]+/, "$1_different"));
    await expectRefused(xml, /differs between/);
  });

  it("refuses a non-Success status, wrong versions and issuers, unknown conditions, an ended IdP session", async () => {
    await expectRefused(await signXml(responseXml().replace("status:Success", "status:Requester")), /answered urn:oasis:names:tc:SAML:2.0:status:Requester/);
    await expectRefused(await signXml(responseXml().replace('ID="_resp1" Version="2.0"', 'ID="_resp1" Version="1.1"')), /Version must be 2.0/);
    await expectRefused(await goodResponse({ issuer: "https://evil.example" }), /Issuer is not the configured IdP/);
    await expectRefused(await signXml(responseXml().replace("</saml:AudienceRestriction>", "</saml:AudienceRestriction><saml:Condition/>")), /unknown condition/);
    await expectRefused(await signXml(responseXml().replace('SessionIndex="_sess1"', `SessionIndex="_sess1" SessionNotOnOrAfter="2026-06-01T11:00:00Z"`)), /IdP session has ended/);
    // The Assertion's Issuer alone is changed after signing: the signature catches it.
    const swapped = mutate(await goodResponse(), (d) => {
      assertionOf(d).getElementsByTagNameNS(NS.saml, "Issuer")[0]!.textContent = "https://evil.example";
    });
    await expectRefused(swapped, /does not verify|Issuer/);
  });

  it("every AudienceRestriction must name us (SAML Core §2.5.1.4)", async () => {
    const two = responseXml().replace("</saml:Conditions>", "<saml:AudienceRestriction><saml:Audience>https://other.example</saml:Audience></saml:AudienceRestriction></saml:Conditions>");
    await expectRefused(await signXml(two), /Audience is not our SP/);
    const none = responseXml().replace(/<saml:AudienceRestriction>.*<\/saml:AudienceRestriction>/, "");
    await expectRefused(await signXml(none), /no AudienceRestriction/);
  });

  it("a signed Response must name its Destination (Bindings §3.5.5.2)", async () => {
    await expectRefused(await goodResponse({ destination: null }, { signResponse: true }), /must carry a Destination/);
    // Unsigned Response without Destination: allowed, the assertion's Recipient binds it.
    await readSamlResponse(b64(await goodResponse({ destination: null })), await expectation());
  });

  it("hostile input: garbage, empty, huge, not base64, not a Response, wrong key: always SamlRejected", async () => {
    const e = await expectation();
    for (const input of ["", "   ", "!!!!", "QUJD", b64("<x/>"), b64("not xml"), "<samlp:Response/>", "A".repeat(2_000_000), b64("\u0000\u0001")]) {
      await expect(readSamlResponse(input, e)).rejects.toBeInstanceOf(SamlRejected);
    }
    await expect(readSamlResponse(123 as unknown as string, e)).rejects.toBeInstanceOf(SamlRejected);
    await expect(readSamlResponse(b64(await goodResponse()), { ...e, keys: [] })).rejects.toThrow(/no trusted key/);
  });

  it("attribute names are own properties, even __proto__", async () => {
    const xml = await goodResponse({ attributes: { __proto__: ["x"], constructor: ["y"] } as unknown as Record<string, string[]> });
    const id = await readSamlResponse(b64(xml), await expectation());
    // The fixture's object literal itself drops __proto__; constructor is an own property here.
    expect(Object.prototype.hasOwnProperty.call(id.attributes, "constructor")).toBe(true);
    const raw = await signXml(responseXml().replace('<saml:Attribute Name="email">', '<saml:Attribute Name="__proto__"><saml:AttributeValue>p</saml:AttributeValue></saml:Attribute><saml:Attribute Name="email">'));
    const id2 = await readSamlResponse(b64(raw), await expectation());
    expect(Object.prototype.hasOwnProperty.call(id2.attributes, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(id2.attributes)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(id2.attributes)).email).toEqual(["alice@example.com"]);
  });

  it("refuses an EncryptedAssertion (decryption not supported yet) rather than reading around it", async () => {
    const xml = responseXml().replace(/<saml:Assertion .*<\/saml:Assertion>/, `<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="${NS.xenc}"/></saml:EncryptedAssertion>`);
    await expectRefused(xml, /encrypted assertion/);
  });

  it("the ACS URL and skew: Recipient exactly ours; one minute of skew is within the default three", async () => {
    await expectRefused(await goodResponse({ recipient: ACS + "/" }), /Recipient/);
    const early = await goodResponse({ issuedAt: NOW + 2 * 60_000 });
    await readSamlResponse(b64(early), await expectation());
    await expectRefused(early, /not yet valid/, { clockSkewMs: 0 });
  });
});
