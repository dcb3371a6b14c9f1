import { describe, expect, it } from "vitest";
import { createTestTenant, services } from "../../../test/helpers/tenant";
import { parseTenantSettings } from "../tenants/settings";
import { accumulateAmr, assuranceLevel, issueProof, verifyProof } from "./proofs";

describe("assurance level (NIST SP 800-63B)", () => {
  it("one kind of factor is AAL1, knowledge plus possession AAL2", () => {
    expect(assuranceLevel(["pwd"])).toBe(1);
    expect(assuranceLevel(["pwd", "pin"])).toBe(1);
    expect(assuranceLevel(["otp"])).toBe(1);
    expect(assuranceLevel(["pin", "otp"])).toBe(2);
    expect(assuranceLevel(["pwd", "otp"])).toBe(2);
  });

  it("step-up keeps earlier methods first, without repeats", () => {
    expect(accumulateAmr(["pwd"], ["otp", "pwd"])).toEqual(["pwd", "otp"]);
  });
});


describe("a proof whose credentials were checked before a reset", () => {
  it("is born revoked, while a proof checked after it lives", async () => {
    const t = await createTestTenant();
    const svc = services();
    const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.5", userAgent: null };
    const checkedBefore = Date.now() - 1000;
    await svc.authority.revokeAll(t.tenant.id, t.alice.uid, "password_reset");
    const stale = await issueProof(svc, scope, t.alice, { amr: ["pwd"], ip: scope.ip, authenticatedAt: checkedBefore });
    await expect(verifyProof(svc, scope, stale)).rejects.toMatchObject({ code: expect.stringMatching(/invalid_token|token_revoked/) });
    const fresh = await issueProof(svc, scope, t.alice, { amr: ["pwd"], ip: scope.ip, authenticatedAt: Date.now() });
    await expect(verifyProof(svc, scope, fresh)).resolves.toMatchObject({ sub: t.alice.uid });
  });
});
