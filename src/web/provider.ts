import type { Context } from "hono";
import { consentRequiredScopes } from "../core/idps";
import { scopeDefinitions, supportedScopeNames } from "../core/oidc-provider/scopes";
import type { Scope, Services } from "../core/context";
import { AuthError } from "../core/errors";
import { publicOrigin } from "../core/tenants/public-origin";
import { communityIssuer } from "../protocols/oidc/discovery";
import type { OidcScopeDefinition } from "../storage/ports-idp";
import { requestAddress } from "../http/request-address";
import { hostBinding, scopeFor } from "../http/tenant";
import type { AppEnv } from "../http/types";

/**
 * The provider a front-channel request addresses: `/oidc/<communityId>` names the community,
 * the community names its tenant. A request on a bound hostname must be for that hostname's
 * tenant (another tenant's community is unknown here, like a missing one); on any other host
 * (localhost in development) the community alone decides. The issuer is built from the
 * tenant's public origin, never from an unbound Host (core/tenants/public-origin.ts).
 */
export interface Provider {
  scope: Scope;
  issuer: string;
}

export async function providerFor(c: Context<AppEnv>, communityId: string): Promise<Provider> {
  if (!communityId || communityId.length > 128) throw new AuthError("tenant_not_found", "unknown provider");
  const svc = c.get("services");
  const community = await svc.tenants.getCommunity(communityId);
  if (!community) throw new AuthError("tenant_not_found", "unknown provider");
  const binding = await hostBinding(c);
  if (binding && binding.tenantId !== community.tenantId) throw new AuthError("tenant_not_found", "unknown provider");
  const scope = await scopeFor(c, community.tenantId, community.id);
  const origin = await publicOrigin(svc, scope.tenant.id, requestAddress(c));
  if (!origin) throw new AuthError("not_configured", "this provider has no public address");
  return { scope, issuer: communityIssuer(origin, community.id) };
}

/**
 * The scopes the provider offers (core/oidc-provider/scopes.ts: the community's IdP scopes and
 * the standard ones it did not redefine), the same set discovery advertises.
 */
export function communityScopeDefinitions(svc: Services, scope: Scope): Promise<OidcScopeDefinition[]> {
  return scopeDefinitions(svc, scope);
}

/** Scopes an authorization request may ask for: discovery's `scopes_supported`. */
export function supportedScopes(defs: readonly OidcScopeDefinition[]): Set<string> {
  return new Set(supportedScopeNames(defs));
}

export { consentRequiredScopes };

/** The display name of each scope (its name when undefined). */
export function scopeDisplayNames(defs: readonly OidcScopeDefinition[], names: readonly string[]): string[] {
  return names.map((n) => defs.find((d) => d.name === n)?.display_name ?? n);
}
