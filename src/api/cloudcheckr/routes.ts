import { createRoute, z } from "@hono/zod-openapi";
import { resolveTenantByHost } from "../../http/tenant";
import { appStateReadSession, appStateWriteSession } from "../../http/services";
import * as g from "./guards";
import { ErrorResponse, LoginForm, MessageResponse, ResetPerformBody, ResetRequestBody, StateBody, StateQuery, StateResponse, TokenQuery, TokenResponse } from "./schemas";

const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorResponse } } });
const okJson = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const common = {
  400: err("Malformed body, unknown/invalid reset token (`error` says which)"),
  404: err("No tenant is bound to this host"),
  413: err("Body larger than 64 KB"),
  422: err("Input that parsed but is not acceptable; `errors` names the fields"),
  429: err("Too many attempts or mails (Retry-After says how long to wait)"),
};
const bearer = [{ bearerAuth: [] }];
// Tenant resolution (by Host) is route middleware so that GET /ping needs no tenant.
const tenant = resolveTenantByHost;

export const loginRoute = createRoute({
  method: "post",
  path: "/token",
  operationId: "generateToken",
  summary: "Generate token: a JWT for a username and password (form-encoded)",
  middleware: tenant,
  request: {
    query: TokenQuery,
    body: { content: { "application/x-www-form-urlencoded": { schema: LoginForm } }, required: true },
  },
  responses: {
    200: okJson(TokenResponse, "The token (and the app's state with ?app=glass|lens)"),
    ...common,
    401: err("Incorrect username or password (the same for unknown users)"),
    403: err("User disabled, or the password must be reset first (`password_reset_required`)"),
    415: err("Body is not application/x-www-form-urlencoded or multipart/form-data"),
  },
});

export const refreshRoute = createRoute({
  method: "patch",
  path: "/token",
  operationId: "refreshToken",
  summary: "Refresh token: a new JWT with a later expiry for the presented, valid one",
  middleware: [tenant, g.bearer] as const,
  security: bearer,
  request: { query: TokenQuery },
  responses: {
    200: okJson(TokenResponse, "The new token (and the app's state with ?app=glass|lens)"),
    ...common,
    401: err("Missing, malformed, expired, foreign or revoked token, or the session reached its maximum age"),
  },
});

export const getStateRoute = createRoute({
  method: "get",
  path: "/state",
  operationId: "getAppState",
  summary: "Extension: read the user's saved state of an app",
  // One D1 session per request; the opt-in x-d1-bookmark header (http/d1-bookmark.ts).
  middleware: [tenant, g.userBearer, appStateReadSession] as const,
  security: bearer,
  request: { query: StateQuery },
  responses: { 200: okJson(StateResponse, "The saved state (null when none)"), ...common, 401: err("Invalid token"), 403: err("Not a user's token") },
});

export const putStateRoute = createRoute({
  method: "put",
  path: "/state",
  operationId: "putAppState",
  summary: "Extension: save (replace) the user's state of an app",
  // One D1 session per request; the opt-in x-d1-bookmark header (http/d1-bookmark.ts).
  middleware: [tenant, g.userBearer, appStateWriteSession] as const,
  security: bearer,
  request: { query: StateQuery, body: { content: { "application/json": { schema: StateBody } }, required: true } },
  responses: {
    200: okJson(StateResponse, "The state as saved"),
    ...common,
    401: err("Invalid token"),
    403: err("Not a user's token"),
    415: err("Body is not JSON"),
  },
});

export const resetRequestRoute = createRoute({
  method: "post",
  path: "/resetpassword",
  operationId: "requestPasswordReset",
  summary: "Request a password reset: mails a reset token (same answer whether or not the address exists)",
  middleware: tenant,
  request: { body: { content: { "application/json": { schema: ResetRequestBody } }, required: true } },
  responses: { 200: okJson(MessageResponse, "Accepted"), ...common, 415: err("Body is not JSON") },
});

export const resetPerformRoute = createRoute({
  method: "put",
  path: "/resetpassword",
  operationId: "resetPassword",
  summary: "Perform a password reset with the token sent by email",
  middleware: tenant,
  request: { body: { content: { "application/json": { schema: ResetPerformBody } }, required: true } },
  responses: {
    200: okJson(MessageResponse, "Password changed; every session of the user has ended"),
    ...common,
    400: err("`invalid_token`, `token_expired`, `token_used` or `token_user_mismatch`; or a malformed body"),
    415: err("Body is not JSON"),
  },
});

export const pingRoute = createRoute({
  method: "get",
  path: "/ping",
  operationId: "ping",
  summary: "Play pong",
  responses: { 200: { description: "pong", content: { "text/plain": { schema: z.string().openapi({ example: "pong" }) } } } },
});
