import { JwtError, signJwt, verifyJwt } from "../../crypto/jwt";
import { leftHalfHash } from "../../protocols/oidc/token-hashes";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { statelessBasis } from "../sessions/stateless";

/**
 * The provider's tokens (OIDC Core §2, RFC 9068), all ES256 from the deployment's keyring
 * (the keys `/oidc/<community>/jwks` and `/.well-known/jwks.json` publish):
 *
 * - access token (`typ: at+jwt`): iss = the community's issuer, aud = the issuer too (the
 *   provider's own resource, userinfo; RFC 9068 §3 lets the server pick its resource
 *   indicator), sub = the user's uid (a client's own client_id for client_credentials),
 *   `client_id`, `scope`, `sid` = the token family, so that revoking the family (a refresh
 *   token's revocation, a replayed code, a password change) stops the token at once;
 * - ID token (`typ: JWT`): aud = client_id, azp, auth_time, amr, acr, sid = the SSO session,
 *   nonce, at_hash, and the claims of the granted scopes (claims.ts);
 * - refresh token: opaque (core/sessions/refresh-tokens.ts shapes), its session record held by
 *   the subject's TokenAuthority as a "provider" record (older sessions: in KV under
 *   SESSION_RECORD_PREFIX, not core/sessions' prefix), so no other surface can redeem it.
 *
 * The issuer differs per community, so a token of one community never verifies at another.
 */
export const SESSION_RECORD_PREFIX = "oprs";
/** Upper bounds on the tenant's token lifetimes for tokens handed to third-party applications. */
const MAX_ACCESS_TTL_S = 3600;
const MAX_ID_TTL_S = 3600;

export function accessTtl(scope: Scope): number {
  return Math.min(scope.settings.accessTokenTtlSeconds, MAX_ACCESS_TTL_S);
}

/** The session behind a provider refresh token (immutable once written). */
export interface ProviderSessionRecord {
  tenantId: string;
  communityId: string;
  clientId: string;
  /** The user's uid. */
  sub: string;
  familyId: string;
  scopes: string[];
  authTime: number;
  amr: string[];
  acr: string;
  ssoSessionId: string;
  /** Absolute end of the session, epoch ms. */
  expiresAt: number;
}

export interface AccessTokenInput {
  sub: string;
  clientId: string;
  scopes: string[];
  sid: string;
  ttl: number;
  /** A user's authentication (RFC 9068 §2.2.1 auth_time, acr, amr) and SSO session, so userinfo answers what the ID token says. */
  auth?: { authTime: number; amr: string[]; acr: string; ssoSessionId: string };
}

export async function signProviderAccessToken(svc: Services, issuer: string, a: AccessTokenInput): Promise<string> {
  const auth = a.auth ? { auth_time: a.auth.authTime, amr: a.auth.amr, acr: a.auth.acr, sso_sid: a.auth.ssoSessionId } : {};
  return signJwt(svc.keyring, { ...auth, client_id: a.clientId, scope: a.scopes.join(" "), sid: a.sid }, { kind: "access", issuer, audience: issuer, subject: a.sub, ttlSeconds: a.ttl });
}

export interface IdTokenInput {
  sub: string;
  clientId: string;
  nonce?: string;
  authTime: number;
  amr: string[];
  acr: string;
  ssoSessionId: string;
  /** The access token issued beside it (for at_hash, OIDC Core §3.1.3.6). */
  accessToken: string;
  /** The granted scopes' claims (claims.ts). */
  claims: Record<string, unknown>;
}

export async function signProviderIdToken(svc: Services, scope: Scope, issuer: string, t: IdTokenInput): Promise<string> {
  const ttl = Math.min(scope.settings.idTokenTtlSeconds, MAX_ID_TTL_S);
  return signJwt(
    svc.keyring,
    {
      ...t.claims,
      azp: t.clientId,
      auth_time: t.authTime,
      // OIDC Core §2: amr and acr are optional; an empty one is left out rather than sent empty.
      ...(t.amr.length ? { amr: t.amr } : {}),
      ...(t.acr ? { acr: t.acr } : {}),
      sid: t.ssoSessionId,
      ...(t.nonce !== undefined ? { nonce: t.nonce } : {}),
      at_hash: await leftHalfHash(t.accessToken),
    },
    { kind: "id", issuer, audience: t.clientId, subject: t.sub, ttlSeconds: ttl },
  );
}

/** A verified provider access token's claims. */
export interface ProviderAccessClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  sid: string;
  client_id: string;
  scope: string;
  auth_time?: number;
  amr?: string[];
  acr?: string;
  /** The SSO session (the ID token's sid). */
  sso_sid?: string;
}

/** Whether the token is a client's own (client_credentials): those sessions are stateless. */
export function isClientToken(claims: Pick<ProviderAccessClaims, "sid">): boolean {
  return statelessBasis(claims.sid) !== null;
}

/**
 * The TokenAuthority subject a token's session lives under: the user's uid (so ending every
 * session of the user ends these too), or the client's own subject in this community.
 */
export function authoritySubject(scope: Scope, claims: Pick<ProviderAccessClaims, "sid" | "sub" | "client_id">): string {
  return isClientToken(claims) ? clientSubject(scope, claims.client_id) : claims.sub;
}

export function clientSubject(scope: Scope, clientId: string): string {
  return `oidc-client:${scope.community.id}:${clientId}`;
}

/** Signature, typ, iss, aud, exp of a provider access token; null when it is not one (no revocation check). */
export async function decodeProviderAccessToken(svc: Services, issuer: string, token: string): Promise<ProviderAccessClaims | null> {
  try {
    const c = await verifyJwt(svc.keyring, token, { kind: "access", issuer, audience: issuer });
    if (typeof c.sid !== "string" || typeof c.client_id !== "string" || typeof c.scope !== "string" || typeof c.sub !== "string") return null;
    return c as unknown as ProviderAccessClaims;
  } catch (e) {
    if (e instanceof JwtError) return null;
    throw e;
  }
}

/** A live provider access token of this community, or invalid_token / token_revoked. */
export async function verifyProviderAccessToken(svc: Services, scope: Scope, issuer: string, token: string): Promise<ProviderAccessClaims> {
  const claims = await decodeProviderAccessToken(svc, issuer, token);
  if (!claims) throw new AuthError("invalid_token", "invalid access token");
  if (!(await svc.authority.isActive(scope.tenant.id, authoritySubject(scope, claims), claims.sid))) throw new AuthError("token_revoked", "the access token has been revoked");
  return claims;
}
