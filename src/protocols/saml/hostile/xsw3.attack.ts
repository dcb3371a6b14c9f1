import { describe, it } from "vitest";
import { assertionOf, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW3 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the ASSERTION signature. An unsigned copy of the Assertion (the attacker's NameID) is
 * inserted before the signed one, as the Response's first Assertion: a reader taking "the first
 * Assertion" reads it, a verifier resolving the Reference by ID checks the original.
 * Closed by: exactly one Assertion in the whole document (and, with the same ID, the ID-unique rule).
 */
describe("XSW3: an unsigned Assertion inserted before the signed one", () => {
  for (const id of ["_evil", undefined]) {
    it(`is refused (copy's ID ${id ?? "the same as the original"})`, async () => {
      const xml = await goodResponse();
      await expectAccepted(xml);
      const attack = mutate(xml, (d) => {
        const a = assertionOf(d);
        d.documentElement.insertBefore(evilCopy(a, id), a);
      });
      await expectRefused(attack, /exactly one Assertion/);
      await expectReadElementUnverifiable(attack, "assertion");
    });
  }
});
