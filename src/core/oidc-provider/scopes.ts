import type { OidcScopeDefinition } from "../../storage/ports-idp";
import { communityScopes } from "../idps";
import type { Scope, Services } from "../context";
import { withStandardScopes } from "./claims";

/**
 * The scopes a community's provider offers: `openid`, `offline_access`, the community's own
 * (its IdP configuration of type oidc) and the standard ones it has not redefined.
 */
export const BASE_SCOPES = ["openid", "offline_access"] as const;

/** Claims every ID token of ours can carry, whatever the scopes (OIDC Core §2, §3.1.3.6). */
export const TOKEN_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash"] as const;

/**
 * The community's own scope definitions: core/idps reads and validates them and keeps them in
 * the isolate for at most SCOPES_CACHE_MS (one place for the provider, the hosted login and
 * Authn oidc/sso, so discovery, authorize and the token endpoint agree).
 */
async function communityScopeDefinitions(svc: Services, scope: Scope): Promise<OidcScopeDefinition[]> {
  return (await communityScopes(svc, scope)).filter((d) => !(BASE_SCOPES as readonly string[]).includes(d.name));
}

/** Every scope definition the provider uses for claims: the community's and the standard defaults. */
export async function scopeDefinitions(svc: Services, scope: Scope): Promise<OidcScopeDefinition[]> {
  return withStandardScopes(await communityScopeDefinitions(svc, scope));
}

/** The scope names the provider accepts (discovery's scopes_supported; authorization requests). */
export function supportedScopeNames(defs: readonly OidcScopeDefinition[]): string[] {
  return [...BASE_SCOPES, ...defs.map((d) => d.name)];
}

/** Discovery's claims_supported: the token's own claims and every claim a scope maps. */
export function supportedClaimNames(defs: readonly OidcScopeDefinition[]): string[] {
  const names = new Set<string>(TOKEN_CLAIMS);
  for (const d of defs) for (const c of d.claims) if (c.attribute_type !== "ledger") names.add(c.claim_name);
  return [...names];
}
