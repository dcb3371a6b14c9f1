import type { ClaimMapping, OidcScopeDefinition } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { withStandardScopes } from "./claims";

/**
 * The scopes a community's provider offers: `openid`, `offline_access`, the community's own
 * (its IdP configuration of type oidc) and the standard ones it has not redefined.
 */
export const BASE_SCOPES = ["openid", "offline_access"] as const;

/** Claims every ID token of ours can carry, whatever the scopes (OIDC Core §2, §3.1.3.6). */
export const TOKEN_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid", "at_hash"] as const;

const CACHE_MS = 5_000;
const CACHE_MAX = 1000;
const cache = new Map<string, { at: number; defs: OidcScopeDefinition[] }>();

/** Drops cached scope definitions (after an IdP change in this isolate; tests). */
export function forgetScopeDefinitions(): void {
  cache.clear();
}

function claimOf(v: unknown): ClaimMapping | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (typeof o.claim_name !== "string" || !o.claim_name) return null;
  const at = o.attribute_type;
  const vt = o.value_type;
  if (at !== "session" && at !== "ledger" && at !== "identity") return null;
  if (vt !== "static" && vt !== "dynamic") return null;
  return {
    claim_name: o.claim_name,
    attribute_name: typeof o.attribute_name === "string" ? o.attribute_name : null,
    attribute_type: at,
    value_type: vt,
    value: typeof o.value === "string" ? o.value : o.value === undefined || o.value === null ? null : String(o.value),
  };
}

function scopeOf(v: unknown): OidcScopeDefinition | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (typeof o.name !== "string" || !/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(o.name)) return null;
  return {
    name: o.name,
    display_name: typeof o.display_name === "string" ? o.display_name : o.name,
    consent_required: o.consent_required === true || o.consent_required === "true",
    claims: Array.isArray(o.claims) ? o.claims.map(claimOf).filter((c): c is ClaimMapping => c !== null) : [],
  };
}

/**
 * The community's own scope definitions, read from its IdP records of type oidc
 * (`body.oidc_config.scopes`). TEMPORARY seam: core/idps `communityScopes(svc, scope)` (built in
 * parallel) replaces this one function when it is merged. Defensive, because the rows are read
 * on every token and userinfo request; cached in the isolate for CACHE_MS.
 */
async function communityScopeDefinitions(svc: Services, scope: Scope): Promise<OidcScopeDefinition[]> {
  const key = `${scope.tenant.id}|${scope.community.id}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.defs;
  const records = await svc.identity.idps.list(scope.tenant.id, scope.community.id);
  const defs: OidcScopeDefinition[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    if (r.type !== "oidc") continue;
    const cfg = r.body.oidc_config;
    const scopes = cfg && typeof cfg === "object" ? (cfg as Record<string, unknown>).scopes : undefined;
    if (!Array.isArray(scopes)) continue;
    for (const s of scopes.map(scopeOf)) {
      if (!s || seen.has(s.name) || (BASE_SCOPES as readonly string[]).includes(s.name)) continue;
      seen.add(s.name);
      defs.push(s);
    }
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, { at: Date.now(), defs });
  return defs;
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
