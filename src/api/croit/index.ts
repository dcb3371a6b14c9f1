import type { User } from "../../storage/ports";
import { passwordLogin } from "../../core/auth/login";
import { issueClientSession } from "../../core/clients/client-session";
import { AuthError } from "../../core/errors";
import { oktaLogin, oktaSignInConfig } from "../../core/federation/okta";
import { issueSession, revokeAccessSession, verifyAccessToken, type AccessClaims, type IssuedSession } from "../../core/sessions/tokens";
import { bearerToken } from "../../http/bearer";
import { openApiDocument, surfaceApp } from "../../http/openapi";
import { resolveTenantByHost } from "../../http/tenant";
import { renderCroitError } from "./errors";
import * as r from "./routes";

/**
 * The croit auth API (seed 003), mounted at /api/auth: OAuth 2 client credentials over HTTP
 * Basic, the password grant as a form, logout, token info and Okta sign-in. Thin adapter:
 * validates, calls core, shapes `{access_token, token_type, expires_in, roles, userId,
 * passwordWasNeverChanged}` or `{error, error_description}` (errors.ts).
 */
export const croit = surfaceApp(renderCroitError);
croit.use("*", resolveTenantByHost);

/** RFC 6749 §3.2: a parameter sent without a value is treated as omitted. */
const given = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);

function requireGrant(value: string | undefined, expected: string): void {
  const grant = given(value);
  if (grant !== undefined && grant !== expected) {
    throw new AuthError("unsupported_grant_type", `this endpoint only accepts grant_type=${expected}`);
  }
}

/**
 * The documented token response. userId is the user's internal integer id (absent for a client
 * acting as itself); passwordWasNeverChanged is set for a user with a local password that has
 * never been changed (passwordChangedAt null). Users without a local password (Okta) and
 * clients have nothing to change, so it is false for them.
 */
function tokenBody(s: IssuedSession, roles: string[], user: User | null) {
  return {
    access_token: s.accessToken,
    token_type: "bearer" as const,
    expires_in: s.expiresIn,
    roles,
    ...(user ? { userId: user.id } : {}),
    passwordWasNeverChanged: user !== null && user.passwordHash !== null && user.passwordChangedAt === null,
  };
}

croit.openapi(r.loginRoute, async (c) => {
  const form = c.req.valid("form");
  const svc = c.get("services");
  const scope = c.get("scope");
  const client = c.get("claims");
  requireGrant(form.grant_type, "client_credentials");
  const { session, user, roles } = await issueClientSession(svc, scope, client);
  return c.json(tokenBody(session, roles, user), 200);
});

croit.openapi(r.loginFormRoute, async (c) => {
  const form = c.req.valid("form");
  const svc = c.get("services");
  const scope = c.get("scope");
  requireGrant(form.grant_type, "password");
  const username = given(form.username);
  const password = given(form.password);
  if (username === undefined || password === undefined) throw new AuthError("invalid_request", "username and password are required");
  const outcome = await passwordLogin(svc, scope, username, password);
  if (outcome.kind === "new_password_required") {
    // A token must not be issued before the required password change (Keycloak answers its
    // direct grant the same way for pending required actions).
    throw new AuthError("password_reset_required", "the password must be changed before a token can be issued");
  }
  const user = outcome.user;
  const session = await issueSession(
    svc,
    scope,
    { sub: user.uid, communityId: user.communityId, username: user.username, roles: user.roles, user },
    { refresh: false, idToken: false, amr: ["pwd"], authenticatedAt: outcome.authenticatedAt },
  );
  return c.json(tokenBody(session, user.roles, user), 200);
});

croit.openapi(r.logoutRoute, async (c) => {
  const svc = c.get("services");
  const scope = c.get("scope");
  let claims: AccessClaims;
  try {
    claims = await verifyAccessToken(svc, scope, bearerToken(c));
  } catch (e) {
    // Logging out twice is not an error: the session is already gone.
    if (e instanceof AuthError && e.code === "token_revoked") return c.body(null, 204);
    throw e;
  }
  await revokeAccessSession(svc, scope, claims);
  return c.body(null, 204);
});

croit.openapi(r.tokenInfoRoute, async (c) => {
  const claims = await verifyAccessToken(c.get("services"), c.get("scope"), bearerToken(c));
  return c.json({ username: claims.username, roles: claims.roles, expiry: claims.exp }, 200);
});

croit.openapi(r.oktaSignInConfigRoute, (c) => c.json(oktaSignInConfig(c.get("scope")), 200));

croit.openapi(r.oktaLoginRoute, async (c) => {
  const { idToken } = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  const user = await oktaLogin(svc, scope, idToken);
  const session = await issueSession(
    svc,
    scope,
    { sub: user.uid, communityId: user.communityId, username: user.username, roles: user.roles, user },
    { refresh: false, idToken: false, extraClaims: { idp: "okta" } },
  );
  return c.json(tokenBody(session, user.roles, user), 200);
});

export const croitOpenApi = openApiDocument(
  croit,
  { title: "croit auth API", version: "1.0.0", description: "OAuth 2 client credentials and password grants, token info, logout and Okta sign-in (seed 003)" },
  "/api/auth",
);
