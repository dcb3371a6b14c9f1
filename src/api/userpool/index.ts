import type { User } from "../../storage/ports";
import type { Scope, Services } from "../../core/context";
import { completeNewPasswordChallenge, startNewPasswordChallenge } from "../../core/auth/challenge";
import { passwordLogin } from "../../core/auth/login";
import { confirmResetCode, requestResetCode } from "../../core/auth/reset";
import { issueSession, refreshSession, revokeRefreshToken, verifyAccessToken } from "../../core/sessions/tokens";
import { refreshRotates } from "../../core/tenants/settings";
import { changePassword } from "../../core/users/change-password";
import { openApiDocument, surfaceApp } from "../../http/openapi";
import { resolveTenantByHost } from "../../http/tenant";
import { renderUserpoolError } from "./errors";
import * as r from "./routes";

/**
 * The userpool API (seed 002), mounted at /v1: a Cognito-style user pool. Thin adapter:
 * validates, calls core, shapes `{id_token, access_token, refresh_token, expires_in}` or
 * `{message, status}`.
 */
export const userpool = surfaceApp(renderUserpoolError);
userpool.use("*", resolveTenantByHost);

async function tokensFor(svc: Services, scope: Scope, user: User, authenticatedAt?: number) {
  const s = await issueSession(
    svc,
    scope,
    { sub: user.uid, communityId: user.communityId, username: user.username, roles: user.roles, user },
    { refresh: true, idToken: true, amr: ["pwd"], ...(authenticatedAt !== undefined ? { authenticatedAt } : {}) },
  );
  return { id_token: s.idToken!, access_token: s.accessToken, refresh_token: s.refreshToken!, expires_in: s.expiresIn };
}

userpool.openapi(r.loginRoute, async (c) => {
  const { username, password } = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  const outcome = await passwordLogin(svc, scope, username, password);
  if (outcome.kind === "new_password_required") {
    const { session, expiresIn } = await startNewPasswordChallenge(svc, scope, outcome.user);
    return c.json({ challenge_name: "NEW_PASSWORD_REQUIRED", session, expires_in: expiresIn }, 200);
  }
  return c.json(await tokensFor(svc, scope, outcome.user, outcome.authenticatedAt), 200);
});

userpool.openapi(r.refreshRoute, async (c) => {
  const { username, refresh_token } = c.req.valid("json");
  const scope = c.get("scope");
  // Seed 002 answers {id_token, access_token, expires_in}: the login's refresh token is kept
  // (Cognito's default). A tenant that turns rotation on gets Cognito's rotation answer, with
  // the successor in `refresh_token` (docs/api/userpool.md "Refresh").
  const rotate = refreshRotates(scope.settings, "userpool");
  const s = await refreshSession(c.get("services"), scope, refresh_token, { rotate, username });
  // Every userpool session carries an ID token (tokensFor opens it with idToken: true).
  return c.json({ id_token: s.idToken!, access_token: s.accessToken, ...(rotate ? { refresh_token: s.refreshToken } : {}), expires_in: s.expiresIn }, 200);
});

userpool.openapi(r.revokeRoute, async (c) => {
  const { refresh_token } = c.req.valid("json");
  // RFC 7009 §2.2: an unknown or already revoked token is not an error for the caller.
  await revokeRefreshToken(c.get("services"), c.get("scope"), refresh_token);
  return c.json({ message: "Token revoked", status: 200 }, 200);
});

userpool.openapi(r.forgotRoute, async (c) => {
  const { username } = c.req.valid("json");
  await requestResetCode(c.get("services"), c.get("scope"), username);
  return c.json({ message: "If the user exists, a confirmation code has been sent to its email address", status: 200 }, 200);
});

userpool.openapi(r.forgotConfirmRoute, async (c) => {
  const { username, password, confirmation_code } = c.req.valid("json");
  await confirmResetCode(c.get("services"), c.get("scope"), username, confirmation_code, password);
  return c.json({ message: "Password changed", status: 200 }, 200);
});

userpool.openapi(r.changePasswordRoute, async (c) => {
  const { access_token, previous_password, proposed_password } = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = await verifyAccessToken(svc, scope, access_token);
  await changePassword(svc, scope, claims, previous_password, proposed_password);
  return c.json({ message: "Password changed", status: 200 }, 200);
});

userpool.openapi(r.newPasswordRoute, async (c) => {
  const { session, username, new_password } = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  const user = await completeNewPasswordChallenge(svc, scope, session, username, new_password);
  return c.json(await tokensFor(svc, scope, user), 200);
});

export const userpoolOpenApi = openApiDocument(
  userpool,
  { title: "userpool API", version: "1.0.0", description: "Cognito-style user pool login, tokens and passwords (seed 002)" },
  "/v1",
);
