import { describe, expect, it } from "vitest";
import { checkOidcConfig, checkOidcConfigPatch, checkScopeDefinition, RESERVED_CLAIMS } from "./rules";

const claim = (over: Record<string, unknown> = {}) => ({ claim_name: "email", attribute_name: "email", attribute_type: "identity", value_type: "dynamic", value: null, ...over });
const scope = (over: Record<string, unknown> = {}) => ({ name: "email", display_name: "Email", consent_required: false, claims: [claim()], ...over });

function broken(r: ReturnType<typeof checkOidcConfig> | ReturnType<typeof checkScopeDefinition>): string {
  if (r.ok) throw new Error("expected a broken rule");
  return `${r.field}: ${r.message}`;
}

describe("IdP rules", () => {
  it("a valid config comes back typed: missing description is '', missing claims [], dynamic value and static attribute_name null", () => {
    const r = checkOidcConfig({
      name: "n",
      scopes: [
        scope({ claims: [claim({ value: undefined }), claim({ claim_name: "org", attribute_name: undefined, value_type: "static", value: "Acme" })] }),
        { name: "bare", display_name: "Bare", consent_required: true },
      ],
    });
    expect(r).toEqual({
      ok: true,
      value: {
        name: "n",
        description: "",
        scopes: [
          { name: "email", display_name: "Email", consent_required: false, claims: [claim(), { claim_name: "org", attribute_name: null, attribute_type: "identity", value_type: "static", value: "Acme" }] },
          { name: "bare", display_name: "Bare", consent_required: true, claims: [] },
        ],
      },
    });
  });

  it("every session attribute and the documented identity attributes are accepted; ledger names are free-form", () => {
    for (const a of ["auth_time", "amr", "acr", "sid", "ip"]) expect(checkScopeDefinition(scope({ claims: [claim({ claim_name: `s_${a}`, attribute_type: "session", attribute_name: a })] })).ok, a).toBe(true);
    for (const a of ["uid", "dguid", "username", "email", "email_verified", "phone_number", "phone_number_verified", "given_name", "family_name", "name", "address", "groups", "roles", "role_value", "status", "updated_at"]) {
      expect(checkScopeDefinition(scope({ claims: [claim({ claim_name: `i_${a}`, attribute_name: a })] })).ok, a).toBe(true);
    }
    expect(checkScopeDefinition(scope({ claims: [claim({ attribute_type: "ledger", attribute_name: "kyc:level.v1" })] })).ok).toBe(true);
  });

  it("names the first broken field", () => {
    expect(broken(checkOidcConfig(undefined))).toBe("oidc_config: is required");
    expect(broken(checkOidcConfig({ name: "n", scopes: [scope(), scope({ name: "x", claims: [claim({ claim_name: null })] })] }))).toBe("oidc_config.scopes.1.claims.0.claim_name: must not be null");
    expect(broken(checkScopeDefinition(scope({ claims: [claim({ attribute_name: "pinHash" })] })))).toMatch(/^scope\.claims\.0\.attribute_name: "pinHash" is not a known identity attribute/);
    expect(broken(checkScopeDefinition(scope({ name: "a\u0001b" })))).toMatch(/^scope\.name: must not contain control characters/);
    expect(broken(checkScopeDefinition(scope({ display_name: "line\nbreak" })))).toMatch(/^scope\.display_name: must not contain control characters/);
  });

  it("every reserved claim name is refused", () => {
    for (const c of RESERVED_CLAIMS) expect(checkScopeDefinition(scope({ claims: [claim({ claim_name: c })] })).ok, c).toBe(false);
  });

  it("a PATCH needs at least one field, and checks the ones given", () => {
    expect(checkOidcConfigPatch({})).toMatchObject({ ok: false, field: "oidc_config" });
    expect(checkOidcConfigPatch({ description: "" })).toEqual({ ok: true, value: { description: "" } });
    // A description may run over lines; no other field may, and nothing may hold other control characters.
    expect(checkOidcConfigPatch({ description: "one\r\n\ttwo" }).ok).toBe(true);
    expect(checkOidcConfigPatch({ description: "bell\u0007" })).toMatchObject({ ok: false, field: "oidc_config.description" });
    expect(checkOidcConfigPatch({ name: "one\ntwo" })).toMatchObject({ ok: false, field: "oidc_config.name" });
    expect(checkOidcConfigPatch({ scopes: [scope(), scope()] })).toMatchObject({ ok: false, field: "oidc_config.scopes.1.name" });
  });

  it("the standard-scopes example of docs/api/oidc.md passes (copied verbatim)", () => {
    const example = {
      type: "oidc",
      oidc_config: {
        name: "Standard claims",
        scopes: [
          { name: "profile", display_name: "Your name and profile", consent_required: false, claims: [
            { claim_name: "name", attribute_name: "name", attribute_type: "identity", value_type: "dynamic" },
            { claim_name: "given_name", attribute_name: "given_name", attribute_type: "identity", value_type: "dynamic" },
            { claim_name: "family_name", attribute_name: "family_name", attribute_type: "identity", value_type: "dynamic" },
            { claim_name: "preferred_username", attribute_name: "username", attribute_type: "identity", value_type: "dynamic" },
            { claim_name: "updated_at", attribute_name: "updated_at", attribute_type: "identity", value_type: "dynamic" },
          ] },
          { name: "email", display_name: "Your email address", consent_required: true, claims: [
            { claim_name: "email", attribute_name: "email", attribute_type: "identity", value_type: "dynamic" },
            { claim_name: "email_verified", attribute_name: "email_verified", attribute_type: "identity", value_type: "dynamic" },
          ] },
          { name: "phone", display_name: "Your phone number", consent_required: true, claims: [
            { claim_name: "phone_number", attribute_name: "phone_number", attribute_type: "identity", value_type: "dynamic" },
            { claim_name: "phone_number_verified", attribute_name: "phone_number_verified", attribute_type: "identity", value_type: "dynamic" },
          ] },
          { name: "address", display_name: "Your postal address", consent_required: true, claims: [
            { claim_name: "address", attribute_name: "address", attribute_type: "identity", value_type: "dynamic" },
          ] },
        ],
      },
    };
    expect(checkOidcConfig(example.oidc_config).ok).toBe(true);
  });
});
