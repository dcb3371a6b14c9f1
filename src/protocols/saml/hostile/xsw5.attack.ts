import { describe, it } from "vitest";
import { assertionOf, detachSignature, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW5 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the ASSERTION signature. The original's Signature is moved into the attacker's
 * Assertion (so "the Assertion" looks signed), and the original, now unsigned, is appended at
 * the end of the Response where the Reference still finds it.
 * Closed by: exactly one Assertion; a Signature must reference the element it sits in.
 */
describe("XSW5: the Signature moved into the attacker's Assertion, the original appended unsigned", () => {
  it("is refused", async () => {
    const xml = await goodResponse();
    await expectAccepted(xml);
    const attack = mutate(xml, (d) => {
      const a = assertionOf(d);
      const sig = detachSignature(a);
      const evil = evilCopy(a, "_evil");
      evil.insertBefore(sig, evil.firstChild!.nextSibling);
      d.documentElement.replaceChild(evil, a);
      d.documentElement.appendChild(a);
    });
    await expectRefused(attack, /exactly one Assertion/);
    await expectReadElementUnverifiable(attack, "assertion");
  });
});
