import { sha256Hex } from "../../crypto/hash";
import { uuid } from "../../crypto/random";
import { openWithSecret, sealWithSecret } from "../../crypto/secret-box";
import { verifyS256 } from "../../protocols/oidc/pkce";
import type { User } from "../../storage/ports";
import type { OidcScopeDefinition } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { newHeldRefreshToken, newRefreshToken, parseRefreshToken, type ParsedRefreshToken, type Presentation } from "../sessions/refresh-tokens";
import { statelessSessionId } from "../sessions/stateless";
import { recentUserByUid } from "../users/recent-users";
import { claimsForScopes } from "./claims";
import type { OidcClient } from "./clients";
import { redeemAuthorizationCode, type CodeGrant } from "./codes";
import { ProviderError } from "./errors";
import { scopeDefinitions, supportedScopeNames } from "./scopes";
import type { RotateResult } from "../../durable/token-authority";
import { accessTtl, SESSION_RECORD_PREFIX, signProviderAccessToken, signProviderIdToken, type ProviderSessionRecord } from "./tokens";

/**
 * The token endpoint's grants (RFC 6749 §4.1.3, §6, §4.4; OIDC Core §3.1.3, §12) for a client
 * already authenticated (client-auth.ts). Each answers the RFC 6749 §5.1 body.
 */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

const invalidGrant = (why: string) => new AuthError("invalid_grant", why);

function requireGrantType(client: OidcClient, grant: string): void {
  // RFC 6749 §5.2 unauthorized_client: the client may not use this grant type.
  if (!client.grantTypes.includes(grant)) throw new ProviderError("unauthorized_client", `the client is not allowed the ${grant} grant`);
}

/** Space-separated scope parameter (RFC 6749 §3.3), deduplicated; null when absent. */
function requestedScopes(raw: string | null): string[] | null {
  if (raw === null) return null;
  if (raw.length > 2048 || !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(raw)) throw new ProviderError("invalid_scope", "malformed scope");
  return [...new Set(raw.split(" "))];
}

/** A user who may still receive tokens: this community's, not disabled. */
function usable(user: User | null, scope: Scope): user is User {
  return !!user && !user.disabled && user.tenantId === scope.tenant.id && user.communityId === scope.community.id;
}

/**
 * A replayed code (RFC 6749 §4.1.2: "SHOULD revoke ... all tokens previously issued based on
 * that authorization code"): the family the first exchange opens is revoked. It is opened
 * here first (INSERT OR IGNORE in the TokenAuthority), so that a replay that wins the race
 * against the first exchange's own open still leaves the family revoked: the first exchange's
 * open then changes nothing and its tokens are born dead.
 */
async function revokeGrantFamily(svc: Services, scope: Scope, grant: CodeGrant, reason: string): Promise<void> {
  const now = Date.now();
  const until = now + scope.settings.sessionMaxAgeSeconds * 1000;
  await svc.authority.open(scope.tenant.id, grant.uid, grant.familyId, null, until, until, undefined, scope.locationHint);
  await svc.authority.revokeFamily(scope.tenant.id, grant.uid, grant.familyId, reason);
}

/** RFC 6749 §4.1.3 with RFC 7636 §4.5-4.6 and OIDC Core §3.1.3. */
/**
 * The user a code names, at most RECENT_MS old (core/users/recent-users.ts), as a refresh reads
 * it: the login that issued the code read the row a moment ago, and a disabling or a password
 * change is still seen within the same one-second bound as a revocation.
 */
async function exchangeUser(svc: Services, scope: Scope, uid: string) {
  return (await recentUserByUid(svc.users, scope.tenant.id, uid)).user;
}

export async function exchangeAuthorizationCode(
  svc: Services,
  scope: Scope,
  issuer: string,
  client: OidcClient,
  p: { code: string | null; redirectUri: string | null; codeVerifier: string | null },
): Promise<TokenResponse> {
  requireGrantType(client, "authorization_code");
  if (!p.code) throw new AuthError("invalid_request", "code is required");
  if (!p.redirectUri) throw new AuthError("invalid_request", "redirect_uri is required");
  // The user's row and the scope definitions are read beside the single-use claim.
  let reads: Promise<[User | null, OidcScopeDefinition[]]> | null = null;
  const r = await redeemAuthorizationCode(svc, scope, p.code, {
    clientId: client.clientId,
    beforeClaim: (g) => {
      reads = Promise.all([exchangeUser(svc, scope, g.uid), scopeDefinitions(svc, scope)]);
      reads.catch(() => undefined);
    },
  });
  if (r.status === "invalid") throw invalidGrant("invalid authorization code");
  const grant = r.grant;
  if (r.status === "replayed") {
    await revokeGrantFamily(svc, scope, grant, "authorization_code_replay");
    recordAudit(svc, scope, "oidc_code_replay", { userId: grant.uid, detail: { clientId: client.clientId, sid: grant.familyId } });
    throw invalidGrant("authorization code was already used; the tokens issued for it are revoked");
  }
  // The code is spent from here on, whatever follows: a failed exchange is not retried.
  // §4.1.3: the redirect_uri must be the one of the authorization request, character for character.
  if (p.redirectUri !== grant.redirectUri) throw invalidGrant("redirect_uri does not match the authorization request");
  if (grant.codeChallenge !== undefined) {
    if (!p.codeVerifier || !(await verifyS256(grant.codeChallenge, p.codeVerifier))) throw invalidGrant("PKCE verification failed");
  } else if (p.codeVerifier !== null || client.requirePkce) {
    // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt; and a client
    // that must use PKCE never redeems a code issued without it.
    throw invalidGrant("PKCE verification failed");
  }
  const [user, defs] = await (reads ?? Promise.all([exchangeUser(svc, scope, grant.uid), scopeDefinitions(svc, scope)]));
  if (!usable(user, scope)) throw invalidGrant("invalid authorization code");
  recordAudit(svc, scope, "oidc_code_exchange", { userId: user.uid, detail: { clientId: client.clientId, sid: grant.familyId } });
  return openSession(svc, scope, issuer, client, user, grant, defs);
}

/** Opens the token family of a redeemed code and signs its first tokens. */
async function openSession(svc: Services, scope: Scope, issuer: string, client: OidcClient, user: User, grant: CodeGrant, defs: OidcScopeDefinition[]): Promise<TokenResponse> {
  const now = Date.now();
  const absoluteExpiresAt = now + scope.settings.sessionMaxAgeSeconds * 1000;
  const refreshExpiresAt = Math.min(now + scope.settings.refreshTokenTtlSeconds * 1000, absoluteExpiresAt);
  const pending: Promise<unknown>[] = [];
  let refreshToken: string | undefined;
  let refreshHash: string | null = null;
  let held: { kind: "provider"; record: ProviderSessionRecord } | undefined;
  if (client.grantTypes.includes("refresh_token")) {
    // The held shape (core/sessions/refresh-tokens.ts): the subject's authority keeps the
    // record with the family, as a provider record only this endpoint redeems: no KV write.
    refreshToken = newHeldRefreshToken(svc.authority.authorityId(scope.tenant.id, user.uid));
    refreshHash = await sha256Hex(refreshToken);
    const rec: ProviderSessionRecord = {
      tenantId: scope.tenant.id,
      communityId: scope.community.id,
      clientId: client.clientId,
      sub: user.uid,
      familyId: grant.familyId,
      scopes: grant.scopes,
      authTime: grant.authTime,
      amr: grant.amr,
      acr: grant.acr,
      ssoSessionId: grant.ssoSessionId,
      expiresAt: absoluteExpiresAt,
    };
    held = { kind: "provider", record: rec };
  }
  // authenticatedAt: the end of the second auth_time names, so a login in the same second as a
  // password change is not mistaken for one before it; an older one is born revoked.
  pending.push(svc.authority.open(scope.tenant.id, user.uid, grant.familyId, refreshHash, refreshExpiresAt, absoluteExpiresAt, grant.authTime * 1000 + 999, scope.locationHint, held));
  const ttl = accessTtl(scope);
  const accessToken = await signProviderAccessToken(svc, issuer, { sub: user.uid, clientId: client.clientId, scopes: grant.scopes, sid: grant.familyId, ttl, auth: { authTime: grant.authTime, amr: grant.amr, acr: grant.acr, ssoSessionId: grant.ssoSessionId } });
  const session = { authTime: grant.authTime, amr: grant.amr, acr: grant.acr, sid: grant.ssoSessionId, clientId: client.clientId, scopes: grant.scopes };
  const [idToken] = await Promise.all([
    signProviderIdToken(svc, scope, issuer, {
      sub: user.uid,
      clientId: client.clientId,
      ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
      authTime: grant.authTime,
      amr: grant.amr,
      acr: grant.acr,
      ssoSessionId: grant.ssoSessionId,
      accessToken,
      claims: claimsForScopes(defs, grant.scopes, user, session),
    }),
    ...pending,
  ]);
  return { access_token: accessToken, token_type: "Bearer", expires_in: ttl, scope: grant.scopes.join(" "), id_token: idToken, ...(refreshToken ? { refresh_token: refreshToken } : {}) };
}

/** RFC 6749 §6 with OIDC Core §12.2: rotation per client (OidcClient.refreshRotation), reuse ends the family. */
export async function refreshTokens(svc: Services, scope: Scope, issuer: string, client: OidcClient, p: { refreshToken: string | null; scope: string | null }): Promise<TokenResponse> {
  requireGrantType(client, "refresh_token");
  if (!p.refreshToken) throw new AuthError("invalid_request", "refresh_token is required");
  const parsed = parseRefreshToken(p.refreshToken);
  if (!parsed) throw invalidGrant("invalid refresh token");
  const asked = requestedScopes(p.scope);
  const now = Date.now();
  const digest = await sha256Hex(parsed.raw);
  // The scope definitions are read beside the authority's answer (and the user's row, when the
  // token's subject is known before it: the old path).
  const defsRead = scopeDefinitions(svc, scope);
  // Marked handled: when the authority refuses first, a failed read must not surface unhandled.
  defsRead.catch(() => undefined);
  const { rec, successor, userRead } = parsed.shape === "held" ? await redeemHeld(svc, scope, client, parsed, asked, digest, now) : await redeemKv(svc, scope, client, parsed, asked, digest, now);
  const scopes = asked ?? rec.scopes;
  const [{ user }, defs] = await Promise.all([userRead, defsRead]);
  if (!usable(user, scope)) throw invalidGrant("invalid refresh token");
  const ttl = accessTtl(scope);
  const accessToken = await signProviderAccessToken(svc, issuer, { sub: rec.sub, clientId: client.clientId, scopes, sid: rec.familyId, ttl, auth: { authTime: rec.authTime, amr: rec.amr, acr: rec.acr, ssoSessionId: rec.ssoSessionId } });
  const session = { authTime: rec.authTime, amr: rec.amr, acr: rec.acr, sid: rec.ssoSessionId, clientId: client.clientId, scopes };
  // OIDC Core §12.2: a new ID token with the original auth_time and no nonce.
  const idToken = scopes.includes("openid")
    ? await signProviderIdToken(svc, scope, issuer, { sub: rec.sub, clientId: client.clientId, authTime: rec.authTime, amr: rec.amr, acr: rec.acr, ssoSessionId: rec.ssoSessionId, accessToken, claims: claimsForScopes(defs, scopes, user, session) })
    : undefined;
  return { access_token: accessToken, token_type: "Bearer", expires_in: ttl, scope: scopes.join(" "), ...(idToken ? { id_token: idToken } : {}), ...(successor ? { refresh_token: successor } : {}) };
}

/** What a refresh signs from: the session's record, the successor if it rotated, the user's row. */
interface Redeemed {
  rec: ProviderSessionRecord;
  successor?: string;
  userRead: ReturnType<typeof recentUserByUid>;
}

function readUser(svc: Services, scope: Scope, uid: string): Redeemed["userRead"] {
  const read = recentUserByUid(svc.users, scope.tenant.id, uid);
  read.catch(() => undefined);
  return read;
}

/** §6's refusal of a wider scope than the grant's. */
const scopeExceeded = () => new ProviderError("invalid_scope", "scope exceeds the original grant");

/**
 * A held token: one call to the authority the token names. It compares the presenter with the
 * record first (this tenant, community and client, §6 "issued to the authenticated client";
 * a scope within the grant's) and changes nothing when they differ, as the old path refused
 * before rotating.
 */
async function redeemHeld(svc: Services, scope: Scope, client: OidcClient, parsed: Extract<ParsedRefreshToken, { shape: "held" }>, asked: string[] | null, digest: string, now: number): Promise<Redeemed> {
  const presentation: Presentation = { tenantId: scope.tenant.id, kind: "provider", communityId: scope.community.id, clientId: client.clientId, ...(asked ? { scopes: asked } : {}) };
  if (!client.refreshRotation) {
    const r = await svc.authority.checkHeld(parsed.authorityId, digest, presentation);
    if (r.status === "scope_exceeded") throw scopeExceeded();
    if (r.status === "expired") throw invalidGrant("refresh token expired");
    if (r.status !== "active" || r.held.kind !== "provider") throw invalidGrant("invalid refresh token");
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
  if (r.status === "scope_exceeded") throw scopeExceeded();
  if (r.status === "unknown" || r.held.kind !== "provider") throw invalidGrant("invalid refresh token");
  const rec = r.held.record;
  return { rec, successor: await rotationOutcome(svc, scope, rec, parsed.raw, successor, r), userRead: readUser(svc, scope, rec.sub) };
}

/**
 * OLD PATH (kv-shape tokens of sessions opened before the record moved into the authority;
 * core/sessions/refresh-tokens.ts says when it can go): the KV record, then the authority.
 */
async function redeemKv(svc: Services, scope: Scope, client: OidcClient, parsed: Extract<ParsedRefreshToken, { shape: "kv" }>, asked: string[] | null, digest: string, now: number): Promise<Redeemed> {
  const rec = await svc.secrets.get<ProviderSessionRecord>(SESSION_RECORD_PREFIX, await sha256Hex(parsed.sessionKey));
  // §6: the refresh token must have been issued to the authenticated client.
  if (!rec || rec.tenantId !== scope.tenant.id || rec.communityId !== scope.community.id || rec.clientId !== client.clientId) throw invalidGrant("invalid refresh token");
  if (rec.expiresAt <= now) throw invalidGrant("refresh token expired");
  // §6: a narrower scope may be asked for, never a wider one.
  if (asked && asked.some((s) => !rec.scopes.includes(s))) throw scopeExceeded();
  // The user's row is read beside the authority's answer.
  const userRead = readUser(svc, scope, rec.sub);
  if (client.refreshRotation) return { rec, userRead, successor: await rotate(svc, scope, rec, parsed.sessionKey, parsed.raw, digest, now) };
  const status = await svc.authority.checkToken(scope.tenant.id, rec.sub, rec.familyId, digest);
  if (status === "expired") throw invalidGrant("refresh token expired");
  if (status !== "active") throw invalidGrant("invalid refresh token");
  return { rec, userRead };
}

/** OLD PATH's rotation, as core/sessions': the authority decides; a retry in the grace window gets the same successor. */
async function rotate(svc: Services, scope: Scope, rec: ProviderSessionRecord, sessionKey: string, raw: string, digest: string, now: number): Promise<string> {
  const successor = newRefreshToken(sessionKey).token;
  const [successorHash, successorSealed] = await Promise.all([sha256Hex(successor), sealWithSecret(raw, successor)]);
  const r = await svc.authority.rotate(scope.tenant.id, rec.sub, {
    familyId: rec.familyId,
    presentedHash: digest,
    successorHash,
    successorSealed,
    successorExpiresAt: Math.min(now + scope.settings.refreshTokenTtlSeconds * 1000, rec.expiresAt),
    now,
    graceMs: scope.settings.refreshGraceSeconds * 1000,
  });
  return rotationOutcome(svc, scope, rec, raw, successor, r);
}

/** The authority's rotation answer as the successor, or the grant error (RFC 6749 §5.2). */
async function rotationOutcome(svc: Services, scope: Scope, rec: ProviderSessionRecord, raw: string, successor: string, r: RotateResult): Promise<string> {
  switch (r.status) {
    case "rotated":
      return successor;
    case "retry":
      return openWithSecret(raw, r.successorSealed);
    case "reuse":
      recordAudit(svc, scope, "refresh_token_reuse", { userId: rec.sub, detail: { sid: rec.familyId, clientId: rec.clientId } });
      throw invalidGrant("refresh token was already used; the session has been revoked");
    case "expired":
      throw invalidGrant("refresh token expired");
    default:
      throw invalidGrant("invalid refresh token");
  }
}

/** RFC 6749 §4.4: a confidential client's own token, no refresh token (§4.4.3), no ID token. */
export async function clientCredentials(svc: Services, scope: Scope, issuer: string, client: OidcClient, p: { scope: string | null }): Promise<TokenResponse> {
  if (client.public) throw new ProviderError("unauthorized_client", "a public client cannot use the client_credentials grant");
  requireGrantType(client, "client_credentials");
  const asked = requestedScopes(p.scope);
  const allowed = client.allowedScopes ?? supportedScopeNames(await scopeDefinitions(svc, scope));
  // openid (and offline_access) name a user's authorization; a client's own token has no user.
  if (asked && asked.some((s) => s === "openid" || s === "offline_access" || !allowed.includes(s))) throw new ProviderError("invalid_scope", "scope not allowed for this client");
  const scopes = asked ?? (client.allowedScopes ?? []).filter((s) => s !== "openid" && s !== "offline_access");
  const ttl = accessTtl(scope);
  // Stateless (core/sessions/stateless.ts): issuing writes nothing; revocation records the id.
  const sid = statelessSessionId(Date.now(), uuid());
  const accessToken = await signProviderAccessToken(svc, issuer, { sub: client.clientId, clientId: client.clientId, scopes, sid, ttl });
  recordAudit(svc, scope, "oidc_client_token", { actorId: `oidc-client:${client.clientId}` });
  return { access_token: accessToken, token_type: "Bearer", expires_in: ttl, scope: scopes.join(" ") };
}
