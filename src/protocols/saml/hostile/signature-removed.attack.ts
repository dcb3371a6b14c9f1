import { describe, it } from "vitest";
import { NS } from "../xml";
import { assertionOf, detachSignature, expectAccepted, expectRefused, goodResponse, mutate, nameIdOf, EVIL_NAME, signatureOf } from "./fixtures";

/**
 * Signature removed — Somorovsky et al. 2012 §5.2 ("signature exclusion": several SAML
 * frameworks verified a signature only when one was present); CVE-2021-41254-like cases in
 * other stacks. The attacker strips the Signature and edits the assertion freely.
 * Closed by: the Assertion must be signed (requireSignedAssertion, the default) and, if that is
 * turned off, the Response must be; an empty or emptied Signature does not count.
 */
describe("signature removed", () => {
  it("an assertion stripped of its Signature (and then edited) is refused", async () => {
    const xml = await goodResponse();
    await expectAccepted(xml);
    const attack = mutate(xml, (d) => {
      const a = assertionOf(d);
      detachSignature(a);
      nameIdOf(a).textContent = EVIL_NAME;
    });
    await expectRefused(attack, /neither the Response nor the Assertion is signed|not signed/);
    await expectRefused(attack, /neither the Response nor the Assertion is signed/, { requireSignedAssertion: false });
  });

  it("an emptied SignatureValue or an empty Signature element is refused", async () => {
    const xml = await goodResponse();
    const emptyValue = mutate(xml, (d) => {
      signatureOf(assertionOf(d))!.getElementsByTagNameNS(NS.ds, "SignatureValue")[0]!.textContent = "";
    });
    await expectRefused(emptyValue, /does not verify|malformed|SignatureValue/);
    const emptySig = mutate(xml, (d) => {
      const s = signatureOf(assertionOf(d))!;
      while (s.firstChild) s.removeChild(s.firstChild);
    });
    await expectRefused(emptySig, /SignedInfo/);
  });
});
