import { describe, it } from "vitest";
import { assertionOf, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW4 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the ASSERTION signature. The attacker's Assertion replaces the original as the
 * Response's child and the original signed Assertion is moved INSIDE it, so the Reference still
 * resolves to an intact element while the outer one is read.
 * Closed by: exactly one Assertion in the whole document; the Assertion read must be a direct
 * child of the Response and carry the verified signature itself.
 */
describe("XSW4: the signed Assertion wrapped inside the attacker's Assertion", () => {
  it("is refused", async () => {
    const xml = await goodResponse();
    await expectAccepted(xml);
    const attack = mutate(xml, (d) => {
      const a = assertionOf(d);
      const evil = evilCopy(a, "_evil");
      d.documentElement.replaceChild(evil, a);
      evil.appendChild(a);
    });
    await expectRefused(attack, /exactly one Assertion/);
    await expectReadElementUnverifiable(attack, "assertion");
  });
});
