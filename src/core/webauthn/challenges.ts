import { fromBase64Url, fromUtf8, toBase64Url } from "../../crypto/encoding";
import { sha256Hex } from "../../crypto/hash";
import { randomBytes } from "../../crypto/random";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";

/**
 * WebAuthn challenges (W3C WebAuthn L3 §13.4.3: at least 16 random bytes, made by the RP,
 * used once). 32 random bytes, base64url. The record lives in KV under the SHA-256 of the
 * challenge (never the challenge itself), bound to tenant, community, purpose and, where known,
 * the user; it lives CHALLENGE_TTL_MS (5 minutes; the options' `timeout` says the same). Which
 * of any number of racing responses gets to use it is decided once by the ReplayGuard Durable
 * Object (`svc.once`), not by KV, which is eventually consistent.
 */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
const PREFIX = "webauthn-challenge";
/** KV's smallest expirationTtl; the record's own expiresAt is what decides. */
const KV_MIN_TTL_SECONDS = 60;

let ttlOverrideMs: number | null = null;

/** Shortens the challenge lifetime (tests wait an expiry out); null restores the default. */
export function setChallengeTtlForTests(ms: number | null): void {
  ttlOverrideMs = ms;
}

export function challengeTtlMs(): number {
  return ttlOverrideMs ?? CHALLENGE_TTL_MS;
}

export type ChallengePurpose = "registration" | "authentication";

export interface ChallengeRecord {
  purpose: ChallengePurpose;
  tenantId: string;
  communityId: string;
  /** The user the ceremony is for (registration), else null. */
  uid: string | null;
  /** The username (lower case) the authentication options were asked for, else null. */
  username: string | null;
  expiresAt: number;
}

/** Makes and stores a challenge; answers it base64url (the options' `challenge`). */
export async function issueChallenge(svc: Services, scope: Scope, purpose: ChallengePurpose, bound: { uid?: string; username?: string }): Promise<{ challenge: string; bytes: Uint8Array; ttlMs: number }> {
  const bytes = randomBytes(32);
  const challenge = toBase64Url(bytes);
  const ttlMs = challengeTtlMs();
  const record: ChallengeRecord = { purpose, tenantId: scope.tenant.id, communityId: scope.community.id, uid: bound.uid ?? null, username: bound.username ?? null, expiresAt: Date.now() + ttlMs };
  await svc.secrets.put(PREFIX, await sha256Hex(challenge), record, Math.max(KV_MIN_TTL_SECONDS, Math.ceil(ttlMs / 1000)));
  return { challenge, bytes, ttlMs };
}

/**
 * The challenge a response's clientDataJSON names (base64url), or an `invalid_request` when
 * the client data is not what a browser makes. Nothing is looked up yet.
 */
export function challengeOfClientData(clientDataJSON: string): string {
  try {
    const c: unknown = JSON.parse(fromUtf8(fromBase64Url(clientDataJSON)));
    if (c && typeof c === "object" && typeof (c as { challenge?: unknown }).challenge === "string") {
      const challenge = (c as { challenge: string }).challenge;
      if (challenge.length > 0 && challenge.length <= 512) return challenge;
    }
  } catch {
    // fall through: malformed client data
  }
  throw new AuthError("invalid_request", "clientDataJSON is not valid client data");
}

/** A live challenge record of this tenant, community and purpose; the same 401 for unknown, expired, foreign or used ones. */
export async function findChallenge(svc: Services, scope: Scope, challenge: string, purpose: ChallengePurpose): Promise<ChallengeRecord & { digest: string }> {
  const digest = await sha256Hex(challenge);
  const r = await svc.secrets.get<ChallengeRecord>(PREFIX, digest);
  if (!r || r.purpose !== purpose || r.tenantId !== scope.tenant.id || r.communityId !== scope.community.id || r.expiresAt <= Date.now()) {
    throw new AuthError("invalid_credentials", "the WebAuthn challenge is unknown, expired or already used");
  }
  return { ...r, digest };
}

/**
 * Uses a challenge up: true for exactly one caller (the ReplayGuard decides), false for every
 * other, so a replayed or raced response is refused. The KV record is dropped after.
 */
export async function consumeChallenge(svc: Services, scope: Scope, rec: ChallengeRecord & { digest: string }): Promise<void> {
  const won = await svc.once.claim(`webauthn:${scope.tenant.id}`, rec.digest, rec.expiresAt);
  if (!won) throw new AuthError("invalid_credentials", "the WebAuthn challenge is unknown, expired or already used");
  svc.defer(svc.secrets.delete(PREFIX, rec.digest));
}
