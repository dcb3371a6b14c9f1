import type { OidcScopeDefinition } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";

/**
 * The community's IdP scope definitions as a consent receipt needs them: the claims each scope
 * releases. src/core/idps (issue 8, another change) owns the validated reading of these
 * (`communityScopes`); until it is merged this reads the stored IdPs of type oidc defensively,
 * and the lead can swap this one function for theirs. A scope defined twice keeps its first
 * definition (the IdP module refuses duplicates when it stores them).
 */
export async function scopeDefinitions(svc: Services, scope: Scope): Promise<Map<string, OidcScopeDefinition>> {
  const out = new Map<string, OidcScopeDefinition>();
  for (const idp of await svc.identity.idps.list(scope.tenant.id, scope.community.id)) {
    if (idp.type !== "oidc") continue;
    const config = idp.body.oidc_config;
    const scopes = config && typeof config === "object" ? (config as Record<string, unknown>).scopes : undefined;
    if (!Array.isArray(scopes)) continue;
    for (const s of scopes as unknown[]) {
      if (!s || typeof s !== "object") continue;
      const d = s as Record<string, unknown>;
      if (typeof d.name !== "string" || out.has(d.name)) continue;
      const claims = Array.isArray(d.claims) ? (d.claims as unknown[]).filter((c): c is Record<string, unknown> => !!c && typeof c === "object") : [];
      out.set(d.name, {
        name: d.name,
        display_name: typeof d.display_name === "string" ? d.display_name : d.name,
        consent_required: d.consent_required === true,
        claims: claims
          .filter((c) => typeof c.claim_name === "string")
          .map((c) => ({
            claim_name: c.claim_name as string,
            attribute_name: typeof c.attribute_name === "string" ? c.attribute_name : null,
            attribute_type: c.attribute_type === "session" || c.attribute_type === "ledger" ? c.attribute_type : "identity",
            value_type: c.value_type === "static" ? "static" : "dynamic",
            value: typeof c.value === "string" ? c.value : null,
          })),
      });
    }
  }
  return out;
}

/**
 * The claims a standard scope releases when the community does not define it (OIDC Core 1.0
 * §5.4), so a receipt for `email` still says which claims it covered.
 */
export const STANDARD_SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: ["name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"],
  email: ["email", "email_verified"],
  address: ["address"],
  phone: ["phone_number", "phone_number_verified"],
};
