import { describe, expect, it } from "vitest";
import { communityIssuer, providerMetadata } from "./discovery";
import { leftHalfHash } from "./token-hashes";

describe("provider metadata (OIDC Discovery 1.0 §3)", () => {
  it("puts the issuer and every endpoint under the community's URL", () => {
    const issuer = communityIssuer("https://login.acme.example", "main");
    expect(issuer).toBe("https://login.acme.example/oidc/main");
    const m = providerMetadata({ issuer, scopes: ["openid"], claims: ["sub"], acrValues: [] });
    expect(m.issuer).toBe(issuer);
    for (const k of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"]) {
      expect(String(m[k]).startsWith(`${issuer}/`), k).toBe(true);
    }
    expect(m.code_challenge_methods_supported).toEqual(["S256"]);
    expect(m.response_types_supported).toEqual(["code"]);
    expect(m.authorization_response_iss_parameter_supported).toBe(true);
  });

  it("escapes a community id so it cannot add path segments", () => {
    expect(communityIssuer("https://h.example", "a/../b")).toBe("https://h.example/oidc/a%2F..%2Fb");
  });
});

describe("at_hash (OIDC Core §3.1.3.6)", () => {
  it("is the base64url of the left half of SHA-256", async () => {
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223 b00361a396177a9cb410ff61f20015ad
    expect(await leftHalfHash("abc")).toBe("ungWv48Bz-pBQUDeXa4iIw");
  });
});
