import { describe, it } from "vitest";
import { expectAccepted, expectRefused, goodResponse, NOW } from "./fixtures";

/**
 * Expired assertion — replaying an old, validly signed assertion (a captured response from
 * browser history, logs or a proxy). SAML Core §2.5.1.2 (Conditions NotOnOrAfter) and
 * Profiles §4.1.4.2 (bearer SubjectConfirmationData NotOnOrAfter).
 * Closed by: both NotOnOrAfter instants must be in the future, within the configured clock
 * skew (three minutes by default, configurable).
 */
describe("expired assertion", () => {
  it("an assertion past its NotOnOrAfter (beyond the skew) is refused", async () => {
    // Valid until NOW+5 min; read at NOW+9 min with 3 min of skew.
    const xml = await goodResponse();
    await expectAccepted(xml);
    await expectRefused(xml, /expired/, { now: NOW + 9 * 60_000 });
    // Within the skew it still holds; with no skew it does not.
    await expectAccepted(xml, { now: NOW + 6 * 60_000 });
    await expectRefused(xml, /expired/, { now: NOW + 5 * 60_000, clockSkewMs: 0 });
  });

  it("an assertion issued an hour ago is refused", async () => {
    await expectRefused(await goodResponse({ issuedAt: NOW - 3600_000 }), /expired/);
  });
});
