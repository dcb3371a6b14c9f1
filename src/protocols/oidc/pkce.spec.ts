import { describe, expect, it } from "vitest";
import { isCodeVerifier, s256Challenge, verifyS256 } from "./pkce";

describe("PKCE S256 (RFC 7636)", () => {
  // RFC 7636 Appendix B.
  const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

  it("computes the RFC's example challenge and accepts its verifier", async () => {
    expect(await s256Challenge(verifier)).toBe(challenge);
    expect(await verifyS256(challenge, verifier)).toBe(true);
  });

  it("refuses a wrong verifier, the challenge itself as verifier (plain downgrade), and malformed values", async () => {
    expect(await verifyS256(challenge, verifier.replace(/.$/, "l"))).toBe(false);
    expect(await verifyS256(challenge, challenge)).toBe(false);
    expect(await verifyS256(challenge, "")).toBe(false);
    expect(await verifyS256(challenge, "short")).toBe(false);
    expect(await verifyS256(challenge, `${verifier}!`)).toBe(false);
    expect(await verifyS256(`${challenge}=`, verifier)).toBe(false);
  });

  it("verifier syntax is 43 to 128 unreserved characters (§4.1)", () => {
    expect(isCodeVerifier("a".repeat(43))).toBe(true);
    expect(isCodeVerifier("a".repeat(128))).toBe(true);
    expect(isCodeVerifier("a".repeat(42))).toBe(false);
    expect(isCodeVerifier("a".repeat(129))).toBe(false);
    expect(isCodeVerifier(`${"a".repeat(42)}+`)).toBe(false);
    expect(isCodeVerifier(`${"a".repeat(42)}é`)).toBe(false);
  });
});
