/**
 * The isolate's cache of imported SAML signing credentials (credential.ts), apart so that
 * core/authn/idp-config.ts can evict on PUT without importing the credential code.
 *
 * Why a cache: importing a PKCS#8 key and checking it against its certificate costs a D1 read
 * and a few milliseconds of RSA on every SAML answer otherwise. Why at most 60 s: an admin who
 * replaces the credential through PUT idp_config in another isolate must see every isolate
 * sign with the new key within a minute; the isolate that served the PUT evicts at once.
 */
export const MAX_TTL_MS = 60_000;
const MAX_ENTRIES = 1000;

export interface CacheEntry<V> {
  at: number;
  /** The idp_config's identifier and updatedAt: a re-read that finds the same version keeps the imported key. */
  version: string;
  value: V;
}

let ttlMs = MAX_TTL_MS;
const entries = new Map<string, CacheEntry<unknown>>();
/**
 * Bumped by every eviction: a load that began before one must not store what it read (it may
 * predate the PUT). One counter for all keys keeps this exact with no map to bound; a PUT
 * elsewhere only costs a concurrent load its caching, once.
 */
let evictions = 0;
/** Loads under way, so that concurrent requests of one isolate import once. */
const inflight = new Map<string, Promise<unknown>>();

export const credentialCacheKey = (tenantId: string, communityId: string): string => `${tenantId}\u0000${communityId}`;

/** Shortens the lifetime (tests wait for a short one to pass); never beyond MAX_TTL_MS. */
export function setCredentialCacheTtl(ms: number): void {
  ttlMs = Math.max(0, Math.min(ms, MAX_TTL_MS));
}

/** The entry, fresh or not (a stale one still carries its version), or undefined. */
export function cachedEntry<V>(key: string): { entry: CacheEntry<V>; fresh: boolean } | undefined {
  const entry = entries.get(key) as CacheEntry<V> | undefined;
  return entry && { entry, fresh: Date.now() - entry.at < ttlMs };
}

/** Read before loading; pass to remember. */
export function generation(): number {
  return evictions;
}

/** Stores `value` unless an eviction happened since `gen` was read. */
export function remember<V>(key: string, gen: number, version: string, value: V): void {
  if (evictions !== gen) return;
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(key, { at: Date.now(), version, value });
}

/** The load under way for `key`, or `start()`'s, shared until it settles. */
export function singleFlight<V>(key: string, start: () => Promise<V>): Promise<V> {
  const running = inflight.get(key) as Promise<V> | undefined;
  if (running) return running;
  const p = start().finally(() => {
    if (inflight.get(key) === p) inflight.delete(key);
  });
  inflight.set(key, p);
  return p;
}

/** Drops the community's credential in this isolate: its idp_config was just written here. */
export function forgetSamlCredential(tenantId: string, communityId: string): void {
  const key = credentialCacheKey(tenantId, communityId);
  entries.delete(key);
  inflight.delete(key);
  evictions++;
}

/** Drops every cached credential (tests). */
export function forgetSamlCredentials(): void {
  entries.clear();
  inflight.clear();
  evictions++;
}
