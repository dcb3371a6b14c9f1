import type { Context } from "hono";
import { requireUserSubject } from "../../core/apps/app-state";
import { verifyAccessToken, type AccessClaims } from "../../core/sessions/tokens";
import { bearerToken } from "../../http/bearer";
import { authenticated } from "../../http/route-auth";
import type { AppEnv } from "../../http/types";

/**
 * The credentials CloudCheckr routes require, as route middleware (http/route-auth.ts): each
 * runs after the tenant is resolved and before the query and body are validated, so a caller
 * without a valid token gets 401 and a client's token 403 before any 400, 415 or 422.
 */

function verifyBearer(c: Context<AppEnv>): Promise<AccessClaims> {
  return verifyAccessToken(c.get("services"), c.get("scope"), bearerToken(c));
}

/** Any valid access token (PATCH /token: a client's token refreshes too). */
export const bearer = authenticated(verifyBearer);

/** A user's access token: app state belongs to users, not API clients. */
export const userBearer = authenticated(verifyBearer, (claims) => requireUserSubject(claims.sub));
