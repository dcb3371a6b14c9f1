import { describe, it } from "vitest";
import { assertionOf, detachSignature, dsElement, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW8 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the ASSERTION signature. The attacker's Assertion carries the original Signature, and
 * the original Assertion (its Signature removed) sits in a ds:Object inside that Signature.
 * Closed by: exactly one Assertion; a Signature with anything but SignedInfo, SignatureValue
 * and KeyInfo (here: Object) is refused by xmldsig.verifyElement.
 */
describe("XSW8: the original Assertion inside a ds:Object of the Signature", () => {
  for (const id of ["_evil", undefined]) {
    it(`is refused (copy's ID ${id ?? "the same as the original"})`, async () => {
      const xml = await goodResponse();
      await expectAccepted(xml);
      const attack = mutate(xml, (d) => {
        const a = assertionOf(d);
        const sig = detachSignature(a);
        const evil = evilCopy(a, id);
        d.documentElement.replaceChild(evil, a);
        const obj = dsElement(d, "Object");
        obj.appendChild(a);
        sig.appendChild(obj);
        evil.insertBefore(sig, evil.firstChild!.nextSibling);
      });
      await expectRefused(attack, /exactly one Assertion/);
      await expectReadElementUnverifiable(attack, "assertion");
    });
  }
});
