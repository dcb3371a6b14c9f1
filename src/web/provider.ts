import type { Context } from "hono";
import { consentRequiredScopes } from "../core/idps";
import { scopeDefinitions, supportedScopeNames } from "../core/oidc-provider/scopes";
import type { Scope, Services } from "../core/context";
import { AuthError } from "../core/errors";
import type { OidcScopeDefinition } from "../storage/ports-idp";
import { resolveProvider } from "../http/oidc-provider";
import type { AppEnv } from "../http/types";

/**
 * The provider a front-channel request addresses: `/oidc/<communityId>` names the community,
 * the community names its tenant. A request on a bound hostname must be for that hostname's
 * tenant (another tenant's community is unknown here, like a missing one); on any other host
 * (localhost in development) the community alone decides. The issuer is built from the
 * tenant's public origin, never from an unbound Host: one resolution for both channels
 * (http/oidc-provider.ts `resolveProvider`).
 */
export interface Provider {
  scope: Scope;
  issuer: string;
}

export async function providerFor(c: Context<AppEnv>, communityId: string): Promise<Provider> {
  const p = await resolveProvider(c, communityId);
  if (!p) throw new AuthError("tenant_not_found", "unknown provider");
  return p;
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
