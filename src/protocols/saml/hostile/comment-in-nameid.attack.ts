import { describe, expect, it } from "vitest";
import { readSamlResponse } from "../response-reader";
import { b64, expectation, goodResponse, mutate, nameIdOf, assertionOf } from "./fixtures";

/**
 * Comment inside NameID — Kelby Ludwig (Duo Labs), "Duo Finds SAML Vulnerabilities Affecting
 * Multiple Implementations", 2018 (CVE-2017-11427, -11428, -11429, -11430; CVE-2018-0489,
 * -5387, -7340). The attacker registers `admin@example.com.evil.test` at the IdP, gets it
 * signed, and inserts a comment: `admin@example.com<!---->.evil.test`. Exclusive c14n without
 * comments drops it, so the signature still verifies; a reader taking the first text node
 * reads `admin@example.com`.
 * Closed by: xml.textOf joins every text node and skips comments, so the value read is the
 * value signed; a comment never changes it.
 */
describe("comment inside NameID", () => {
  it("the signature still verifies and the whole signed value is read, never the truncated one", async () => {
    const xml = await goodResponse({ nameId: "admin@example.com.evil.test" });
    const attack = mutate(xml, (d) => {
      const n = nameIdOf(assertionOf(d));
      n.textContent = "";
      n.appendChild(d.createTextNode("admin@example.com"));
      n.appendChild(d.createComment(""));
      n.appendChild(d.createTextNode(".evil.test"));
    });
    expect(attack).toContain("admin@example.com<!---->.evil.test");
    const id = await readSamlResponse(b64(attack), await expectation());
    expect(id.nameId).toBe("admin@example.com.evil.test");
  });

  it("a comment in an attribute value or the Issuer does not change it either", async () => {
    const xml = await goodResponse({ attributes: { email: ["admin@example.com.evil.test"] } });
    const attack = xml.replace("<saml:AttributeValue>admin@example.com.evil.test<", "<saml:AttributeValue>admin@example.com<!--x-->.evil.test<");
    expect(attack).not.toBe(xml);
    const id = await readSamlResponse(b64(attack), await expectation());
    expect(id.attributes.email).toEqual(["admin@example.com.evil.test"]);
  });
});
