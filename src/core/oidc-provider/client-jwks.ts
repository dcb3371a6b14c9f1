import type { Services } from "../context";
import type { OidcClient } from "./clients";

/**
 * A private_key_jwt client's verification keys: inline (`jwks`) or at its `jwks_uri` (OIDC
 * Core §9, Dynamic Client Registration §2). Remote sets are fetched over https only, with a
 * timeout and a size cap, and cached in the isolate for CACHE_MS; a fetch failure is a failed
 * authentication, never a 5xx. The URL is the client's registration, written by an
 * administrator, so this is not an open fetch.
 */
const CACHE_MS = 5 * 60_000;
/** An unknown key refetches a cached set at most this often. */
const REFETCH_MS = 10_000;
const CACHE_MAX = 500;
const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 5_000;
type Jwks = { keys: Record<string, unknown>[] };
/** `at`: when the set was fetched; `tried`: when a fetch was last attempted. */
const cache = new Map<string, { at: number; tried: number; jwks: Jwks }>();

/** Drops cached client key sets (tests). */
export function forgetClientKeys(): void {
  cache.clear();
}

async function fetchJwks(svc: Services, uri: string): Promise<Jwks | null> {
  try {
    const url = new URL(uri);
    if (url.protocol !== "https:") return null;
    const res = await svc.fetch(url.href, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
    const text = await res.text();
    if (!res.ok || text.length > MAX_BYTES) return null;
    const body = JSON.parse(text) as unknown;
    const keys = body && typeof body === "object" ? (body as Record<string, unknown>).keys : null;
    if (!Array.isArray(keys)) return null;
    return { keys: keys.filter((k): k is Record<string, unknown> => !!k && typeof k === "object" && !Array.isArray(k)) };
  } catch {
    return null;
  }
}

/**
 * The client's keys, or null when it has none usable. `refresh`: the held set lacked the
 * assertion's key, which is what a client that has just rotated its keys looks like (OIDC Core
 * §10.1.1): fetch again at once, but at most once per REFETCH_MS per URI (fetches that failed
 * included), so assertions with invented kids cannot make us hammer the client's server.
 * Answers null for a refresh that found nothing new to try.
 */
export async function clientKeys(svc: Services, client: OidcClient, refresh = false): Promise<Jwks | null> {
  if (client.jwks && client.jwks.keys.length) return refresh ? null : client.jwks;
  if (!client.jwksUri) return null;
  const uri = client.jwksUri;
  const hit = cache.get(uri);
  const now = Date.now();
  if (refresh) {
    if (hit && now - hit.tried < REFETCH_MS) return null;
  } else if (hit && now - hit.at < CACHE_MS) {
    return hit.jwks;
  } else if (hit && now - hit.tried < REFETCH_MS) {
    // Expired, and the last fetch failed moments ago: keep what we hold meanwhile.
    return hit.jwks;
  }
  const jwks = await fetchJwks(svc, uri);
  if (cache.size >= CACHE_MAX) cache.clear();
  if (!jwks) {
    // Down: keep verifying with the set we hold, if any, and do not try again for REFETCH_MS.
    if (hit) cache.set(uri, { ...hit, tried: Date.now() });
    return refresh ? null : (hit?.jwks ?? null);
  }
  cache.set(uri, { at: Date.now(), tried: Date.now(), jwks });
  return jwks;
}
