import { JwtError, signJwt, verifyJwt, type Claims, type TokenKind } from "../../crypto/jwt";
import { sha256Hex } from "../../crypto/hash";
import { uuid } from "../../crypto/random";
import { openWithSecret, sealWithSecret } from "../../crypto/secret-box";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { tenantIssuer } from "../tenants/settings";
import { recordAudit } from "../audit/audit";
import { recordImpersonatedUse } from "./impersonation";
import { statelessSessionId } from "./stateless";
import { UNNAMED_APPLICATION } from "./application";
import { getSessionRecord, newHeldRefreshToken, newRefreshToken, parseRefreshToken, type ParsedRefreshToken, type Presentation, type SessionRecord } from "./refresh-tokens";
import { recentUserByUid } from "../users/recent-users";
import type { RotateResult } from "../../durable/token-authority";

/**
 * Sessions and tokens (DESIGN.md "Tokens"): a session is a family of refresh tokens with an
 * id (`sid`); access tokens are ES256 JWTs that name their family, so revoking the family
 * stops them at once. Refresh tokens are opaque; whether a refresh rotates them is the
 * tenant's setting per surface (settings.ts refreshRotation). The TokenAuthority holds the
 * session's record and decides which token is current, so a refresh is one call to it
 * (refresh-tokens.ts; sessions opened before that keep their KV record until they end).
 */
export interface SessionSubject {
  /** A user's uid, or `client:<client_id>` for a client's own session. */
  sub: string;
  communityId: string;
  username: string;
  roles: string[];
  /** Present for user sessions: feeds the ID token's claims. */
  user?: User;
  clientId?: string;
}

export interface IssueOptions {
  refresh: boolean;
  idToken: boolean;
  /** Authentication methods (RFC 8176), for tokens that carry them. */
  amr?: string[];
  /** The acting party of an impersonation (RFC 8693 §4.1). */
  act?: { sub: string; username: string };
  extraClaims?: Record<string, unknown>;
  accessTtlSeconds?: number;
  /**
   * When the credential behind this session was checked (LoginOutcome.authenticatedAt). Pass
   * it: a session whose password check predates a reset or change that ended every session is
   * opened already revoked, closing the race between a login and a concurrent reset.
   */
  authenticatedAt?: number;
  /**
   * Open no family: a session that is never refreshed (client credentials, RFC 6749 §4.4.3)
   * is revoked by recording its id, so issuing it writes nothing (core/sessions/stateless.ts).
   * Incompatible with `refresh`.
   */
  stateless?: boolean;
}

export interface IssuedSession {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  sessionId: string;
}

export interface AccessClaims extends Claims {
  sub: string;
  sid: string;
  tenant: string;
  community: string;
  roles: string[];
  username: string;
  exp: number;
  iat: number;
  jti: string;
  act?: { sub: string; username: string };
}


export function tenantAudience(tenantId: string): string {
  return tenantId;
}

async function signAccess(svc: Services, scope: Scope, s: SessionSubject, sid: string, ttl: number, extra: Record<string, unknown>) {
  return signJwt(
    svc.keyring,
    {
      ...extra,
      sid,
      tenant: scope.tenant.id,
      community: s.communityId,
      roles: s.roles,
      username: s.username,
      // RFC 9068 §2.2: every at+jwt names the client it was issued to (application.ts).
      client_id: s.clientId ?? scope.application ?? UNNAMED_APPLICATION,
    },
    { kind: "access", issuer: tenantIssuer(scope.tenant.id, scope.settings), audience: tenantAudience(scope.tenant.id), subject: s.sub, ttlSeconds: ttl },
  );
}

/** An ID token; `authTime` (epoch seconds) is when the user authenticated, not when this is signed. */
async function signId(svc: Services, scope: Scope, s: SessionSubject, sid: string, authTime: number) {
  const u = s.user;
  return signJwt(
    svc.keyring,
    {
      sid,
      tenant: scope.tenant.id,
      community: s.communityId,
      username: s.username,
      ...(u?.email ? { email: u.email, email_verified: u.emailVerified } : {}),
      ...(u?.phone ? { phone_number: u.phone, phone_number_verified: u.phoneVerified } : {}),
      ...(u?.firstName ? { given_name: u.firstName } : {}),
      ...(u?.lastName ? { family_name: u.lastName } : {}),
      roles: s.roles,
      auth_time: authTime,
    },
    { kind: "id", issuer: tenantIssuer(scope.tenant.id, scope.settings), audience: tenantAudience(scope.tenant.id), subject: s.sub, ttlSeconds: scope.settings.idTokenTtlSeconds },
  );
}

/** Starts a session: opens a family in the TokenAuthority and issues its first tokens. */
export async function issueSession(svc: Services, scope: Scope, s: SessionSubject, opts: IssueOptions): Promise<IssuedSession> {
  const now = Date.now();
  if (opts.stateless && opts.refresh) throw new Error("a stateless session has no refresh token");
  const sid = opts.stateless ? statelessSessionId(opts.authenticatedAt ?? now, uuid()) : uuid();
  const ttl = opts.accessTtlSeconds ?? scope.settings.accessTokenTtlSeconds;
  const absoluteExpiresAt = now + scope.settings.sessionMaxAgeSeconds * 1000;
  const carry: Record<string, unknown> = { ...(opts.extraClaims ?? {}) };
  if (opts.amr) carry.amr = opts.amr;
  if (opts.act) carry.act = opts.act;
  const authTime = Math.floor((opts.authenticatedAt ?? now) / 1000);

  let refreshToken: string | undefined;
  let refreshHash: string | null = null;
  const pending: Promise<unknown>[] = [];
  const refreshExpiresAt = Math.min(now + scope.settings.refreshTokenTtlSeconds * 1000, absoluteExpiresAt);
  let held: { kind: "session"; record: SessionRecord } | undefined;
  if (opts.refresh) {
    // The held shape: the token names the subject's authority, which keeps the record with
    // the family it opens below (refresh-tokens.ts): no KV write.
    refreshToken = newHeldRefreshToken(svc.authority.authorityId(scope.tenant.id, s.sub));
    refreshHash = await sha256Hex(refreshToken);
    const rec: SessionRecord = {
      tenantId: scope.tenant.id,
      sub: s.sub,
      familyId: sid,
      communityId: s.communityId,
      username: s.username,
      ...(s.clientId ? { clientId: s.clientId } : {}),
      idToken: opts.idToken,
      expiresAt: absoluteExpiresAt,
      carry,
      authTime,
    };
    held = { kind: "session", record: rec };
  }
  // Opening the family (with its record) and signing are independent: run them at once.
  // Nothing is returned unless all of them succeed.
  if (!opts.stateless) pending.push(svc.authority.open(scope.tenant.id, s.sub, sid, refreshHash, refreshExpiresAt, absoluteExpiresAt, opts.authenticatedAt, scope.locationHint, held));
  const [accessToken, idToken] = await Promise.all([
    signAccess(svc, scope, s, sid, ttl, carry),
    opts.idToken ? signId(svc, scope, s, sid, authTime) : Promise.resolve(undefined),
    ...pending,
  ]);
  return { accessToken, ...(idToken ? { idToken } : {}), ...(refreshToken ? { refreshToken } : {}), expiresIn: ttl, sessionId: sid };
}

export interface RefreshedSession extends IssuedSession {
  /** The successor refresh token; absent when the refresh does not rotate. */
  refreshToken?: string;
  user: User;
}

export interface RefreshOptions {
  /**
   * Whether this refresh rotates (the tenant's refreshRotation for the calling surface):
   * answer a successor and retire the presented token, with reuse detection. Without rotation
   * the presented token stays the session's token until it expires or the session ends, and
   * the refresh writes nothing (no Durable Object write, no KV write).
   */
  rotate: boolean;
  /** The username the API sends with the token (userpool); it must name the session's user. */
  username?: string;
}

/**
 * New access (and ID) tokens for a refresh token. With `rotate`, the TokenAuthority rotates
 * it and the successor is returned; without, the authority is only read (checkToken).
 */
export async function refreshSession(svc: Services, scope: Scope, raw: string, opts: RefreshOptions): Promise<RefreshedSession> {
  const parsed = parseRefreshToken(raw);
  if (!parsed) throw invalidRefresh();
  const now = Date.now();
  const digest = await sha256Hex(raw);
  const { rec, refreshToken, userRead } = parsed.shape === "held" ? await redeemHeld(svc, scope, parsed, digest, opts, now) : await redeemKv(svc, scope, parsed, digest, opts, now);
  const { user } = await userRead;
  if (!user) throw invalidRefresh();
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  const subject: SessionSubject = {
    sub: rec.sub,
    communityId: user.communityId,
    username: user.username,
    roles: user.roles,
    user,
    ...(rec.clientId ? { clientId: rec.clientId } : {}),
  };
  const ttl = scope.settings.accessTokenTtlSeconds;
  const [accessToken, idToken] = await Promise.all([
    signAccess(svc, scope, subject, rec.familyId, ttl, rec.carry),
    rec.idToken ? signId(svc, scope, subject, rec.familyId, rec.authTime ?? Math.floor(now / 1000)) : Promise.resolve(undefined),
  ]);
  return { accessToken, ...(idToken ? { idToken } : {}), ...(refreshToken ? { refreshToken } : {}), expiresIn: ttl, sessionId: rec.familyId, user };
}

const invalidRefresh = () => new AuthError("invalid_grant", "invalid refresh token");
const expiredRefresh = () => new AuthError("invalid_grant", "refresh token expired");

/** What the authority's answer (or the old path's KV record) gives a refresh to sign from. */
interface Redeemed {
  rec: SessionRecord;
  /** The successor, when the refresh rotated. */
  refreshToken?: string;
  /** The subject's row, read beside or right after the authority (marked handled). */
  userRead: ReturnType<typeof recentUserByUid>;
}

/** The subject's row (at most a second old: the authority, not the row, decides whether the session lives; recent-users.ts). */
function readUser(svc: Services, scope: Scope, sub: string): Redeemed["userRead"] {
  const read = recentUserByUid(svc.users, scope.tenant.id, sub);
  // Marked handled here: when the authority refuses first, a failed read must not surface as
  // an unhandled rejection (awaiting it later still sees its error).
  read.catch(() => undefined);
  return read;
}

/**
 * A held token: ONE call to the authority the token names, which checks the presenter
 * (tenant, surface, username) against the record before anything else and answers with the
 * record. The subject's row is read after it (the token does not name the user); a refresh
 * answered from the isolate's one-second cache makes no call at all.
 */
async function redeemHeld(svc: Services, scope: Scope, parsed: Extract<ParsedRefreshToken, { shape: "held" }>, digest: string, opts: RefreshOptions, now: number): Promise<Redeemed> {
  // A wrong username is refused exactly like an unknown token: it must not tell whether the
  // token was valid, expired or revoked (the authority compares it before the token's state).
  const presentation: Presentation = { tenantId: scope.tenant.id, kind: "session", ...(opts.username !== undefined ? { username: opts.username } : {}) };
  if (!opts.rotate) {
    const r = await svc.authority.checkHeld(parsed.authorityId, digest, presentation);
    if (r.status === "expired") throw expiredRefresh();
    if (r.status !== "active" || r.held.kind !== "session") throw invalidRefresh();
    return { rec: r.held.record, userRead: readUser(svc, scope, r.held.record.sub) };
  }
  const successor = newHeldRefreshToken(parsed.authorityId);
  const [successorHash, successorSealed] = await Promise.all([sha256Hex(successor), sealWithSecret(parsed.raw, successor)]);
  const r = await svc.authority.rotateHeld(parsed.authorityId, {
    presentation,
    presentedHash: digest,
    successorHash,
    successorSealed,
    // The authority caps it at the family's absolute expiry (the record's expiresAt).
    successorExpiresAt: now + scope.settings.refreshTokenTtlSeconds * 1000,
    now,
    graceMs: scope.settings.refreshGraceSeconds * 1000,
  });
  if (r.status === "unknown" || r.status === "scope_exceeded" || r.held.kind !== "session") throw invalidRefresh();
  const rec = r.held.record;
  const refreshToken = await rotationOutcome(svc, scope, rec, parsed.raw, successor, r);
  return { rec, refreshToken, userRead: readUser(svc, scope, rec.sub) };
}

/**
 * OLD PATH (kv-shape tokens of sessions opened before the record moved into the authority;
 * refresh-tokens.ts says when it can go): the KV record first, then the authority by family.
 */
async function redeemKv(svc: Services, scope: Scope, parsed: Extract<ParsedRefreshToken, { shape: "kv" }>, digest: string, opts: RefreshOptions, now: number): Promise<Redeemed> {
  const rec = await getSessionRecord(svc, parsed.sessionKey);
  if (!rec || rec.tenantId !== scope.tenant.id) throw invalidRefresh();
  // Checked before anything about the token itself, and refused exactly like an unknown token:
  // a wrong username must not tell whether the token was valid, expired or revoked.
  if (opts.username !== undefined && opts.username.toLowerCase() !== rec.username.toLowerCase()) throw invalidRefresh();
  if (rec.expiresAt <= now) throw expiredRefresh();
  // The subject's row is read beside the authority's answer.
  const userRead = readUser(svc, scope, rec.sub);
  if (opts.rotate) return { rec, userRead, refreshToken: await rotateRefreshToken(svc, scope, rec, parsed, digest, now) };
  const status = await svc.authority.checkToken(scope.tenant.id, rec.sub, rec.familyId, digest);
  if (status === "expired") throw expiredRefresh();
  if (status !== "active") throw invalidRefresh();
  return { rec, userRead };
}

/**
 * OLD PATH's rotation (the TokenAuthority decides): the successor, or the same successor again
 * for a retry within the grace window; reuse after it revokes the family. Nothing is written to
 * KV: the session's record is the same for every token of it (refresh-tokens.ts).
 */
async function rotateRefreshToken(svc: Services, scope: Scope, rec: SessionRecord, parsed: Extract<ParsedRefreshToken, { shape: "kv" }>, digest: string, now: number): Promise<string> {
  const raw = parsed.raw;
  const successor = newRefreshToken(parsed.sessionKey).token;
  const successorExpiresAt = Math.min(now + scope.settings.refreshTokenTtlSeconds * 1000, rec.expiresAt);
  const [successorHash, successorSealed] = await Promise.all([sha256Hex(successor), sealWithSecret(raw, successor)]);
  const result = await svc.authority.rotate(scope.tenant.id, rec.sub, {
    familyId: rec.familyId,
    presentedHash: digest,
    successorHash,
    successorSealed,
    successorExpiresAt,
    now,
    graceMs: scope.settings.refreshGraceSeconds * 1000,
  });
  return rotationOutcome(svc, scope, rec, raw, successor, result);
}

/** The authority's rotation answer as the refresh's successor, or the error the surface maps. */
async function rotationOutcome(svc: Services, scope: Scope, rec: SessionRecord, raw: string, successor: string, result: RotateResult): Promise<string> {
  switch (result.status) {
    case "rotated":
      return successor;
    case "retry":
      return openWithSecret(raw, result.successorSealed);
    case "reuse":
      recordAudit(svc, scope, "refresh_token_reuse", { userId: rec.sub, detail: { sid: rec.familyId } });
      throw new AuthError("invalid_grant", "refresh token was already used; the session has been revoked");
    case "expired":
      throw expiredRefresh();
    default:
      throw invalidRefresh();
  }
}

/**
 * Revokes the session a refresh token belongs to (and with it every access token issued from
 * it). Returns false when the token is unknown to this tenant.
 */
export async function revokeRefreshToken(svc: Services, scope: Scope, raw: string): Promise<boolean> {
  const parsed = parseRefreshToken(raw);
  if (!parsed) return false;
  if (parsed.shape === "held") {
    // The authority checks the token is this tenant's session before it revokes anything.
    const held = await svc.authority.revokeHeld(parsed.authorityId, await sha256Hex(parsed.raw), { tenantId: scope.tenant.id, kind: "session" }, "revoked_by_client");
    if (!held) return false;
    recordAudit(svc, scope, "session_revoked", { userId: held.record.sub, detail: { sid: held.record.familyId } });
    return true;
  }
  // OLD PATH (kv shape).
  const rec = await getSessionRecord(svc, parsed.sessionKey);
  if (!rec || rec.tenantId !== scope.tenant.id) return false;
  const revoked = await svc.authority.revokeByToken(scope.tenant.id, rec.sub, rec.familyId, await sha256Hex(parsed.raw), "revoked_by_client");
  if (!revoked) return false;
  recordAudit(svc, scope, "session_revoked", { userId: rec.sub, detail: { sid: rec.familyId } });
  return true;
}

/** Revokes the session an access token belongs to (logout). */
export async function revokeAccessSession(svc: Services, scope: Scope, claims: AccessClaims): Promise<void> {
  await svc.authority.revokeFamily(scope.tenant.id, claims.sub, claims.sid, "logout", claims.exp * 1000);
  recordAudit(svc, scope, "logout", { userId: claims.sub, detail: { sid: claims.sid } });
}

/** Ends every session of a user but `keepSessionId` (password change or reset, disabling). */
export async function endAllSessions(svc: Services, scope: Scope, sub: string, reason: string, keepSessionId: string | null = null): Promise<void> {
  await svc.authority.revokeAll(scope.tenant.id, sub, reason, keepSessionId);
}

/**
 * Verifies an access token for this tenant: signature, algorithm, typ, iss, aud, exp, and the
 * session's revocation state. Any failure is `invalid_token` or `token_revoked`.
 */
export async function verifyAccessToken(svc: Services, scope: Scope, token: string, request?: { method: string; path: string }): Promise<AccessClaims> {
  const claims = await verifyTokenOfKind(svc, scope, token, "access");
  if (typeof claims.sid !== "string" || claims.tenant !== scope.tenant.id || !Array.isArray(claims.roles)) {
    throw new AuthError("invalid_token", "invalid token");
  }
  if (!(await svc.authority.isActive(scope.tenant.id, claims.sub, claims.sid))) {
    throw new AuthError("token_revoked", "token has been revoked");
  }
  // Every use of an impersonation token is audited with both identities, on every surface.
  recordImpersonatedUse(svc, scope, claims as AccessClaims, request);
  return claims as AccessClaims;
}

const STANDARD_CLAIMS = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "token_use", "sid", "tenant", "community", "roles", "username", "client_id"]);

/**
 * A new access token with a later expiry for a valid, unrevoked one (Sentinel GET
 * /refreshToken, CloudCheckr PATCH /token): same session, same carried claims, current roles,
 * and never past the session's absolute lifetime (the tenant's sessionMaxAgeSeconds).
 */
export async function reissueAccessToken(
  svc: Services,
  scope: Scope,
  claims: AccessClaims,
  opts: {
    /** Rewrites the carried (non-standard) claims from the current user, e.g. a pending-terms flag that no longer applies. */
    adjustClaims?: (carry: Record<string, unknown>, user: User | null) => Record<string, unknown>;
  } = {},
): Promise<IssuedSession & { user: User | null }> {
  const until = await svc.authority.activeUntil(scope.tenant.id, claims.sub, claims.sid, scope.settings.sessionMaxAgeSeconds * 1000);
  const now = Date.now();
  if (until === null) throw new AuthError("token_revoked", "token has been revoked");
  const ttl = Math.min(scope.settings.accessTokenTtlSeconds, Math.floor((until - now) / 1000));
  if (ttl < 1) throw new AuthError("invalid_token", "session has reached its maximum age");
  // The authority has just vouched for the session; a second-old row is enough (recent-users.ts).
  const user = claims.sub.startsWith("client:") ? null : (await recentUserByUid(svc.users, scope.tenant.id, claims.sub)).user;
  if (!claims.sub.startsWith("client:") && (!user || user.disabled)) throw new AuthError("invalid_token", "invalid token");
  const carry: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claims)) if (!STANDARD_CLAIMS.has(k)) carry[k] = v;
  const carried = opts.adjustClaims ? opts.adjustClaims(carry, user) : carry;
  const subject: SessionSubject = {
    sub: claims.sub,
    communityId: user?.communityId ?? claims.community,
    username: user?.username ?? claims.username,
    roles: user?.roles ?? claims.roles,
    ...(typeof claims.client_id === "string" ? { clientId: claims.client_id } : {}),
  };
  const accessToken = await signAccess(svc, scope, subject, claims.sid, ttl, carried);
  return { accessToken, expiresIn: ttl, sessionId: claims.sid, user };
}

/** Verifies any of our JWT kinds for this tenant, mapping failures to AuthError. */
export async function verifyTokenOfKind(svc: Services, scope: Scope, token: string, kind: TokenKind): Promise<Claims & { sub: string }> {
  try {
    const claims = await verifyJwt(svc.keyring, token, {
      kind,
      issuer: tenantIssuer(scope.tenant.id, scope.settings),
      audience: tenantAudience(scope.tenant.id),
    });
    return claims as Claims & { sub: string };
  } catch (e) {
    if (e instanceof JwtError) throw new AuthError("invalid_token", e.message);
    throw e;
  }
}
