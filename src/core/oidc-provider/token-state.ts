import { sha256Hex } from "../../crypto/hash";
import type { Scope, Services } from "../context";
import { recordAudit } from "../audit/audit";
import { parseRefreshToken, type Presentation } from "../sessions/refresh-tokens";
import { recentUserByUid } from "../users/recent-users";
import { claimsForScopes } from "./claims";
import type { OidcClient } from "./clients";
import { AuthError } from "../errors";
import { ProviderError } from "./errors";
import { scopeDefinitions } from "./scopes";
import { authoritySubject, decodeProviderAccessToken, isClientToken, SESSION_RECORD_PREFIX, verifyProviderAccessToken, type ProviderAccessClaims, type ProviderSessionRecord } from "./tokens";

/**
 * What a presented token is, for revocation (RFC 7009), introspection (RFC 7662) and userinfo
 * (OIDC Core §5.3). A token counts only when it belongs to this community and, for the first
 * two, to the calling client: anyone else's token is treated exactly like an unknown one.
 */
type Found =
  | { kind: "refresh"; rec: ProviderSessionRecord; digest: string }
  // A held-shape token (core/sessions/refresh-tokens.ts): whether it is this client's is the
  // authority's to say, in the same call that revokes or checks it (presentation).
  | { kind: "held"; authorityId: string; digest: string; presentation: Presentation }
  | { kind: "access"; claims: ProviderAccessClaims }
  | null;

async function findRefresh(svc: Services, scope: Scope, client: OidcClient, token: string): Promise<Found> {
  const parsed = parseRefreshToken(token);
  if (!parsed) return null;
  if (parsed.shape === "held") {
    const presentation: Presentation = { tenantId: scope.tenant.id, kind: "provider", communityId: scope.community.id, clientId: client.clientId };
    return { kind: "held", authorityId: parsed.authorityId, digest: await sha256Hex(parsed.raw), presentation };
  }
  // OLD PATH (kv shape).
  const rec = await svc.secrets.get<ProviderSessionRecord>(SESSION_RECORD_PREFIX, await sha256Hex(parsed.sessionKey));
  if (!rec || rec.tenantId !== scope.tenant.id || rec.communityId !== scope.community.id || rec.clientId !== client.clientId) return null;
  return { kind: "refresh", rec, digest: await sha256Hex(parsed.raw) };
}

async function findAccess(svc: Services, issuer: string, client: OidcClient, token: string): Promise<Found> {
  const claims = await decodeProviderAccessToken(svc, issuer, token);
  return claims && claims.client_id === client.clientId ? { kind: "access", claims } : null;
}

/** The token as the client's, trying the hinted type first (RFC 7009 §2.1: the hint is only a hint). */
async function find(svc: Services, scope: Scope, issuer: string, client: OidcClient, token: string, hint: string | null): Promise<Found> {
  if (token.length > 8192) return null;
  const order = hint === "refresh_token" ? [findRefresh, findAccess] : [findAccess, findRefresh];
  for (const f of order) {
    const found = f === findRefresh ? await findRefresh(svc, scope, client, token) : await findAccess(svc, issuer, client, token);
    if (found) return found;
  }
  return null;
}

/**
 * RFC 7009 §2: revokes the client's token; answers nothing, so an unknown token, another
 * client's token and an already revoked one are indistinguishable (all 200). A refresh token
 * ends its whole family (§2.1 "SHOULD also invalidate all access tokens based on the same
 * authorization grant"); so does a user's access token, since its `sid` is the family; a
 * client's own token is recorded revoked until it expires.
 */
export async function revokeToken(svc: Services, scope: Scope, issuer: string, client: OidcClient, token: string, hint: string | null): Promise<void> {
  const found = await find(svc, scope, issuer, client, token, hint);
  if (!found) return;
  if (found.kind === "held") {
    const held = await svc.authority.revokeHeld(found.authorityId, found.digest, found.presentation, "revoked_by_client");
    if (held) recordAudit(svc, scope, "session_revoked", { userId: held.record.sub, detail: { sid: held.record.familyId, clientId: client.clientId } });
    return;
  }
  if (found.kind === "refresh") {
    const done = await svc.authority.revokeByToken(scope.tenant.id, found.rec.sub, found.rec.familyId, found.digest, "revoked_by_client");
    if (done) recordAudit(svc, scope, "session_revoked", { userId: found.rec.sub, detail: { sid: found.rec.familyId, clientId: client.clientId } });
    return;
  }
  const c = found.claims;
  await svc.authority.revokeFamily(scope.tenant.id, authoritySubject(scope, c), c.sid, "revoked_by_client", isClientToken(c) ? c.exp * 1000 : undefined);
  recordAudit(svc, scope, "session_revoked", { userId: isClientToken(c) ? null : c.sub, detail: { sid: c.sid, clientId: client.clientId } });
}

/**
 * RFC 7662 §2.2: `active: true` with the token's metadata only for a live token of this
 * client; `{active: false}` for anything else (§2.2: and nothing more).
 */
export async function introspectToken(svc: Services, scope: Scope, issuer: string, client: OidcClient, token: string, hint: string | null): Promise<Record<string, unknown>> {
  const inactive = { active: false };
  const found = await find(svc, scope, issuer, client, token, hint);
  if (!found) return inactive;
  if (found.kind === "held") {
    const r = await svc.authority.checkHeld(found.authorityId, found.digest, found.presentation);
    if (r.status !== "active" || r.held.kind !== "provider") return inactive;
    const rec = r.held.record;
    return { active: true, token_type: "refresh_token", client_id: rec.clientId, sub: rec.sub, scope: rec.scopes.join(" "), iss: issuer, sid: rec.familyId, auth_time: rec.authTime };
  }
  if (found.kind === "refresh") {
    const rec = found.rec;
    if (rec.expiresAt <= Date.now()) return inactive;
    const status = await svc.authority.checkToken(scope.tenant.id, rec.sub, rec.familyId, found.digest);
    if (status !== "active") return inactive;
    return { active: true, token_type: "refresh_token", client_id: rec.clientId, sub: rec.sub, scope: rec.scopes.join(" "), iss: issuer, sid: rec.familyId, auth_time: rec.authTime };
  }
  const c = found.claims;
  if (!(await svc.authority.isActive(scope.tenant.id, authoritySubject(scope, c), c.sid))) return inactive;
  return { active: true, token_type: "Bearer", client_id: c.client_id, sub: c.sub, scope: c.scope, iss: c.iss, aud: c.aud, exp: c.exp, iat: c.iat, jti: c.jti, sid: c.sid };
}

/**
 * OIDC Core §5.3: the claims of the token's scopes, for a live user token with `openid`.
 * Session-typed claims read the facts the access token carries (auth_time, amr, acr, sso_sid),
 * so userinfo answers exactly the claims of the ID token issued beside it.
 */
export async function userinfo(svc: Services, scope: Scope, issuer: string, token: string): Promise<Record<string, unknown>> {
  const claims = await verifyProviderAccessToken(svc, scope, issuer, token);
  const scopes = claims.scope.split(" ").filter(Boolean);
  if (isClientToken(claims) || !scopes.includes("openid")) throw new ProviderError("insufficient_scope", "the access token was not issued for userinfo (scope openid)");
  const [{ user }, defs] = await Promise.all([recentUserByUid(svc.users, scope.tenant.id, claims.sub), scopeDefinitions(svc, scope)]);
  if (!user || user.disabled || user.communityId !== scope.community.id) throw new AuthError("invalid_token", "invalid access token");
  const session = { authTime: claims.auth_time ?? 0, amr: claims.amr ?? [], acr: claims.acr ?? "", sid: claims.sso_sid ?? "", clientId: claims.client_id, scopes };
  return { ...claimsForScopes(defs, scopes, user, session), sub: user.uid };
}
