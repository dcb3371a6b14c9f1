import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { Services } from "../context";

/**
 * Refresh tokens and the session records they lead to.
 *
 * A refresh token is `<session key>.<secret>`: two independent 256-bit random values,
 * base64url. The session key is fixed for the life of a session (a family); the secret is new
 * on every rotation. KV holds one record per session, under the SHA-256 of the session key,
 * written once when the session opens and never changed (who the session belongs to, its
 * lifetime, the claims it carries). Which token of the session is current, and whether the
 * session lives, is decided only by the TokenAuthority, which keeps the SHA-256 of each whole
 * token it issued (DESIGN.md: KV never decides "already used" or "revoked").
 *
 * Why not one KV record per token: a refresh would then write KV every time, and KV accepts
 * one write per key per second and takes up to 60 s to show a write in other locations, so a
 * client refreshing twice from two locations within a minute could present a successor whose
 * record is not there yet. One immutable record per session is written once, can be cached in
 * the isolate, and leaves rotation to the authority alone. A stolen old token gains nothing
 * from the shared session key: presenting it is reuse, and reuse revokes the session.
 */
export interface SessionRecord {
  tenantId: string;
  sub: string;
  familyId: string;
  communityId: string;
  username: string;
  clientId?: string;
  idToken: boolean;
  /** The session's absolute end (epoch ms); each token's own sliding expiry is the authority's. */
  expiresAt: number;
  /** Claims carried over to every access token of the session (amr, act, ...). */
  carry: Record<string, unknown>;
  /**
   * When the user authenticated (epoch seconds): every ID token of the session says so in
   * `auth_time` (OIDC Core §2), refreshes included. Absent in records written before it was
   * kept; those fall back to the refresh's time, as every ID token did then.
   */
  authTime?: number;
}

const PREFIX = "rs";
const PART = /^[A-Za-z0-9_-]{43}$/;

export interface ParsedRefreshToken {
  sessionKey: string;
  /** The whole token, as presented. */
  raw: string;
}

/** A refresh token for a new session, or the next one of an existing session. */
export function newRefreshToken(sessionKey: string = randomToken()): { sessionKey: string; token: string } {
  return { sessionKey, token: `${sessionKey}.${randomToken()}` };
}

/** Splits a presented refresh token; null when it is not of our shape (never throws). */
export function parseRefreshToken(raw: unknown): ParsedRefreshToken | null {
  if (typeof raw !== "string" || raw.length !== 87 || raw[43] !== ".") return null;
  const sessionKey = raw.slice(0, 43);
  if (!PART.test(sessionKey) || !PART.test(raw.slice(44))) return null;
  return { sessionKey, raw };
}

/** Records are immutable, so an isolate may keep them (bounded; expiry is checked on use). */
const CACHE_MAX = 10_000;
const recordCache = new Map<string, SessionRecord>();

export async function putSessionRecord(svc: Services, sessionKey: string, rec: SessionRecord, now: number): Promise<void> {
  const digest = await sha256Hex(sessionKey);
  await svc.secrets.put(PREFIX, digest, rec, (rec.expiresAt - now) / 1000);
}

export async function getSessionRecord(svc: Services, sessionKey: string): Promise<SessionRecord | null> {
  const digest = await sha256Hex(sessionKey);
  const hit = recordCache.get(digest);
  if (hit) return hit;
  const rec = await svc.secrets.get<SessionRecord>(PREFIX, digest);
  // Only found records are kept: "not found" may simply not have reached this location yet.
  if (rec) {
    if (recordCache.size >= CACHE_MAX) recordCache.clear();
    recordCache.set(digest, rec);
  }
  return rec;
}
