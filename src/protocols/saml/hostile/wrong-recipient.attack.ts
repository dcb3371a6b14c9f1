import { describe, it } from "vitest";
import { NS } from "../xml";
import { ACS, assertionOf, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * Wrong Recipient — an assertion issued for another SP's ACS, forwarded to ours (the
 * "malicious SP" attack: any SP that receives a bearer assertion can replay it elsewhere).
 * SAML Profiles §4.1.4.3: the bearer SubjectConfirmationData's Recipient MUST be the ACS URL
 * at which the assertion arrived.
 * Closed by: Recipient must equal our ACS URL exactly (no prefix, no trailing slash).
 */
describe("wrong Recipient", () => {
  it("an assertion for another ACS is refused, even with a matching Destination", async () => {
    for (const r of ["https://other-sp.example/acs", ACS + "/", ACS.toUpperCase(), ACS + "#x"]) {
      await expectRefused(await goodResponse({ recipient: r }), /Recipient is not our ACS URL/);
    }
  });

  it("a Recipient edited after signing breaks the assertion's signature", async () => {
    const xml = await goodResponse({ recipient: "https://other-sp.example/acs" });
    const attack = mutate(xml, (d) => assertionOf(d).getElementsByTagNameNS(NS.saml, "SubjectConfirmationData")[0]!.setAttribute("Recipient", ACS));
    await expectRefused(attack, /does not verify/);
  });
});
