import type { OidcScopeDefinition } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { communityScopes } from "../idps";

/**
 * The community's IdP scope definitions by name, as a consent receipt needs them (the claims
 * each scope releases): src/core/idps reads and validates them (`communityScopes`).
 */
export async function scopeDefinitions(svc: Services, scope: Scope): Promise<Map<string, OidcScopeDefinition>> {
  const out = new Map<string, OidcScopeDefinition>();
  for (const d of await communityScopes(svc, scope)) if (!out.has(d.name)) out.set(d.name, d);
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
