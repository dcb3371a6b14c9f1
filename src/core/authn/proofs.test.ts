import { describe, expect, it } from "vitest";
import { accumulateAmr, assuranceLevel } from "./proofs";

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
