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
const CACHE_MAX = 500;
const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 5_000;
type Jwks = { keys: Record<string, unknown>[] };
const cache = new Map<string, { at: number; jwks: Jwks }>();

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

/** The client's keys, or null when it has none usable. */
export async function clientKeys(svc: Services, client: OidcClient): Promise<Jwks | null> {
  if (client.jwks && client.jwks.keys.length) return client.jwks;
  if (!client.jwksUri) return null;
  const hit = cache.get(client.jwksUri);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.jwks;
  const jwks = await fetchJwks(svc, client.jwksUri);
  if (!jwks) return hit?.jwks ?? null;
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(client.jwksUri, { at: Date.now(), jwks });
  return jwks;
}
