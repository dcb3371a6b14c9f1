import type { Services } from "../context";

/**
 * The origin of every URL the service writes into mail or metadata (reset links, discovery's
 * `jwks_uri`, the Authn service directory). It comes from the tenant's bound hostnames (the
 * `domains` table), never from the request's Host header (DESIGN.md "Security defaults"):
 *
 * - a request that arrived on one of the tenant's bound hostnames gets links on that hostname
 *   (a tenant with several brands keeps each on its own);
 * - any other request (an unbound Host, a forged one, the DEFAULT_TENANT fallback) gets the
 *   tenant's primary hostname: the oldest binding still in place (the first bound);
 * - a tenant with no bound hostname has no public origin (null): the caller must refuse or
 *   skip, never fall back to the Host.
 *
 * The scheme is https in production. In development (`wrangler dev`, tests) it is the
 * request's own scheme, and the request's port is kept so that links work on a local port;
 * the port is the only part of the Host that reaches a link, and only in development.
 */
export interface RequestAddress {
  /** The Host header's hostname, lower case, without the port. */
  hostname: string;
  /** The request URL's scheme, e.g. "http:". */
  protocol: string;
  /** The request URL's port ("" for the scheme's default). */
  port: string;
}

const CACHE_MS = 10_000;
const CACHE_MAX = 1000;
const hostnameCache = new Map<string, { at: number; hostnames: string[] }>();

function remember<V extends { at: number }>(map: Map<string, V>, key: string, v: V): void {
  if (map.size >= CACHE_MAX) map.clear();
  map.set(key, v);
}

/** The tenant's bound hostnames, oldest first, cached in the isolate for 10 s (like tenant resolution). */
async function tenantHostnames(svc: Services, tenantId: string): Promise<string[]> {
  const hit = hostnameCache.get(tenantId);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.hostnames;
  // Consistency: a D1 replica (as tenant resolution, http/tenant.ts), cached 10 s.
  const hostnames = await svc.replicaReads.tenants.hostnames(tenantId);
  remember(hostnameCache, tenantId, { at: Date.now(), hostnames });
  return hostnames;
}

/** Drops the cached hostnames (tests; an admin change in this isolate). */
export function forgetPublicOrigins(): void {
  hostnameCache.clear();
}

/** The tenant's primary hostname (first bound), or null when it has none. */
export async function primaryHostname(svc: Services, tenantId: string): Promise<string | null> {
  return (await tenantHostnames(svc, tenantId))[0] ?? null;
}

/** The origin for links of `tenantId` answering the request at `req`; null when the tenant has no bound hostname. */
export async function publicOrigin(svc: Services, tenantId: string, req: RequestAddress): Promise<string | null> {
  const hostnames = await tenantHostnames(svc, tenantId);
  if (hostnames.length === 0) return null;
  const host = hostnames.includes(req.hostname) ? req.hostname : hostnames[0]!;
  if (svc.config.production) return `https://${host}`;
  const scheme = req.protocol === "https:" ? "https:" : "http:";
  return `${scheme}//${host}${req.port ? `:${req.port}` : ""}`;
}

/**
 * Every origin of the tenant's bound hostnames, primary first, with publicOrigin's scheme and
 * port rules (WebAuthn's expected origins: a passkey made on any of the tenant's own hostnames).
 */
export async function publicOrigins(svc: Services, tenantId: string, req: RequestAddress): Promise<{ hostname: string; origin: string }[]> {
  const hostnames = await tenantHostnames(svc, tenantId);
  const scheme = svc.config.production || req.protocol === "https:" ? "https:" : "http:";
  const port = svc.config.production || !req.port ? "" : `:${req.port}`;
  return hostnames.map((hostname) => ({ hostname, origin: `${scheme}//${hostname}${port}` }));
}
