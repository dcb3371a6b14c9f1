import { describe, expect, it } from "vitest";
import type { User } from "../../storage/ports";
import type { ClaimMapping, OidcScopeDefinition } from "../../storage/ports-idp";
import { claimsForScopes, claimValue, STANDARD_SCOPES, withStandardScopes, type SessionFacts } from "./claims";

const user: User = {
  id: 1, uid: "u-1", dguid: "d-1", tenantId: "t", communityId: "c", username: "alice", email: "alice@example.com", phone: null,
  firstName: "Alice", lastName: "Liddell", address: { street_address: "1 Rabbit Hole", locality: "Oxford", secret: "x" }, emailVerified: true,
  phoneVerified: false, status: "active", disabled: false, type: "user", roleValue: null, roles: ["user"], groups: [], passwordHash: "pbkdf2$...",
  passwordChangedAt: null, mustChangePassword: false, tcAcceptedVersion: null, tcAcceptedAt: null, pinHash: "pin", totpSecretSealed: "sealed",
  typingProfile: null, parentUserId: null, externalSubject: null, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_500_000,
};
const session: SessionFacts = { authTime: 1_800_000_000, amr: ["pwd", "otp"], acr: "urn:acr:mfa", sid: "sso-1", clientId: "rp", scopes: ["openid", "custom"] };
const m = (over: Partial<ClaimMapping>): ClaimMapping => ({ claim_name: "c", attribute_name: null, attribute_type: "identity", value_type: "dynamic", value: null, ...over });

describe("one claim mapping (seed 004 IdP oidc_config.scopes[].claims[])", () => {
  it("static: the configured value, whatever the attribute type (ledger aside)", () => {
    expect(claimValue(m({ value_type: "static", value: "gold" }), user, session)).toBe("gold");
    expect(claimValue(m({ value_type: "static", value: "gold", attribute_type: "session" }), user, session)).toBe("gold");
    expect(claimValue(m({ value_type: "static", value: "" }), user, session)).toBeUndefined();
  });

  it("dynamic identity: the user's attribute by its OIDC name (core/idps' allow-list: a field name saves nothing and reads nothing)", () => {
    expect(claimValue(m({ attribute_name: "email" }), user, session)).toBe("alice@example.com");
    expect(claimValue(m({ attribute_name: "firstName" }), user, session)).toBeUndefined();
    expect(claimValue(m({ attribute_name: "given_name" }), user, session)).toBe("Alice");
    expect(claimValue(m({ attribute_name: "name" }), user, session)).toBe("Alice Liddell");
    expect(claimValue(m({ attribute_name: "updated_at" }), user, session)).toBe(1_700_000_500);
    expect(claimValue(m({ attribute_name: "address" }), user, session)).toEqual({ street_address: "1 Rabbit Hole", locality: "Oxford" });
    // Absent values are left out, not sent as null.
    expect(claimValue(m({ attribute_name: "phone_number" }), user, session)).toBeUndefined();
    expect(claimValue(m({ attribute_name: "phone_number_verified" }), user, session)).toBeUndefined();
  });

  it("dynamic identity never reads secrets or prototype properties", () => {
    for (const a of ["passwordHash", "pinHash", "totpSecretSealed", "typingProfile", "constructor", "__proto__", "toString", "", null]) {
      expect(claimValue(m({ attribute_name: a }), user, session), String(a)).toBeUndefined();
    }
  });

  it("dynamic session: the authentication's facts", () => {
    expect(claimValue(m({ attribute_type: "session", attribute_name: "amr" }), user, session)).toEqual(["pwd", "otp"]);
    expect(claimValue(m({ attribute_type: "session", attribute_name: "auth_time" }), user, session)).toBe(1_800_000_000);
    expect(claimValue(m({ attribute_type: "session", attribute_name: "acr" }), user, session)).toBe("urn:acr:mfa");
    expect(claimValue(m({ attribute_type: "session", attribute_name: "sid" }), user, session)).toBe("sso-1");
    expect(claimValue(m({ attribute_type: "session", attribute_name: "email" }), user, session)).toBeUndefined();
  });

  it("ledger: omitted (no ledger is kept)", () => {
    expect(claimValue(m({ attribute_type: "ledger", attribute_name: "email" }), user, session)).toBeUndefined();
    expect(claimValue(m({ attribute_type: "ledger", value_type: "static", value: "x" }), user, session)).toBeUndefined();
  });
});

describe("claims of granted scopes", () => {
  const custom: OidcScopeDefinition = {
    name: "custom",
    display_name: "Custom",
    consent_required: true,
    claims: [m({ claim_name: "tier", value_type: "static", value: "gold" }), m({ claim_name: "iss", value_type: "static", value: "https://evil" }), m({ claim_name: "sub", attribute_name: "email" }), m({ claim_name: "mfa", attribute_type: "session", attribute_name: "amr" })],
  };

  it("only granted scopes, never the reserved claims of the token itself", () => {
    const defs = withStandardScopes([custom]);
    expect(claimsForScopes(defs, ["openid", "custom"], user, session)).toEqual({ tier: "gold", mfa: ["pwd", "otp"] });
    expect(claimsForScopes(defs, ["openid"], user, session)).toEqual({});
  });

  it("standard scopes have defaults unless the community redefines them", () => {
    const defs = withStandardScopes([]);
    expect(defs.map((d) => d.name)).toEqual(STANDARD_SCOPES.map((d) => d.name));
    expect(claimsForScopes(defs, ["openid", "profile", "email"], user, session)).toEqual({
      name: "Alice Liddell", given_name: "Alice", family_name: "Liddell", preferred_username: "alice", updated_at: 1_700_000_500, email: "alice@example.com", email_verified: true,
    });
    const redefined = withStandardScopes([{ name: "email", display_name: "E", consent_required: false, claims: [m({ claim_name: "mail", attribute_name: "email" })] }]);
    expect(claimsForScopes(redefined, ["email"], user, session)).toEqual({ mail: "alice@example.com" });
  });

  it("the first granted scope's mapping of a claim wins", () => {
    const a: OidcScopeDefinition = { name: "a", display_name: "A", consent_required: false, claims: [m({ claim_name: "x", value_type: "static", value: "from-a" })] };
    const b: OidcScopeDefinition = { name: "b", display_name: "B", consent_required: false, claims: [m({ claim_name: "x", value_type: "static", value: "from-b" })] };
    expect(claimsForScopes([a, b], ["b", "a"], user, session)).toEqual({ x: "from-b" });
  });
});
