import { fromBase64Url, fromUtf8 } from "../../crypto/encoding";
import type { Claims } from "../../crypto/jwt";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { verifyAccessToken, verifyTokenOfKind } from "./tokens";

/**
 * Verification of any token this service issued to a caller who does not say which tenant
 * it belongs to (Authn POST /jwt/verifyToken, seed 004 "JWT"). The tenant named inside the
 * token only selects which tenant's issuer and audience to check: every claim is then
 * verified for real, so a forged `tenant` claim gains nothing.
 */
export interface TokenAddress {
  tenantId: string;
  communityId: string | null;
  typ: string | null;
}

/** Reads (without trusting) the tenant, community and typ of a compact JWT; null when malformed. */
export function peekTokenAddress(token: string): TokenAddress | null {
  if (typeof token !== "string" || token.length > 8192) return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(fromUtf8(fromBase64Url(parts[0]!))) as Record<string, unknown>;
    const payload = JSON.parse(fromUtf8(fromBase64Url(parts[1]!))) as Record<string, unknown>;
    if (typeof payload.tenant !== "string" || payload.tenant.length === 0 || payload.tenant.length > 128) return null;
    return {
      tenantId: payload.tenant,
      communityId: typeof payload.community === "string" && payload.community.length <= 128 ? payload.community : null,
      typ: typeof header.typ === "string" ? header.typ : null,
    };
  } catch {
    return null;
  }
}

/**
 * Verifies an access token (with its session's revocation state) or a proof of
 * authentication (`proof+jwt`; its session, when it names one in `sid`, must be active too).
 * Failures are `invalid_token` or `token_revoked`.
 */
export async function verifyIssuedToken(svc: Services, scope: Scope, token: string, typ: string | null): Promise<Claims & { sub: string }> {
  if (typ === "proof+jwt") {
    const claims = await verifyTokenOfKind(svc, scope, token, "proof");
    if (claims.tenant !== undefined && claims.tenant !== scope.tenant.id) throw new AuthError("invalid_token", "invalid token");
    if (typeof claims.sid === "string" && !(await svc.authority.isActive(scope.tenant.id, claims.sub, claims.sid))) {
      throw new AuthError("token_revoked", "token has been revoked");
    }
    return claims;
  }
  return verifyAccessToken(svc, scope, token);
}

/** The client IP recorded in a token (`ip`, set when a proof is issued), if any. */
export function recordedIp(claims: Claims): string | null {
  return typeof claims.ip === "string" ? claims.ip : null;
}
