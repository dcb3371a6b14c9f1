import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { Services } from "../context";
import type { ProviderSessionRecord } from "../oidc-provider/tokens";

/**
 * Refresh tokens and the session records they lead to.
 *
 * A refresh token names where its session is decided, never whose it is:
 *
 * - **held** (every session opened since the record moved into the authority):
 *   `<authority id>.<secret>`, the TokenAuthority Durable Object's id (64 hex,
 *   `idFromName("<tenant>:<sub>").toString()`, a one-way function of the name, so it does not
 *   name the user) and a 256-bit random secret, base64url: 108 characters. The authority keeps
 *   the session's record with its family (openFamily) and finds the family by the SHA-256 of
 *   the whole token, so a refresh is ONE call: parse, ask the authority (its answer carries the
 *   record), sign. Why (docs/edge-latency.md, "Changes that matter most", lever 3): once the
 *   authority sits near its subject, the login's KV write (KV writes go to central stores) and
 *   the refresh's cold KV read of the record were the crossings left; a login now writes no KV
 *   and a refresh reads none. Consistency is stronger than before: the record is written in
 *   the same object, in the same call, as the family that decides the token, so a new session
 *   can be refreshed at once from anywhere (no KV propagation delay of up to 60 s, no cached
 *   "not found"). The record is immutable and lives as long as the family (pruned with it).
 *   Whoever presents the token asserts a tenant (and a surface, a username or a client): the
 *   authority compares them with the record (presentationFits) before it changes anything, so
 *   another tenant's token, or a forged id of another object, is refused like an unknown one.
 * - **kv** (sessions opened before): `<session key>.<secret>`, 87 characters; KV holds an
 *   immutable record under the SHA-256 of the session key and the authority is asked by
 *   family id. OLD PATH: it stays as it was until the last such session has ended; it can be
 *   deleted (with putSessionRecord, getSessionRecord and the "kv" shape) once the longest
 *   tenant `sessionMaxAgeSeconds` in force at the deploy (90 days by default) has passed since
 *   the deploy: by then KV's own TTL has dropped every record (putSessionRecord).
 *
 * In both shapes the secret is new on every rotation and the prefix stays; which token is
 * current, and whether the session lives, is decided only by the TokenAuthority, which keeps
 * the SHA-256 of each whole token it issued (DESIGN.md: KV never decides "already used" or
 * "revoked"). A stolen old token gains nothing from the shared prefix: presenting it is reuse,
 * and reuse revokes the session. Secrets are never compared directly: the authority looks a
 * token up by its digest (primary key), as KV records were.
 *
 * Why not one KV record per token (the kv shape's reason, kept): a refresh would then write
 * KV every time, and KV accepts one write per key per second and takes up to 60 s to show a
 * write in other locations.
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
const AUTHORITY_ID = /^[0-9a-f]{64}$/;

/** A presented refresh token of either shape (see above). */
export type ParsedRefreshToken =
  | { shape: "kv"; sessionKey: string; /** The whole token, as presented. */ raw: string }
  | { shape: "held"; authorityId: string; /** The whole token, as presented. */ raw: string };

/**
 * An old-shape token for an old session's next rotation (the kv path). New sessions get
 * newHeldRefreshToken.
 */
export function newRefreshToken(sessionKey: string = randomToken()): { sessionKey: string; token: string } {
  return { sessionKey, token: `${sessionKey}.${randomToken()}` };
}

/** A held-shape token: a new session's first, or the next one of a held session. */
export function newHeldRefreshToken(authorityId: string): string {
  return `${authorityId}.${randomToken()}`;
}

/**
 * Splits a presented refresh token; null when it is of neither shape (never throws). The
 * authority id is only checked for its form here; whether it names an object of ours is the
 * namespace's to say (SessionAuthority: an id it refuses is an unknown token).
 */
export function parseRefreshToken(raw: unknown): ParsedRefreshToken | null {
  if (typeof raw !== "string") return null;
  if (raw.length === 87 && raw[43] === ".") {
    const sessionKey = raw.slice(0, 43);
    if (!PART.test(sessionKey) || !PART.test(raw.slice(44))) return null;
    return { shape: "kv", sessionKey, raw };
  }
  if (raw.length === 108 && raw[64] === ".") {
    const authorityId = raw.slice(0, 64);
    if (!AUTHORITY_ID.test(authorityId) || !PART.test(raw.slice(65))) return null;
    return { shape: "held", authorityId, raw };
  }
  return null;
}

/**
 * A session record as the TokenAuthority holds it: the surface it belongs to (a provider
 * token is redeemable only at the OIDC token endpoint, as its separate KV prefix ensured
 * before) and the record itself.
 */
export type HeldRecord = { kind: "session"; record: SessionRecord } | { kind: "provider"; record: ProviderSessionRecord };

/**
 * What the presenter of a held token asserts; the authority compares it with the record
 * before it reads or changes anything else about the token.
 */
export interface Presentation {
  /** The tenant the request is for: another tenant's token is unknown here. */
  tenantId: string;
  kind: HeldRecord["kind"];
  /** The username sent with the token (userpool), compared case-insensitively like usernames. */
  username?: string;
  /** Provider tokens: the community and the authenticated client (RFC 6749 §6: issued to it). */
  communityId?: string;
  clientId?: string;
  /** Provider tokens: the scope asked for, never wider than the grant's (RFC 6749 §6). */
  scopes?: string[];
}

/**
 * "unknown" when the record is not the presenter's (another tenant, surface, user or client:
 * answered exactly as a token never issued), "scope" when the presenter's own grant is asked
 * for more scope than it has (RFC 6749 §6 invalid_scope), "ok" otherwise. Pure, so the
 * authority runs it inside its synchronous section, before any write.
 */
export function presentationFits(held: HeldRecord, p: Presentation): "ok" | "unknown" | "scope" {
  if (held.kind !== p.kind || held.record.tenantId !== p.tenantId) return "unknown";
  if (p.username !== undefined && (held.kind !== "session" || held.record.username.toLowerCase() !== p.username.toLowerCase())) return "unknown";
  if (p.communityId !== undefined && held.record.communityId !== p.communityId) return "unknown";
  if (p.clientId !== undefined && held.record.clientId !== p.clientId) return "unknown";
  if (p.scopes !== undefined) {
    if (held.kind !== "provider") return "unknown";
    const granted = held.record.scopes;
    if (p.scopes.some((s) => !granted.includes(s))) return "scope";
  }
  return "ok";
}

/** OLD PATH (kv shape; see above for when it can go). Records are immutable, so an isolate may keep them (bounded; expiry is checked on use). */
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
