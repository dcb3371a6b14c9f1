import { describe, it } from "vitest";
import { ACS, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * Wrong Destination — a response the IdP issued to another SP (or another ACS of ours) replayed
 * here: SAML Bindings §3.5.5.2 (the Destination of a signed message MUST be checked against
 * the receiving endpoint) and Profiles §4.1.4.3. OWASP SAML Security Cheat Sheet, "Validate
 * the Destination".
 * Closed by: Destination, when present, must equal our ACS URL exactly; a signed Response
 * without one is refused.
 */
describe("wrong Destination", () => {
  it("a response signed by the IdP for another endpoint is refused", async () => {
    await expectRefused(await goodResponse({ destination: "https://other-sp.example/acs" }, { signResponse: true }), /Destination is not our ACS URL/);
    await expectRefused(await goodResponse({ destination: ACS + "?x=1" }), /Destination is not our ACS URL/);
  });

  it("a Destination edited after signing breaks the Response signature", async () => {
    const xml = await goodResponse({ destination: "https://other-sp.example/acs" }, { signResponse: true });
    await expectRefused(mutate(xml, (d) => d.documentElement.setAttribute("Destination", ACS)), /does not verify/);
  });

  it("a signed Response with its Destination removed is refused", async () => {
    await expectRefused(await goodResponse({ destination: null }, { signResponse: true }), /must carry a Destination/);
  });
});
