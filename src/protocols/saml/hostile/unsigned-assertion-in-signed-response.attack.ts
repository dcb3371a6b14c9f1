import { describe, it } from "vitest";
import { assertionOf, evilCopy, expectAccepted, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * A signed Response around an unsigned Assertion swapped in — the SP that accepts "something in
 * this message is signed" (Somorovsky et al. 2012 §5; the shape of ruby-saml CVE-2024-45409
 * and of CVE-2025-54419 in node-saml, where the Response signature was checked and the
 * assertion read elsewhere). An IdP that signs only the Response gives the attacker a signed
 * envelope; the attacker swaps the Assertion inside it.
 * Closed by: requireSignedAssertion (default): the Assertion itself must carry a Signature that
 * verifies; a signed Response is an addition, never a substitute. With it turned off, the
 * Response signature covers the Assertion, and the swap breaks it.
 */
describe("signed Response around an unsigned Assertion swapped in", () => {
  it("a Response-only signature is not enough by default", async () => {
    const xml = await goodResponse({}, { signAssertion: false, signResponse: true });
    await expectAccepted(xml, { requireSignedAssertion: false });
    await expectRefused(xml, /Assertion is not signed \(a signed Response around it is not enough\)/);
  });

  it("swapping the Assertion of a signed Response for the attacker's is refused either way", async () => {
    for (const signAssertion of [true, false]) {
      const xml = await goodResponse({}, { signAssertion, signResponse: true });
      const attack = mutate(xml, (d) => {
        const a = assertionOf(d);
        d.documentElement.replaceChild(evilCopy(a), a);
      });
      await expectRefused(attack, /Assertion is not signed|does not verify/);
      await expectRefused(attack, /does not verify/, { requireSignedAssertion: false });
    }
  });
});
