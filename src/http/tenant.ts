import type { Context, MiddlewareHandler } from "hono";
import type { Community, DomainBinding, Tenant } from "../storage/ports";
import { AuthError } from "../core/errors";
import { forgetPublicOrigins } from "../core/tenants/public-origin";
import { parseTenantSettings } from "../core/tenants/settings";
import { applicationOf } from "../core/sessions/application";
import type { Scope } from "../core/context";
import type { AppEnv } from "./types";
import { clientIp } from "./client-ip";
import { locationHintFor } from "../core/placement/location-hint";

/**
 * Tenant resolution from the Host header: a bound domain selects its tenant and community;
 * otherwise the configured DEFAULT_TENANT (e.g. for localhost) and its first community.
 * Lookups are cached in the isolate briefly: a new domain binding takes effect within
 * CACHE_MS (tenant settings likewise).
 */
const CACHE_MS = 10_000;
const CACHE_MAX = 1000;
const domainCache = new Map<string, { at: number; value: DomainBinding | null }>();
const tenantCache = new Map<string, { at: number; tenant: Tenant | null; community: Community | null }>();

function cached<V>(map: Map<string, { at: number } & V>, key: string): V | undefined {
  const e = map.get(key);
  if (e && Date.now() - e.at < CACHE_MS) return e;
  return undefined;
}

/**
 * Refreshes an entry through `load`; if the read fails (D1 briefly unavailable or busy) and
 * an expired entry exists, serves that one for another CACHE_MS instead of failing the
 * request: tenant data changes rarely, and every tenant's traffic depends on this read.
 */
export async function refreshed<V extends object>(map: Map<string, { at: number } & V>, key: string, load: () => Promise<V>): Promise<V> {
  try {
    const v = await load();
    put(map, key, v);
    return v;
  } catch (e) {
    const stale = map.get(key);
    if (!stale) throw e;
    console.warn("tenant lookup failed; serving the cached entry", e instanceof Error ? e.message : e);
    stale.at = Date.now();
    return stale;
  }
}

function put<V>(map: Map<string, { at: number } & V>, key: string, v: V): void {
  if (map.size >= CACHE_MAX) map.clear();
  map.set(key, { at: Date.now(), ...v });
}

/** Drops cached tenant data (after an admin change in this isolate; tests). */
export function forgetTenantCache(): void {
  domainCache.clear();
  tenantCache.clear();
  // The tenants' hostnames behind links in mail and metadata change with the same admin calls.
  forgetPublicOrigins();
}

function hostname(c: Context): string {
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  return host.replace(/:\d+$/, "").toLowerCase();
}

async function loadTenantAndCommunity(c: Context<AppEnv>, tenantId: string, communityId: string | null) {
  const key = `${tenantId}|${communityId ?? ""}`;
  const hit = cached(tenantCache, key);
  if (hit) return hit;
  // Consistency: a D1 replica at least as new as this isolate's own tenant writes; another
  // isolate's change arrives within CACHE_MS plus the replica's lag (docs/architecture.md).
  const tenants = c.get("services").replicaReads.tenants;
  return refreshed(tenantCache, key, async () => {
    const tenant = await tenants.getTenant(tenantId);
    let community: Community | null = null;
    if (tenant) {
      community = communityId ? await tenants.getCommunity(communityId) : ((await tenants.listCommunities(tenantId))[0] ?? null);
      if (community && community.tenantId !== tenant.id) community = null;
    }
    return { tenant, community };
  });
}

/** Builds the Scope for a tenant and community id pair, or throws tenant_not_found. */
export async function scopeFor(c: Context<AppEnv>, tenantId: string, communityId: string | null): Promise<Scope> {
  const { tenant, community } = await loadTenantAndCommunity(c, tenantId, communityId);
  if (!tenant || !community) throw new AuthError("tenant_not_found", "unknown tenant or community");
  const scope: Scope = {
    tenant,
    settings: parseTenantSettings(tenant.settings, tenant.id),
    community,
    ip: clientIp(c),
    userAgent: c.req.header("user-agent") ?? null,
    ...applicationOf(c.req.path),
  };
  return withLazyLocationHint(scope, c.req.raw);
}

/**
 * Sets `scope.locationHint` as a getter that reads Cloudflare's own request.cf (the connecting
 * client's geography, never a header) on first use only. Why lazy: workerd builds the `cf`
 * object from its serialized form on first access, per request; only a request about to
 * create a Durable Object needs the hint (a login, an envelope call), and a token check, the
 * hottest route, must not pay for it. Enumerable, so a spread copy (`{ ...scope }`) carries the
 * value; the result is memoised.
 */
function withLazyLocationHint(scope: Scope, request: Request): Scope {
  let memo: { hint: DurableObjectLocationHint | undefined } | null = null;
  Object.defineProperty(scope, "locationHint", {
    enumerable: true,
    configurable: true,
    get(): DurableObjectLocationHint | undefined {
      memo ??= { hint: locationHintFor(request.cf) };
      return memo.hint;
    },
  });
  return scope;
}

/** The domain binding of the request's Host (cached for CACHE_MS), or null when it has none. */
export async function hostBinding(c: Context<AppEnv>): Promise<DomainBinding | null> {
  const host = hostname(c);
  const hit = cached(domainCache, host)?.value;
  if (hit !== undefined) return hit;
  // Consistency: as loadTenantAndCommunity (a replica, cached CACHE_MS).
  const tenants = c.get("services").replicaReads.tenants;
  return (await refreshed(domainCache, host, async () => ({ value: await tenants.domain(host) }))).value;
}

/**
 * The tenant a request belongs to by its Host alone: the bound tenant, else DEFAULT_TENANT,
 * else null. For routes that need the tenant but no scope (Authn GET /sd).
 */
export async function tenantIdForHost(c: Context<AppEnv>): Promise<string | null> {
  return (await hostBinding(c))?.tenantId ?? (c.get("services").config.defaultTenant || null);
}

/** Resolves the scope from the Host header (custom domains) and sets `scope`. */
export const resolveTenantByHost: MiddlewareHandler<AppEnv> = async (c, next) => {
  const binding = await hostBinding(c);
  if (binding) {
    c.set("scope", await scopeFor(c, binding.tenantId, binding.communityId));
  } else {
    const fallback = c.get("services").config.defaultTenant;
    if (!fallback) throw new AuthError("tenant_not_found", `no tenant is bound to ${hostname(c)}`);
    c.set("scope", await scopeFor(c, fallback, null));
  }
  await next();
};
