import { createRoute, type z } from "@hono/zod-openapi";
import * as g from "./guards";
import { ClientCredentialsForm, ErrorResponse, OktaLoginBody, PasswordForm, SignInConfigResponse, TokenInfoResponse, TokenResponse } from "./schemas";

/** Route declarations of the croit auth API (seed 003), relative to /api/auth. */
const FORM = "application/x-www-form-urlencoded";
// Both form bodies are optional: `curl -u id:secret -X POST .../login` sends none, and the
// handlers answer missing parameters with the right OAuth error in the RFC's order.
const form = <T extends z.ZodType>(schema: T) => ({ content: { [FORM]: { schema } }, required: false });
const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorResponse } } });
const ok = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

const common = {
  400: err("invalid_request (malformed or missing input)"),
  413: err("Request body larger than 64 KiB (invalid_request)"),
  415: err("invalid_request: the body is not of the declared content type"),
};

export const loginRoute = createRoute({
  method: "post",
  path: "/login",
  operationId: "clientCredentialsLogin",
  middleware: g.basicClient,
  summary: "OAuth 2 client credentials grant with HTTP Basic client authentication (RFC 6749 §4.4, §2.3.1)",
  security: [{ basicAuth: [] }],
  request: { body: form(ClientCredentialsForm) },
  responses: {
    200: ok(TokenResponse, "Access token"),
    ...common,
    400: err("invalid_request, unsupported_grant_type (grant_type is not client_credentials) or unauthorized_client (the client may not use this grant)"),
    401: err("invalid_client: missing, malformed or wrong client credentials (WWW-Authenticate: Basic)"),
    429: err("too_many_requests: too many failed attempts (Retry-After)"),
  },
});

export const loginFormRoute = createRoute({
  method: "post",
  path: "/login-form",
  operationId: "passwordLogin",
  summary: "OAuth 2 resource owner password grant as a url-encoded form (RFC 6749 §4.3)",
  request: { body: form(PasswordForm) },
  responses: {
    200: ok(TokenResponse, "Access token"),
    ...common,
    400: err("invalid_request, unsupported_grant_type (grant_type is not password) or invalid_grant (wrong credentials, password change required, user disabled)"),
    429: err("too_many_requests: locked out after repeated failures (Retry-After)"),
  },
});

export const logoutRoute = createRoute({
  method: "post",
  path: "/logout",
  operationId: "logout",
  summary: "Revoke the session of the presented bearer token",
  security: [{ bearerAuth: [] }],
  responses: {
    204: { description: "Logged out (also when the session was already revoked)" },
    401: err("invalid_token (WWW-Authenticate: Bearer)"),
  },
});

export const tokenInfoRoute = createRoute({
  method: "get",
  path: "/token-info",
  operationId: "tokenInfo",
  summary: "Who the bearer token belongs to, its roles and expiry",
  security: [{ bearerAuth: [] }],
  responses: {
    200: ok(TokenInfoResponse, "Token information"),
    401: err("invalid_token: malformed, expired, foreign or revoked token (WWW-Authenticate: Bearer)"),
  },
});

export const oktaSignInConfigRoute = createRoute({
  method: "get",
  path: "/okta/signInConfig",
  operationId: "oktaSignInConfig",
  summary: "The tenant's Okta sign-in settings",
  responses: {
    200: ok(SignInConfigResponse, "Okta settings"),
    404: err("not_found: Okta sign-in is not configured for this tenant"),
  },
});

export const oktaLoginRoute = createRoute({
  method: "post",
  path: "/okta/login",
  operationId: "oktaLogin",
  summary: "Login with an Okta ID token",
  request: { body: json(OktaLoginBody) },
  responses: {
    200: ok(TokenResponse, "Access token"),
    ...common,
    400: err("invalid_request or invalid_grant (the ID token failed verification, or the user is disabled)"),
    404: err("not_found: Okta sign-in is not configured for this tenant"),
    409: err("conflict: a local user already holds the token's username"),
    502: err("temporarily_unavailable: Okta's signing keys could not be fetched"),
  },
});
