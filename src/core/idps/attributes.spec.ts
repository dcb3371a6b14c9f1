import { describe, expect, it } from "vitest";
import type { User } from "../../storage/ports";
import type { OidcScopeDefinition } from "../../storage/ports-idp";
import { claimsForScopes, type SessionFacts } from "../oidc-provider/claims";

const user: User = {
  id: 1, uid: "u-1", dguid: "d-1", tenantId: "t", communityId: "c", username: "alice",
  email: "alice@example.com", phone: null, firstName: "Alice", lastName: "Liddell",
  address: { house: "7", streetname: "Rabbit Hole", city: "Oxford", country: "UK", zip: "OX1" },
  emailVerified: true, phoneVerified: false, status: "active", disabled: false, type: "user", roleValue: null,
  roles: ["reader"], groups: ["staff"], passwordHash: "secret-hash", passwordChangedAt: null, mustChangePassword: false,
  tcAcceptedVersion: null, tcAcceptedAt: null, pinHash: null, totpSecretSealed: null, typingProfile: null,
  parentUserId: null, externalSubject: null, createdAt: 0, updatedAt: 1_700_000_000_000,
};
const session: SessionFacts = { authTime: 1_700_000_100, amr: ["pwd", "otp"], acr: "aal2", sid: "sso-1", clientId: "app", scopes: ["openid"] };

const dyn = (claim_name: string, attribute_name: string, attribute_type: "identity" | "session" | "ledger" = "identity") => ({ claim_name, attribute_name, attribute_type, value_type: "dynamic" as const, value: null });
const defs: OidcScopeDefinition[] = [
  { name: "profile", display_name: "Profile", consent_required: false, claims: [dyn("given_name", "given_name"), dyn("family_name", "family_name"), dyn("name", "name"), dyn("phone_number", "phone_number"), { claim_name: "org", attribute_name: null, attribute_type: "identity", value_type: "static", value: "Acme" }] },
  { name: "email", display_name: "Email", consent_required: true, claims: [dyn("email", "email"), dyn("email_verified", "email_verified")] },
  { name: "session", display_name: "Session", consent_required: false, claims: [dyn("login_at", "auth_time", "session"), dyn("methods", "amr", "session"), dyn("from", "ip", "session"), dyn("kyc", "kyc_level", "ledger")] },
  { name: "dup", display_name: "Dup", consent_required: false, claims: [{ claim_name: "org", attribute_name: null, attribute_type: "identity", value_type: "static", value: "Other" }, dyn("address", "address"), dyn("groups", "groups"), dyn("updated_at", "updated_at")] },
];

/** The allow-lists of core/idps as the provider fills claims with them (core/oidc-provider/claims.ts). */
describe("claims from the attribute allow-lists", () => {
  it("releases only the granted scopes' claims, from the user and the session; no-value and ledger claims are left out", () => {
    // `ip` is on the allow-list, but the provider's session facts carry no IP: left out.
    expect(claimsForScopes(defs, ["openid", "profile", "session"], user, session)).toEqual({
      given_name: "Alice", family_name: "Liddell", name: "Alice Liddell", org: "Acme",
      login_at: 1_700_000_100, methods: ["pwd", "otp"],
    });
    expect(claimsForScopes(defs, ["openid"], user, session)).toEqual({});
  });

  it("the first granted scope's mapping of a claim name wins; address follows OIDC Core §5.1.1; updated_at is seconds", () => {
    expect(claimsForScopes(defs, ["profile", "dup"], user, session)).toMatchObject({ org: "Acme" });
    expect(claimsForScopes(defs, ["dup", "profile"], user, session)).toMatchObject({
      org: "Other",
      address: { street_address: "7 Rabbit Hole", locality: "Oxford", postal_code: "OX1", country: "UK", formatted: "7 Rabbit Hole\nOX1 Oxford\nUK" },
      groups: ["staff"],
      updated_at: 1_700_000_000,
    });
  });

  it("email_verified only with an email; a __proto__-named value cannot reach the prototype", () => {
    expect(claimsForScopes(defs, ["email"], { ...user, email: null }, session)).toEqual({});
    const odd: OidcScopeDefinition[] = [{ name: "x", display_name: "X", consent_required: false, claims: [dyn("__proto__", "address")] }];
    const out = claimsForScopes(odd, ["x"], user, session);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
  });
});
