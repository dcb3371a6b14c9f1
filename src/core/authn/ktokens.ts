import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { verifyProof } from "./proofs";

/**
 * ktokens: single-use, short-lived bearer tokens minted for a user who has just authenticated
 * (from a proof of authentication), redeemed by authenticate_with_ktoken (seed 004). The
 * token is 256 random bits; KV holds its record under the SHA-256 digest with a TTL, and the
 * OnceGuard (a Durable Object, not KV) decides the single use, so of any number of racing
 * redemptions exactly one succeeds. KV may lag up to 60 s across locations: a ktoken redeemed
 * far from where it was minted within that time can be refused (never accepted twice).
 */
export const KTOKEN_PREFIX = "ktoken";
export const KTOKEN_DEFAULT_TTL_SECONDS = 120;
export const KTOKEN_MAX_TTL_SECONDS = 600;
export const KTOKEN_MIN_TTL_SECONDS = 10;

interface KtokenRecord {
  tenantId: string;
  communityId: string;
  uid: string;
  amr: string[];
  expiresAt: number;
}

/** Mints a ktoken for the user a valid proof of this community names. */
export async function mintKtoken(svc: Services, scope: Scope, proof: string, ttlSeconds = KTOKEN_DEFAULT_TTL_SECONDS): Promise<{ ktoken: string; expires_in: number }> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < KTOKEN_MIN_TTL_SECONDS || ttlSeconds > KTOKEN_MAX_TTL_SECONDS) {
    throw new AuthError("invalid_request", `ttl must be an integer from ${KTOKEN_MIN_TTL_SECONDS} to ${KTOKEN_MAX_TTL_SECONDS}`);
  }
  const claims = await verifyProof(svc, scope, proof);
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.communityId !== scope.community.id) throw new AuthError("invalid_token", "invalid proof of authentication");
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  const ktoken = randomToken();
  const expiresAt = Date.now() + ttlSeconds * 1000;
  const rec: KtokenRecord = { tenantId: scope.tenant.id, communityId: scope.community.id, uid: user.uid, amr: claims.amr, expiresAt };
  await svc.secrets.put(KTOKEN_PREFIX, await sha256Hex(ktoken), rec, ttlSeconds);
  recordAudit(svc, scope, "ktoken_minted", { userId: user.uid });
  return { ktoken, expires_in: ttlSeconds };
}

/**
 * Redeems a ktoken once: the user and the methods of the authentication it was minted from.
 * Unknown, expired, used and other communities' ktokens are all `invalid_token`, and count
 * against the caller IP's limit. `forUid` (the user of a step-up proof) must be the ktoken's
 * user; a mismatch leaves the ktoken unspent.
 */
export async function redeemKtoken(svc: Services, scope: Scope, ktoken: string, opts: { forUid?: string } = {}): Promise<{ user: User; amr: string[] }> {
  // The subject of the limit is the IP itself: ktokens carry no username to count against.
  await svc.limiter.guard(scope, "ktoken", scope.ip);
  const fail = async (message: string): Promise<never> => {
    await svc.limiter.failure(scope, "ktoken", scope.ip);
    throw new AuthError("invalid_token", message);
  };
  if (typeof ktoken !== "string" || ktoken.length < 16 || ktoken.length > 512) return fail("invalid ktoken");
  const digest = await sha256Hex(ktoken);
  const rec = await svc.secrets.get<KtokenRecord>(KTOKEN_PREFIX, digest);
  const now = Date.now();
  if (!rec || rec.tenantId !== scope.tenant.id || rec.communityId !== scope.community.id) return fail("invalid ktoken");
  if (rec.expiresAt <= now) return fail("ktoken expired");
  // A step-up proof of another user is refused before the ktoken is spent.
  if (opts.forUid !== undefined && opts.forUid !== rec.uid) throw new AuthError("invalid_token", "the proof of authentication is for another user");
  if (!(await svc.once.claim(`ktoken:${scope.tenant.id}`, digest, rec.expiresAt))) return fail("ktoken was already used");
  svc.defer(svc.secrets.delete(KTOKEN_PREFIX, digest));
  const user = await svc.users.byUid(scope.tenant.id, rec.uid);
  if (!user) return fail("invalid ktoken");
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  recordAudit(svc, scope, "login", { userId: user.uid, detail: { method: "ktoken" } });
  return { user, amr: rec.amr };
}
