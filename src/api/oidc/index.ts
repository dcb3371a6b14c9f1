import { Hono, type Context } from "hono";
import { AuthError } from "../../core/errors";
import { authenticateClient } from "../../core/oidc-provider/client-auth";
import { clientCredentials, exchangeAuthorizationCode, refreshTokens } from "../../core/oidc-provider/grants";
import { ACR_MFA, ACR_PASSWORD } from "../../core/oidc-provider/sso-session";
import { scopeDefinitions, supportedClaimNames, supportedScopeNames } from "../../core/oidc-provider/scopes";
import { introspectToken, revokeToken, userinfo } from "../../core/oidc-provider/token-state";
import { limitBody } from "../../http/body-limit";
import { bearerToken } from "../../http/bearer";
import { surfaceErrorHandler } from "../../http/errors";
import { noStore } from "../../http/no-store";
import type { AppEnv } from "../../http/types";
import { providerMetadata } from "../../protocols/oidc/discovery";
import { renderOAuthError } from "./errors";
import { clientCredentialsOf, readForm } from "./form";
import { providerScope } from "../../http/oidc-provider";

export { providerScope } from "../../http/oidc-provider";

/**
 * The OpenID Provider's back channel, one provider per community under
 * `/oidc/:communityId` (issue 8, docs/api/oidc.md): discovery, JWKS, token, userinfo,
 * revocation, introspection. The front channel (authorize, the hosted login, end_session) is
 * web/. Thin: each route parses the wire format and calls core/oidc-provider.
 *
 * Middleware is attached per route, never with use("/:communityId/*"): this app and the
 * hosted login share the /oidc mount, and a use() here would run for the login's pages too.
 */
export const oidcProvider = new Hono<AppEnv>();
oidcProvider.onError(surfaceErrorHandler(renderOAuthError));

/** Token requests are small; a private_key_jwt assertion is the largest part (a few KB). */
const MAX_FORM_BYTES = 16 * 1024;
const body = limitBody(renderOAuthError, MAX_FORM_BYTES);

const endpoint = (c: Context<AppEnv>, path: string) => `${c.get("oidcIssuer")}${path}`;

/** The community's provider metadata (after providerScope); also served by api/wellknown at RFC 8414's path. */
export async function providerDiscovery(c: Context<AppEnv>): Promise<Response> {
  const defs = await scopeDefinitions(c.get("services"), c.get("scope"));
  c.header("cache-control", "public, max-age=300");
  return c.json(providerMetadata({ issuer: c.get("oidcIssuer"), scopes: supportedScopeNames(defs), claims: supportedClaimNames(defs), acrValues: [ACR_PASSWORD, ACR_MFA] }));
}

// OIDC Discovery 1.0 §4: the issuer with /.well-known/openid-configuration appended.
oidcProvider.get("/:communityId/.well-known/openid-configuration", providerScope, providerDiscovery);

// The deployment's keyring, the same keys as /.well-known/jwks.json (every community's tokens
// are signed by it; the issuer, not the key, tells communities apart).
oidcProvider.get("/:communityId/jwks", providerScope, async (c) => {
  const jwks = await c.get("services").keyring.jwks();
  c.header("cache-control", "public, max-age=300");
  return c.json(jwks);
});

oidcProvider.post("/:communityId/token", noStore, body, providerScope, async (c) => {
  const svc = c.get("services");
  const scope = c.get("scope");
  const issuer = c.get("oidcIssuer");
  const form = await readForm(c);
  const grantType = form.get("grant_type");
  if (!grantType) throw new AuthError("invalid_request", "grant_type is required");
  const known = grantType === "authorization_code" || grantType === "refresh_token" || grantType === "client_credentials";
  const { client } = await authenticateClient(svc, scope, clientCredentialsOf(c, form), { issuer, endpoint: endpoint(c, "/token") });
  if (!known) throw new AuthError("unsupported_grant_type", "supported: authorization_code, refresh_token, client_credentials");
  if (grantType === "authorization_code") {
    return c.json(await exchangeAuthorizationCode(svc, scope, issuer, client, { code: form.get("code"), redirectUri: form.get("redirect_uri"), codeVerifier: form.get("code_verifier") }));
  }
  if (grantType === "refresh_token") return c.json(await refreshTokens(svc, scope, issuer, client, { refreshToken: form.get("refresh_token"), scope: form.get("scope") }));
  return c.json(await clientCredentials(svc, scope, issuer, client, { scope: form.get("scope") }));
});

async function answerUserinfo(c: Context<AppEnv>) {
  return c.json(await userinfo(c.get("services"), c.get("scope"), c.get("oidcIssuer"), bearerToken(c)));
}
// OIDC Core §5.3.1: GET and POST, the token in the Authorization header (RFC 6750 §2.1).
oidcProvider.get("/:communityId/userinfo", noStore, providerScope, answerUserinfo);
oidcProvider.post("/:communityId/userinfo", noStore, body, providerScope, answerUserinfo);

oidcProvider.post("/:communityId/revoke", noStore, body, providerScope, async (c) => {
  const form = await readForm(c);
  const svc = c.get("services");
  const issuer = c.get("oidcIssuer");
  const { client } = await authenticateClient(svc, c.get("scope"), clientCredentialsOf(c, form), { issuer, endpoint: endpoint(c, "/revoke") });
  const token = form.get("token");
  if (!token) throw new AuthError("invalid_request", "token is required");
  await revokeToken(svc, c.get("scope"), issuer, client, token, form.get("token_type_hint"));
  // RFC 7009 §2.2: 200 whether or not the token was known.
  return c.body(null, 200);
});

oidcProvider.post("/:communityId/introspect", noStore, body, providerScope, async (c) => {
  const form = await readForm(c);
  const svc = c.get("services");
  const issuer = c.get("oidcIssuer");
  const { client } = await authenticateClient(svc, c.get("scope"), clientCredentialsOf(c, form), { issuer, endpoint: endpoint(c, "/introspect") });
  // RFC 7662 §2.1: the caller must be authorized; a public client has no credential to show.
  if (client.public) throw new AuthError("invalid_client", "public clients cannot introspect");
  const token = form.get("token");
  if (!token) throw new AuthError("invalid_request", "token is required");
  return c.json(await introspectToken(svc, c.get("scope"), issuer, client, token, form.get("token_type_hint")));
});
