import { createRoute, type z } from "@hono/zod-openapi";
import * as g from "./guards";
import * as s from "./schemas";

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
const err = (description: string) => ({ description, content: { "application/json": { schema: s.ErrorResponse } } });
const ok = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const bearer = [{ bearerAuth: [] }];
const common = { 400: err("Invalid input"), 429: err("Too many requests (Retry-After says how long to wait)") };
const authed = { ...common, 401: err("Missing, invalid, expired or revoked bearer token") };
/** Routes with a JSON body: another media type, or none declared, is 415. */
const jsonBody = { 415: err("Body is not application/json") };

export const tokenRoute = createRoute({
  method: "post",
  path: "/token",
  operationId: "getToken",
  summary: "Get an authentication token (JWT) for username and password",
  request: { body: json(s.UserCredential) },
  responses: { 200: ok(s.TokenResponse, "The token"), ...common, ...jsonBody, 401: err("Incorrect username or password"), 403: err("User disabled") },
});

export const refreshRoute = createRoute({
  method: "get",
  path: "/refreshToken",
  operationId: "refreshToken",
  middleware: g.bearer,
  summary: "Get a new token with a later expiry (within the session's maximum age)",
  security: bearer,
  responses: { 200: ok(s.TokenResponse, "The new token"), ...authed },
});

export const loginAsRoute = createRoute({
  method: "post",
  path: "/loginAs",
  operationId: "loginAs",
  middleware: g.impersonator,
  summary: "Get a token for another user (impersonation; LOGIN_AS or SYSTEM_ADMIN role)",
  security: bearer,
  request: { body: json(s.SwitchUserRequest) },
  responses: { 200: ok(s.TokenResponse, "A token for the user, carrying the caller in `act`"), ...authed, ...jsonBody, 403: err("Role missing, or this user cannot be impersonated by the caller") },
});

export const clientTokenRoute = createRoute({
  method: "post",
  path: "/clientToken",
  operationId: "getClientToken",
  summary: "Get a token for a trusted client's API user",
  request: { body: json(s.ClientCredentials) },
  responses: { 200: ok(s.TokenResponse, "A token for the client's API user"), ...common, ...jsonBody, 401: err("Client authentication failed"), 403: err("Client not allowed, or its user disabled") },
});

export const enrichTokenRoute = createRoute({
  method: "post",
  path: "/enrichToken",
  operationId: "enrichOktaToken",
  middleware: g.oktaHook,
  security: [{ oktaHookSecret: [] }],
  summary: "Okta token inline hook: add this service's roles and organisation to Okta's tokens",
  description: "Authenticated by the shared secret in the header configured for the tenant (settings.oktaTokenHook; default `Authorization`).",
  request: { body: json(s.OktaToken) },
  responses: { 200: ok(s.OktaCommands, "Okta commands (empty for an unknown user)"), ...common, ...jsonBody, 401: err("Hook secret missing or wrong") },
});

export const passwordCheckRoute = createRoute({
  method: "get",
  path: "/password",
  operationId: "checkPasswordToken",
  middleware: g.resetToken,
  summary: "Validate a CHANGE_PASSWORD token (from a reset link)",
  security: bearer,
  responses: { 200: ok(s.PasswordAuthorization, "The token may set the password"), ...authed, 403: err("Not a CHANGE_PASSWORD token") },
});

export const passwordSetRoute = createRoute({
  method: "post",
  path: "/password",
  operationId: "setPassword",
  middleware: g.resetToken,
  summary: "Set a forgotten password with a CHANGE_PASSWORD token; the token dies and every session ends",
  security: bearer,
  request: { body: json(s.PasswordRequestBody) },
  responses: { 200: ok(s.MessageResponse, "Password updated"), ...authed, ...jsonBody, 403: err("Not a CHANGE_PASSWORD token") },
});

export const passwordResetRoute = createRoute({
  method: "post",
  path: "/passwordReset",
  operationId: "requestPasswordReset",
  summary: "Mail a password reset link (same answer whether or not the user exists)",
  request: { body: json(s.PasswordResetRequest) },
  responses: { 200: ok(s.MessageResponse, "Accepted"), ...common, ...jsonBody },
});

export const setAssociatedRoute = createRoute({
  method: "post",
  path: "/setAssociatedAccountPassword",
  operationId: "setAssociatedAccountPassword",
  middleware: g.ownUser,
  summary: "Enable one of the caller's associated accounts and replace its default password",
  security: bearer,
  request: { body: json(s.AssociatedAccountPassword) },
  responses: { 200: ok(s.MessageResponse, "Account enabled, password set"), ...authed, ...jsonBody, 403: err("Impersonation or client token"), 404: err("No such associated account") },
});

export const ssoInitiateRoute = createRoute({
  method: "post",
  path: "/sso/initiate",
  operationId: "initiateSso",
  summary: "Start SP-initiated SSO for an email: the authorization URL of the domain's connection",
  request: { body: json(s.SsoInitiateRequest) },
  responses: { 200: ok(s.SsoInitiateResponse, "Send the browser to authorizationUrl"), ...common, ...jsonBody, 404: err("No SSO connection for this email domain"), 502: err("The identity provider's discovery failed") },
});

export const ssoCallbackRoute = createRoute({
  method: "get",
  path: "/sso/callback",
  operationId: "ssoCallback",
  summary: "OIDC redirect URI: exchanges the code and redirects to the app with the token in the fragment",
  request: { query: s.SsoCallbackQuery },
  responses: {
    302: { description: "To the app: `#token=...&token_type=Bearer&expires_in=...&state=...`, or `#error=...&error_description=...`" },
    400: err("Unknown, used or expired SSO transaction, or its connection was deleted or no longer lists the app redirect URI"),
  },
});

export const ssoSamlAcsRoute = createRoute({
  method: "post",
  path: "/sso/saml/acs",
  operationId: "ssoSamlAcs",
  summary: "SAML Assertion Consumer Service of SAML SSO connections (HTTP-POST binding): redirects to the app with the token in the fragment",
  request: { body: { required: true, content: { "application/x-www-form-urlencoded": { schema: s.SsoSamlAcsForm } } } },
  responses: {
    302: { description: "To the app: `#token=...&token_type=Bearer&expires_in=...&state=...`, or `#error=...&error_description=...`" },
    400: err("The Response was not accepted (`invalid_grant`): unsigned, forged, replayed, unsolicited, wrong audience"),
  },
});

export const ssoCreateConnectionRoute = createRoute({
  method: "post",
  path: "/sso/connections",
  operationId: "createSsoConnection",
  middleware: g.systemAdmin,
  summary: "Extension: create an OIDC SSO connection (SYSTEM_ADMIN)",
  security: bearer,
  request: { body: json(s.NewSsoConnection) },
  responses: { 201: ok(s.SsoConnectionView, "Created"), ...authed, ...jsonBody, 403: err("SYSTEM_ADMIN required"), 409: err("A domain already has a connection") },
});

export const ssoListConnectionsRoute = createRoute({
  method: "get",
  path: "/sso/connections",
  operationId: "listSsoConnections",
  middleware: g.systemAdmin,
  summary: "Extension: list the tenant's SSO connections (SYSTEM_ADMIN)",
  security: bearer,
  responses: { 200: ok(s.SsoConnectionView.array(), "Connections (secrets never shown)"), ...authed, 403: err("SYSTEM_ADMIN required") },
});

const connectionId = { params: s.SsoConnectionIdParam };

export const ssoGetConnectionRoute = createRoute({
  method: "get",
  path: "/sso/connections/{id}",
  operationId: "getSsoConnection",
  middleware: g.systemAdmin,
  summary: "Extension: one SSO connection of the tenant (SYSTEM_ADMIN)",
  security: bearer,
  request: connectionId,
  responses: { 200: ok(s.SsoConnectionView, "The connection (its secret never shown)"), ...authed, 403: err("SYSTEM_ADMIN required"), 404: err("No such connection in this tenant") },
});

export const ssoUpdateConnectionRoute = createRoute({
  method: "patch",
  path: "/sso/connections/{id}",
  operationId: "updateSsoConnection",
  middleware: g.systemAdmin,
  summary: "Extension: change an SSO connection: rename, move domains, rotate or remove the client secret, enable or disable (SYSTEM_ADMIN)",
  security: bearer,
  request: { ...connectionId, body: json(s.SsoConnectionPatch) },
  responses: {
    200: ok(s.SsoConnectionView, "The connection as changed"),
    ...authed,
    ...jsonBody,
    403: err("SYSTEM_ADMIN required"),
    404: err("No such connection in this tenant"),
    409: err("A domain already has another connection"),
  },
});

export const ssoDeleteConnectionRoute = createRoute({
  method: "delete",
  path: "/sso/connections/{id}",
  operationId: "deleteSsoConnection",
  middleware: g.systemAdmin,
  summary: "Extension: delete an SSO connection and free its domains; its unfinished logins fail at the callback (SYSTEM_ADMIN)",
  security: bearer,
  request: connectionId,
  responses: { 204: { description: "Deleted" }, ...authed, 403: err("SYSTEM_ADMIN required"), 404: err("No such connection in this tenant") },
});

export const termsRoute = createRoute({
  method: "post",
  path: "/termsAndConditions",
  operationId: "acceptCurrentTerms",
  middleware: g.ownUser,
  summary: "Record the current user's acceptance of the current terms version",
  security: bearer,
  responses: { 200: ok(s.TermsAccepted, "Accepted"), ...authed, 403: err("Impersonation or client token") },
});

export const acceptTermsRoute = createRoute({
  method: "post",
  path: "/acceptTermsAndConditions",
  operationId: "acceptTermsAndConditions",
  middleware: g.ownUser,
  summary: "Log an acceptance of terms and conditions (organisation, version)",
  security: bearer,
  request: { body: json(s.TCAcceptanceLog) },
  responses: { 200: ok(s.TermsAccepted, "Accepted"), ...authed, ...jsonBody, 403: err("Another organisation, or an impersonation or client token") },
});

export const usernameRequestRoute = createRoute({
  method: "post",
  path: "/usernameRequest",
  operationId: "requestUsernameReminder",
  summary: "Mail the usernames registered to an email address (same answer whether or not it is known)",
  request: { body: json(s.UsernameRequest) },
  responses: { 200: ok(s.MessageResponse, "Accepted"), ...common, ...jsonBody },
});
