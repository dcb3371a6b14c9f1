import type { Context } from "hono";
import { inspectResetToken, type ResetGrant } from "../../core/auth/reset-link";
import { authenticateOktaHook, oktaHookHeader } from "../../core/federation/okta-token-hook";
import { requireOwnUserToken, requireRole, ROLE } from "../../core/auth/roles";
import { verifyAccessToken, type AccessClaims } from "../../core/sessions/tokens";
import { bearerToken } from "../../http/bearer";
import { authenticated } from "../../http/route-auth";
import type { AppEnv } from "../../http/types";

/**
 * The credentials Sentinel routes require, as route middleware (http/route-auth.ts): each
 * runs before the route's body is validated, so the answer is 401, then 403, then 400.
 */

const requestOf = (c: Context) => ({ method: c.req.method, path: new URL(c.req.url).pathname });

/** A valid bearer access token; a request made with an impersonation token is audited with both identities. */
function verifyBearer(c: Context<AppEnv>): Promise<AccessClaims> {
  return verifyAccessToken(c.get("services"), c.get("scope"), bearerToken(c), requestOf(c));
}

/** A CHANGE_PASSWORD token from a reset link (any other valid token is 403). */
function verifyResetToken(c: Context<AppEnv>): Promise<ResetGrant> {
  return inspectResetToken(c.get("services"), c.get("scope"), bearerToken(c), requestOf(c));
}

/** Any valid access token. */
export const bearer = authenticated(verifyBearer);

/** The user's own token: no impersonation, no client (setAssociatedAccountPassword, terms). */
export const ownUser = authenticated(verifyBearer, requireOwnUserToken);

/**
 * A user who may impersonate: LOGIN_AS (or SYSTEM_ADMIN) in the token, not itself an
 * impersonation, not a client. core/auth/login-as.ts checks the user's current roles again.
 */
export const impersonator = authenticated(verifyBearer, requireOwnUserToken, (claims) => requireRole(claims, ROLE.LOGIN_AS));

/** SYSTEM_ADMIN, not through impersonation (SSO connection administration). */
export const systemAdmin = authenticated(verifyBearer, (claims) => requireRole(claims, ROLE.SYSTEM_ADMIN));

/** A CHANGE_PASSWORD reset token (GET and POST /password). */
export const resetToken = authenticated(verifyResetToken);

/** The Okta inline hook's shared secret, in the header the tenant configured (POST /enrichToken). */
export const oktaHook = authenticated(async (c: Context<AppEnv>) => {
  const scope = c.get("scope");
  await authenticateOktaHook(c.get("services"), scope, c.req.header(oktaHookHeader(scope)));
  return { hook: "okta" as const };
});
