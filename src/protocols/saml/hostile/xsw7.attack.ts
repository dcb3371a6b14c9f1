import { describe, it } from "vitest";
import { NS } from "../xml";
import { assertionOf, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW7 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the ASSERTION signature. The original signed Assertion is moved into a
 * samlp:Extensions element (schema-valid: Extensions admits any foreign content, which is why
 * this variant passes schema validation), and the attacker's unsigned Assertion takes its place.
 * Closed by: exactly one Assertion in the whole document.
 */
describe("XSW7: the signed Assertion moved into samlp:Extensions", () => {
  for (const id of ["_evil", undefined]) {
    it(`is refused (copy's ID ${id ?? "the same as the original"})`, async () => {
      const xml = await goodResponse();
      await expectAccepted(xml);
      const attack = mutate(xml, (d) => {
        const a = assertionOf(d);
        const ext = d.createElementNS(NS.samlp, "samlp:Extensions");
        const evil = evilCopy(a, id);
        d.documentElement.replaceChild(evil, a);
        ext.appendChild(a);
        d.documentElement.insertBefore(ext, d.documentElement.firstChild!.nextSibling);
      });
      await expectRefused(attack, /exactly one Assertion/);
      await expectReadElementUnverifiable(attack, "assertion");
    });
  }
});
