import { describe, it } from "vitest";
import { expectAccepted, expectRefused, goodResponse, NOW, responseXml, signXml } from "./fixtures";

/**
 * Not-yet-valid assertion — an assertion issued for later use (a compromised or misconfigured
 * IdP clock, or pre-issued tokens): SAML Core §2.5.1.2, Conditions NotBefore; and a bearer
 * SubjectConfirmationData must carry no NotBefore at all (Profiles §4.1.4.2).
 * Closed by: NotBefore must be reached, within the clock skew.
 */
describe("not-yet-valid assertion", () => {
  it("an assertion valid only from an hour from now is refused", async () => {
    // NotBefore = issuedAt - 1 min.
    await expectRefused(await goodResponse({ issuedAt: NOW + 3600_000 }), /not yet valid/);
  });

  it("the skew: 2 minutes early is accepted with 3 of skew, refused with none", async () => {
    const xml = await goodResponse({ issuedAt: NOW + 3 * 60_000 });
    await expectAccepted(xml);
    await expectRefused(xml, /not yet valid/, { clockSkewMs: 0 });
  });

  it("a NotBefore on the bearer SubjectConfirmationData is refused", async () => {
    const xml = await signXml(responseXml().replace("<saml:SubjectConfirmationData ", `<saml:SubjectConfirmationData NotBefore="2026-06-01T11:00:00Z" `));
    await expectRefused(xml, /must not carry NotBefore/);
  });
});
