import { sha256Hex, timingSafeEqualString } from "../../crypto/hash";
import type { OAuthClient } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";

/**
 * OAuth client authentication (RFC 6749 §2.3.1): client id and secret, the secret stored as
 * its SHA-256 (client secrets are 256-bit random values, so a fast hash is enough) and
 * compared in constant time. Rate limited per client and IP like every credential check.
 *
 * Client rows are cached in the isolate for CLIENT_CACHE_MS so that a client_credentials
 * grant costs no D1 read when warm (DESIGN.md budget); disabling a client or changing its
 * secret therefore takes effect within that bound.
 */
const CLIENT_CACHE_MS = 10_000;
const cache = new Map<string, { at: number; client: OAuthClient | null }>();

async function findClient(svc: Services, clientId: string): Promise<OAuthClient | null> {
  const hit = cache.get(clientId);
  if (hit && Date.now() - hit.at < CLIENT_CACHE_MS) return hit.client;
  const client = await svc.clients.byId(clientId);
  if (cache.size > 1000) cache.clear();
  cache.set(clientId, { at: Date.now(), client });
  return client;
}

/** Forgets cached clients (after an admin change in this isolate; tests). */
export function forgetClientCache(): void {
  cache.clear();
}

/**
 * Authenticates a client of this tenant for `grant`. Unknown client, wrong secret, another
 * tenant's client and a disabled client all answer `invalid_client`; a client not allowed the
 * grant answers `unauthorized_client` semantics through `forbidden`.
 */
export async function authenticateClient(svc: Services, scope: Scope, clientId: string, secret: string, grant: string): Promise<OAuthClient> {
  const invalid = () => new AuthError("invalid_client", "client authentication failed");
  if (!clientId || !secret || clientId.length > 256 || secret.length > 1024) throw invalid();
  const { failures } = await svc.limiter.guard(scope, "client", clientId);
  const client = await findClient(svc, clientId);
  const expected = client?.secretHash ?? "0".repeat(64);
  const matches = await timingSafeEqualString(await sha256Hex(secret), expected);
  if (!client || !matches || client.tenantId !== scope.tenant.id || client.disabled) {
    await svc.limiter.failure(scope, "client", clientId);
    recordAudit(svc, scope, "client_auth_failed", { detail: { clientId } });
    throw invalid();
  }
  // A success clears earlier failures (as a login's does), so a client that once sent a wrong
  // secret is not left counting towards a lock for the whole window; only when there are any,
  // because clearing is a write and a client may ask for a token on every call.
  if (failures > 0) svc.defer(svc.limiter.success(scope, "client", clientId));
  if (!client.grants.includes(grant)) throw new AuthError("forbidden", `client is not allowed the ${grant} grant`);
  return client;
}
