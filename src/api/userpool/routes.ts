import { createRoute, type z } from "@hono/zod-openapi";
import { ChangePasswordBody, ForgotBody, ForgotConfirmBody, LoginBody, MessageResponse, NewPasswordBody, RefreshBody, RefreshResponse, RevokeBody, TokensResponse } from "./schemas";

const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
const errors = {
  400: { description: "Invalid input, code, session or refresh token", content: { "application/json": { schema: MessageResponse } } },
  401: { description: "Incorrect credentials or invalid token", content: { "application/json": { schema: MessageResponse } } },
  403: { description: "The user is disabled", content: { "application/json": { schema: MessageResponse } } },
  413: { description: "Request body larger than 64 KiB", content: { "application/json": { schema: MessageResponse } } },
  429: { description: "Too many attempts (Retry-After says how long to wait)", content: { "application/json": { schema: MessageResponse } } },
};
const ok = <T extends z.ZodType>(schema: T, description: string) => ({ 200: { description, content: { "application/json": { schema } } }, ...errors });

export const loginRoute = createRoute({
  method: "post",
  path: "/login",
  operationId: "login",
  summary: "Login: tokens, or the NEW_PASSWORD_REQUIRED challenge with a session",
  request: { body: json(LoginBody) },
  responses: ok(TokensResponse, "Tokens or a challenge"),
});
export const refreshRoute = createRoute({
  method: "post",
  path: "/token-refresh",
  operationId: "tokenRefresh",
  summary: "New access and id tokens for a refresh token and its username (a successor refresh token only when the tenant rotates them)",
  request: { body: json(RefreshBody) },
  responses: ok(RefreshResponse, "New tokens"),
});
export const revokeRoute = createRoute({
  method: "post",
  path: "/token-revoke",
  operationId: "tokenRevoke",
  summary: "Revoke a refresh token and every access token issued from it",
  request: { body: json(RevokeBody) },
  responses: ok(MessageResponse, "Revoked"),
});
export const forgotRoute = createRoute({
  method: "post",
  path: "/forgot-password",
  operationId: "forgotPassword",
  summary: "Email a confirmation code (same answer whether or not the user exists)",
  request: { body: json(ForgotBody) },
  responses: ok(MessageResponse, "Accepted"),
});
export const forgotConfirmRoute = createRoute({
  method: "post",
  path: "/forgot-password-confirm",
  operationId: "forgotPasswordConfirm",
  summary: "Set a new password with the emailed confirmation code",
  request: { body: json(ForgotConfirmBody) },
  responses: ok(MessageResponse, "Password changed"),
});
export const changePasswordRoute = createRoute({
  method: "post",
  path: "/change-password",
  operationId: "changePassword",
  summary: "Change the password with an access token and the previous password",
  request: { body: json(ChangePasswordBody) },
  responses: ok(MessageResponse, "Password changed"),
});
export const newPasswordRoute = createRoute({
  method: "post",
  path: "/new-password-required",
  operationId: "newPasswordRequired",
  summary: "Answer the NEW_PASSWORD_REQUIRED challenge",
  request: { body: json(NewPasswordBody) },
  responses: ok(TokensResponse, "Tokens"),
});
