import type { OidcScopeDefinition } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { checkScopeDefinition } from "./rules";

/**
 * The community's scopes as its OpenID Provider offers them: read by the authorize endpoint
 * (which scopes exist, which need consent), the token endpoint and userinfo (which claims a
 * grant releases), discovery (`scopes_supported`, `claims_supported`) and the hosted login's
 * consent page (display names).
 *
 * Cached per isolate for SCOPES_CACHE_MS: every authorization, code exchange and userinfo call
 * reads them, and a D1 read from an edge location can cost tens of milliseconds (DESIGN.md
 * "Performance budgets"). A save through core/idps evicts the entry in its own isolate at once;
 * other isolates follow within SCOPES_CACHE_MS. A scope removed is therefore still offered,
 * and its claims still released, for at most that long elsewhere; consent is not weakened by
 * the window, since a receipt, not the cache, is what lets a consent-required scope through.
 */
export const SCOPES_CACHE_MS = 3000;
const MAX_ENTRIES = 2000;

interface Entry {
  at: number;
  defs: Promise<OidcScopeDefinition[]>;
}
const cache = new Map<string, Entry>();
const key = (tenantId: string, communityId: string) => `${tenantId}\u0000${communityId}`;

/** Drops this isolate's cached scopes of a community (called by every save in core/idps; tests may call it). */
export function forgetCommunityScopes(tenantId: string, communityId: string): void {
  cache.delete(key(tenantId, communityId));
}

async function load(svc: Services, tenantId: string, communityId: string): Promise<OidcScopeDefinition[]> {
  // Consistency: a D1 replica at least as new as this isolate's own IdP writes (so the saver's
  // forgetCommunityScopes reload sees its change); others' within SCOPES_CACHE_MS plus the lag.
  const rows = await svc.replicaReads.idps.list(tenantId, communityId);
  const out: OidcScopeDefinition[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (r.type !== "oidc") continue;
    const c = r.body.oidc_config;
    const scopes = c && typeof c === "object" && Array.isArray((c as { scopes?: unknown }).scopes) ? ((c as { scopes: unknown[] }).scopes) : [];
    for (const s of scopes) {
      // Rows were checked when saved; a definition that no longer passes (rules tightened since)
      // is left out alone rather than failing every authorization of the community.
      const d = checkScopeDefinition(s);
      if (!d.ok || seen.has(d.value.name)) continue;
      seen.add(d.value.name);
      out.push(d.value);
    }
  }
  return out;
}

/**
 * The community's configured scopes, validated, in the order defined (`openid` is not among
 * them: the protocol owns it). An empty list when the community has no OIDC IdP.
 */
export function communityScopes(svc: Services, scope: Scope): Promise<OidcScopeDefinition[]> {
  const k = key(scope.tenant.id, scope.community.id);
  const now = Date.now();
  const hit = cache.get(k);
  if (hit && now - hit.at < SCOPES_CACHE_MS) return hit.defs;
  if (cache.size >= MAX_ENTRIES) cache.clear();
  // The promise is cached, so concurrent requests of a cold isolate share one D1 read; a
  // failed read is not remembered.
  const defs = load(svc, scope.tenant.id, scope.community.id);
  const entry = { at: now, defs };
  cache.set(k, entry);
  defs.catch(() => {
    if (cache.get(k) === entry) cache.delete(k);
  });
  return defs;
}

/** The names of the scopes whose definition says `consent_required`. */
export function consentRequiredScopes(defs: readonly OidcScopeDefinition[]): Set<string> {
  return new Set(defs.filter((d) => d.consent_required).map((d) => d.name));
}

/** Every claim name the scopes can release (discovery's `claims_supported`, with the provider's own). */
export function scopeClaimNames(defs: readonly OidcScopeDefinition[]): string[] {
  return [...new Set(defs.flatMap((d) => d.claims.map((c) => c.claim_name)))];
}
