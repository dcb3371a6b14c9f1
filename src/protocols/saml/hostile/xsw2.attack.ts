import { describe, it } from "vitest";
import { detachSignature, evilCopy, expectAccepted, expectReadElementUnverifiable, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * XSW2 — Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be",
 * USENIX Security 2012, §5; the numbering XSW1-XSW8 is the one SAML Raider (the Burp extension
 * that automates the paper) uses.
 * Target: the RESPONSE signature, as XSW1, but the original Response is placed before the
 * Signature as a sibling (a detached signature) instead of inside it.
 * Closed by: one Assertion in the whole document; Reference = '#' + the signed element's own ID.
 */
describe("XSW2: signed Response cloned, original placed beside a now-detached Signature", () => {
  it("is refused", async () => {
    const xml = await goodResponse({}, { signAssertion: false, signResponse: true });
    await expectAccepted(xml, { requireSignedAssertion: false });
    const attack = mutate(xml, (d) => {
      const orig = d.documentElement;
      const sig = detachSignature(orig);
      const evil = evilCopy(orig, "_evil");
      const afterIssuer = evil.firstChild!.nextSibling;
      evil.insertBefore(orig.cloneNode(true), afterIssuer);
      evil.insertBefore(sig, afterIssuer);
      d.replaceChild(evil, orig);
    });
    await expectRefused(attack, /exactly one Assertion/, { requireSignedAssertion: false });
    await expectReadElementUnverifiable(attack, "response");
  });
});
