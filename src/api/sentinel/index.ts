import type { Context } from "hono";
import type { Scope, Services } from "../../core/context";
import { passwordBearerLogin, refreshUserBearer } from "../../core/auth/bearer-session";
import { loginAs } from "../../core/auth/login-as";
import { completeReset, requestResetLink } from "../../core/auth/reset-link";
import { requestUsernameReminder } from "../../core/auth/username-reminder";
import { authenticateClient } from "../../core/clients/client-credentials";
import { issueClientSession } from "../../core/clients/client-session";
import { AuthError } from "../../core/errors";
import { completeOidcCallback } from "../../core/federation/oidc-connection";
import { enrichOktaToken } from "../../core/federation/okta-token-hook";
import { initiateSso } from "../../core/federation/sso";
import { completeSamlSso, SAML_ACS_PATH } from "../../core/federation/saml-connection";
import { createSsoConnection, deleteSsoConnection, getSsoConnection, updateSsoConnection, viewConnection } from "../../core/federation/sso-connections";
import type { AccessClaims, IssuedSession } from "../../core/sessions/tokens";
import { findOrganisation } from "../../core/tenants/organisation";
import { acceptTerms, pendingTermsVersion } from "../../core/terms/terms";
import { setAssociatedAccountPassword } from "../../core/users/associated-accounts";
import { openApiDocument, surfaceApp } from "../../http/openapi";
import { resolveTenantByHost } from "../../http/tenant";
import { requestAddress } from "../../http/request-address";
import { publicOrigin } from "../../core/tenants/public-origin";
import type { AuthedEnv } from "../../http/route-auth";
import { renderSentinelError } from "./errors";
import * as r from "./routes";

/**
 * The Sentinel API (seed 000), mounted at /v1.0/auth. Thin adapter: validates, calls core,
 * shapes `{token, tokenType, expiresIn}` or the Spring-style error body (errors.ts).
 */
export const sentinel = surfaceApp(renderSentinelError);
sentinel.use("*", resolveTenantByHost);

const tokenBody = (s: IssuedSession, extra: { termsAndConditionsPending?: boolean; passwordChangeRequired?: boolean } = {}) => ({
  token: s.accessToken,
  tokenType: "Bearer" as const,
  expiresIn: s.expiresIn,
  ...extra,
});

const origin = (c: Context) => new URL(c.req.url).origin;

async function corpName(svc: Services, scope: Scope, communityId: string): Promise<string> {
  if (communityId === scope.community.id) return scope.community.name;
  return (await svc.tenants.getCommunity(communityId))?.name ?? communityId;
}

sentinel.openapi(r.tokenRoute, async (c) => {
  const body = c.req.valid("json");
  const out = await passwordBearerLogin(c.get("services"), c.get("scope"), body);
  if (out.kind === "change_password") {
    return c.json({ token: out.token, tokenType: "Bearer" as const, expiresIn: out.expiresIn, passwordChangeRequired: true }, 200);
  }
  return c.json(tokenBody(out.session, out.termsPending ? { termsAndConditionsPending: true } : {}), 200);
});

sentinel.openapi(r.refreshRoute, async (c) => {
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = c.get("claims");
  const s = await refreshUserBearer(svc, scope, claims);
  const pending = pendingTermsVersion(scope.settings, s.user) !== null;
  return c.json(tokenBody(s, pending ? { termsAndConditionsPending: true } : {}), 200);
});

sentinel.openapi(r.loginAsRoute, async (c) => {
  const body = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = c.get("claims");
  const s = await loginAs(svc, scope, claims, body);
  const pending = pendingTermsVersion(scope.settings, s.user) !== null;
  return c.json(tokenBody(s, pending ? { termsAndConditionsPending: true } : {}), 200);
});

sentinel.openapi(r.clientTokenRoute, async (c) => {
  const { clientId, clientSecret, corpId } = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  const client = await authenticateClient(svc, scope, clientId, clientSecret, "client_credentials");
  if (corpId !== undefined) {
    const org = await findOrganisation(svc, scope, corpId);
    // The client is authentic, but not for this organisation: answer as for a wrong secret.
    if (!org || org.id !== client.communityId) throw new AuthError("invalid_client", "client authentication failed");
  }
  const { session } = await issueClientSession(svc, scope, client);
  return c.json(tokenBody(session), 200);
});

sentinel.openapi(r.enrichTokenRoute, async (c) => {
  return c.json(await enrichOktaToken(c.get("services"), c.get("scope"), c.req.valid("json")), 200);
});

sentinel.openapi(r.passwordCheckRoute, (c) => {
  const grant = c.get("claims");
  return c.json({ valid: true as const, username: grant.user.username, expiresAt: new Date(grant.expiresAt).toISOString() }, 200);
});

sentinel.openapi(r.passwordSetRoute, async (c) => {
  const { password, confirmPassword } = c.req.valid("json");
  // The route's middleware (guards.ts) has already inspected the token and holds its grant,
  // so a caller without one learns nothing from this comparison.
  if (confirmPassword !== undefined && confirmPassword !== password) {
    throw new AuthError("invalid_request", "confirmPassword: does not match password");
  }
  await completeReset(c.get("services"), c.get("scope"), c.get("claims"), password);
  return c.json({ message: "Password updated" }, 200);
});

sentinel.openapi(r.passwordResetRoute, async (c) => {
  const { username, corpId } = c.req.valid("json");
  const svc = c.get("services");
  const scope = c.get("scope");
  // The link's origin comes from the tenant's bound hostnames, never from the Host header.
  const linkOrigin = await publicOrigin(svc, scope.tenant.id, requestAddress(c));
  await requestResetLink(svc, scope, { username, corpId, linkOrigin });
  return c.json({ message: "If the user exists, a password reset link has been sent to its email address" }, 200);
});

sentinel.openapi(r.setAssociatedRoute, async (c) => {
  const { username, password } = c.req.valid("json");
  const claims = c.get("claims");
  await setAssociatedAccountPassword(c.get("services"), c.get("scope"), claims, { username, password });
  return c.json({ message: "Associated account enabled and password set" }, 200);
});

sentinel.openapi(r.ssoInitiateRoute, async (c) => {
  const { email, redirectUri, state } = c.req.valid("json");
  const { authorizationUrl } = await initiateSso(c.get("services"), c.get("scope"), { email, redirectUri, state, callbackUrl: `${origin(c)}/v1.0/auth/sso/callback` });
  return c.json({ authorizationUrl }, 200);
});

sentinel.openapi(r.ssoCallbackRoute, async (c) => {
  const q = c.req.valid("query");
  const { redirect } = await completeOidcCallback(c.get("services"), c.get("scope"), q);
  c.header("referrer-policy", "no-referrer");
  return c.redirect(redirect, 302);
});

sentinel.openapi(r.ssoSamlAcsRoute, async (c) => {
  const { SAMLResponse } = c.req.valid("form");
  const { redirect } = await completeSamlSso(c.get("services"), c.get("scope"), { SAMLResponse }, { acsUrl: `${origin(c)}${SAML_ACS_PATH}` });
  c.header("referrer-policy", "no-referrer");
  return c.redirect(redirect, 302);
});

sentinel.openapi(r.ssoCreateConnectionRoute, async (c) => {
  const body = c.req.valid("json");
  const claims = c.get("claims");
  const created = await createSsoConnection(c.get("services"), c.get("scope"), body, claims.sub);
  return c.json(created, 201);
});

sentinel.openapi(r.ssoListConnectionsRoute, async (c) => {
  const list = await c.get("services").ssoConnections.list(c.get("scope").tenant.id);
  return c.json(list.map(viewConnection), 200);
});

sentinel.openapi(r.ssoGetConnectionRoute, async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await getSsoConnection(c.get("services"), c.get("scope"), id), 200);
});

sentinel.openapi(r.ssoUpdateConnectionRoute, async (c) => {
  const { id } = c.req.valid("param");
  const patch = c.req.valid("json");
  const claims = c.get("claims");
  return c.json(await updateSsoConnection(c.get("services"), c.get("scope"), id, patch, claims.sub), 200);
});

sentinel.openapi(r.ssoDeleteConnectionRoute, async (c) => {
  const { id } = c.req.valid("param");
  const claims = c.get("claims");
  await deleteSsoConnection(c.get("services"), c.get("scope"), id, claims.sub);
  return c.body(null, 204);
});

async function termsAnswer(c: Context<AuthedEnv<AccessClaims>>, input: { corpId?: string | undefined; version?: string | undefined }) {
  const svc = c.get("services");
  const scope = c.get("scope");
  const claims = c.get("claims");
  const accepted = await acceptTerms(svc, scope, claims, input);
  const s = await refreshUserBearer(svc, scope, claims);
  return {
    userId: accepted.userId,
    corpId: await corpName(svc, scope, accepted.communityId),
    version: accepted.version,
    acceptedAt: new Date(accepted.acceptedAt).toISOString(),
    token: s.accessToken,
    expiresIn: s.expiresIn,
  };
}

sentinel.openapi(r.termsRoute, async (c) => {
  return c.json(await termsAnswer(c, {}), 200);
});

sentinel.openapi(r.acceptTermsRoute, async (c) => {
  const body = c.req.valid("json");
  return c.json(await termsAnswer(c, body), 200);
});

sentinel.openapi(r.usernameRequestRoute, async (c) => {
  const { email, corpId } = c.req.valid("json");
  await requestUsernameReminder(c.get("services"), c.get("scope"), { email, corpId });
  return c.json({ message: "If the address is registered, its usernames have been sent to it" }, 200);
});

export const sentinelOpenApi = openApiDocument(
  sentinel,
  { title: "Sentinel auth API", version: "1.0.0", description: "Kajeet Sentinel /v1.0/auth: tokens, login-as, passwords, terms, SSO (seed 000)" },
  "/v1.0/auth",
);
