import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Scope, Services } from "../../core/context";
import { loadAppState, saveAppState, type StateApp } from "../../core/apps/app-state";
import { passwordLogin } from "../../core/auth/login";
import { requestPasswordResetByEmail, resetPasswordWithToken } from "../../core/auth/reset-token";
import { AuthError } from "../../core/errors";
import { issueUserBearer, refreshUserBearer } from "../../core/auth/bearer-session";
import { limitBody } from "../../http/body-limit";
import { noStore } from "../../http/no-store";
import { openApiDocument } from "../../http/openapi";
import type { AppEnv } from "../../http/types";
import { cloudCheckrErrorHandler, renderCloudCheckrError, validationErrorOf } from "./errors";
import * as r from "./routes";
import { registerCloudCheckrSamlRoutes } from "./saml";
import { ACS_PATH, limitAcsForm, registerCloudCheckrAcsRoutes } from "./saml-acs";

/**
 * The CloudCheckr API (seed 001), mounted at /v1/auth: form login to a
 * JWT with per-app state, PATCH refresh, password reset by emailed token, ping. Thin adapter:
 * validates, calls core, shapes `{access_token, token_type, expires_in, state?}` or the
 * Laravel-style error body (errors.ts).
 */
const defaultHook: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (!result.success) return renderCloudCheckrError(c as Context<AppEnv>, validationErrorOf(result.error));
  return undefined;
};

export const cloudcheckr = new OpenAPIHono<AppEnv>({ defaultHook });
cloudcheckr.onError(cloudCheckrErrorHandler());
const limitForm = limitBody(renderCloudCheckrError);
// The SAML ACS takes a signed Response (saml-acs.ts): its own, larger cap; everything else 64 KiB.
cloudcheckr.use("*", (c, next) => (c.req.path === ACS_PATH ? limitAcsForm(c, next) : limitForm(c, next)), noStore);

/** `?app=` is "" or absent for no state. */
function stateApp(app: string | undefined): StateApp | null {
  return app === "glass" || app === "lens" ? app : null;
}

async function tokenBody(svc: Services, scope: Scope, s: { accessToken: string; expiresIn: number }, uid: string, app: StateApp | null) {
  const body = { access_token: s.accessToken, token_type: "bearer" as const, expires_in: s.expiresIn };
  if (!app || uid.startsWith("client:")) return app ? { ...body, state: null } : body;
  const saved = await loadAppState(svc, scope, uid, app);
  return { ...body, state: saved?.state ?? null };
}

cloudcheckr.openapi(r.loginRoute, async (c) => {
  const { username, password } = c.req.valid("form");
  const app = stateApp(c.req.valid("query").app);
  const svc = c.get("services");
  const scope = c.get("scope");
  const outcome = await passwordLogin(svc, scope, username, password);
  const user = outcome.user;
  if (outcome.kind === "new_password_required") {
    // CloudCheckr has no challenge flow: the reset route is how such a user gets a password.
    throw new AuthError("password_reset_required", "the password must be changed before logging in; request a reset with POST /v1/auth/resetpassword");
  }
  // The same single-bearer session as Sentinel's (core/auth/bearer-session.ts): no refresh
  // token, never past the session's maximum age, terms-pending claims while they apply.
  const s = await issueUserBearer(svc, scope, user, { amr: ["pwd"], authenticatedAt: outcome.authenticatedAt });
  return c.json(await tokenBody(svc, scope, s, user.uid, app), 200);
});

cloudcheckr.openapi(r.refreshRoute, async (c) => {
  const app = stateApp(c.req.valid("query").app);
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = c.get("claims");
  const s = await refreshUserBearer(svc, scope, claims);
  return c.json(await tokenBody(svc, scope, s, claims.sub, app), 200);
});

function stateResponse(app: StateApp, saved: { state: Record<string, unknown>; updatedAt: number } | null) {
  return { app, state: saved?.state ?? null, updated_at: saved ? new Date(saved.updatedAt).toISOString() : null };
}

cloudcheckr.openapi(r.getStateRoute, async (c) => {
  const { app } = c.req.valid("query");
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = c.get("claims");
  return c.json(stateResponse(app, await loadAppState(svc, scope, claims.sub, app)), 200);
});

cloudcheckr.openapi(r.putStateRoute, async (c) => {
  const { app } = c.req.valid("query");
  const { state } = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = c.get("claims");
  return c.json(stateResponse(app, await saveAppState(svc, scope, claims.sub, app, state)), 200);
});

cloudcheckr.openapi(r.resetRequestRoute, async (c) => {
  const { email_address } = c.req.valid("json");
  await requestPasswordResetByEmail(c.get("services"), c.get("scope"), email_address);
  return c.json({ message: "If the address is registered, a password reset token has been sent to it." }, 200);
});

cloudcheckr.openapi(r.resetPerformRoute, async (c) => {
  const b = c.req.valid("json");
  await resetPasswordWithToken(c.get("services"), c.get("scope"), { token: b.token, username: b.username, password: b.password, passwordConfirmation: b.password_confirmation });
  return c.json({ message: "Your password has been reset." }, 200);
});

cloudcheckr.openapi(r.pingRoute, (c) => c.text("pong", 200));

// SAML (seed 001): login, logout, metadata here; the ACS and SLS in saml-acs.ts.
registerCloudCheckrSamlRoutes(cloudcheckr);
registerCloudCheckrAcsRoutes(cloudcheckr);

/** Paths this surface serves, for 405 versus 404 on everything else (SAML is served elsewhere). */
const ALLOW: Record<string, string> = {
  "/v1/auth/token": "POST, PATCH",
  "/v1/auth/state": "GET, PUT",
  "/v1/auth/resetpassword": "POST, PUT",
  "/v1/auth/ping": "GET",
};

cloudcheckr.all("*", async (c, next) => {
  const path = c.req.path.replace(/\/+$/, "");
  if (path === "/v1/auth/saml" || path.startsWith("/v1/auth/saml/")) return next();
  const allow = ALLOW[path];
  if (allow) {
    c.header("allow", allow);
    return c.json({ error: "method_not_allowed", message: `${c.req.method} is not allowed here; use ${allow}` }, 405);
  }
  return c.json({ error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404);
});

export const cloudcheckrOpenApi = openApiDocument(
  cloudcheckr,
  { title: "CloudCheckr API", version: "1.0.0", description: "CloudCheckr /v1/auth: form login to a JWT with per-app state, refresh, password reset, ping, SAML SP (seed 001)" },
  "/v1/auth",
);
