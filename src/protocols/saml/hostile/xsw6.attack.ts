import { describe, it } from "vitest";
import { assertionOf, detachSignature, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW6 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the ASSERTION signature. As XSW5, but the original (unsigned) Assertion is put INSIDE
 * the moved Signature, which now sits in the attacker's Assertion.
 * Closed by: exactly one Assertion; no Assertion anywhere but as the Response's direct child;
 * the Reference must name the Signature's parent.
 */
describe("XSW6: the original Assertion hidden inside the Signature of the attacker's Assertion", () => {
  it("is refused", async () => {
    const xml = await goodResponse();
    await expectAccepted(xml);
    const attack = mutate(xml, (d) => {
      const a = assertionOf(d);
      const sig = detachSignature(a);
      const evil = evilCopy(a, "_evil");
      d.documentElement.replaceChild(evil, a);
      sig.appendChild(a);
      evil.insertBefore(sig, evil.firstChild!.nextSibling);
    });
    await expectRefused(attack, /exactly one Assertion/);
    await expectReadElementUnverifiable(attack, "assertion");
  });
});
