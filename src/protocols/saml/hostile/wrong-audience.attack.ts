import { describe, it } from "vitest";
import { NS } from "../xml";
import { assertionOf, expectRefused, goodResponse, mutate, SP } from "./fixtures";

/**
 * Wrong Audience — an assertion the IdP issued for another relying party (SAML Core §2.5.1.4:
 * the assertion is addressed to the Audience; Profiles §4.1.4.2 requires an
 * AudienceRestriction naming the SP). Without the check, any SP trusting the same IdP could
 * log its users in here.
 * Closed by: every AudienceRestriction must contain our SP entity ID, and one must be present.
 */
describe("wrong Audience", () => {
  it("an assertion for another SP is refused", async () => {
    for (const a of ["https://other-sp.example", SP + "/", SP.slice(0, -1), ""]) {
      await expectRefused(await goodResponse({ audience: a }), /Audience is not our SP entity ID/);
    }
  });

  it("our Audience added after signing breaks the signature", async () => {
    const xml = await goodResponse({ audience: "https://other-sp.example" });
    const attack = mutate(xml, (d) => {
      const r = assertionOf(d).getElementsByTagNameNS(NS.saml, "AudienceRestriction")[0]!;
      const ours = d.createElementNS(NS.saml, "saml:Audience");
      ours.textContent = SP;
      r.appendChild(ours);
    });
    await expectRefused(attack, /does not verify/);
  });
});
