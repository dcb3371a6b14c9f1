import { describe, it } from "vitest";
import { detachSignature, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW1 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the RESPONSE signature. The attacker makes a new root Response (fresh ID, their
 * Assertion) and hides the original signed Response inside its Signature element; the
 * Reference (#original) still resolves and digests, a reader of the root reads the attacker's.
 * Closed by: one Assertion in the whole document; the Signature's Reference must name the
 * element it sits in (xmldsig.verifyElement).
 */
describe("XSW1: signed Response cloned, original moved inside the Signature", () => {
  it("is refused", async () => {
    const xml = await goodResponse({}, { signAssertion: false, signResponse: true });
    await expectAccepted(xml, { requireSignedAssertion: false });
    const attack = mutate(xml, (d) => {
      const orig = d.documentElement;
      const sig = detachSignature(orig);
      const evil = evilCopy(orig, "_evil");
      sig.appendChild(orig.cloneNode(true));
      evil.insertBefore(sig, evil.firstChild!.nextSibling);
      d.replaceChild(evil, orig);
    });
    await expectRefused(attack, /exactly one Assertion/, { requireSignedAssertion: false });
    await expectReadElementUnverifiable(attack, "response");
    await expectRefused(attack, /exactly one Assertion/);
  });
});
