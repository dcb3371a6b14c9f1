import { z } from "@hono/zod-openapi";
import { CROIT_ERROR_CODES } from "./errors";

/**
 * Request and response shapes of the croit auth API (seed 003), declared once for validation
 * and docs. The document marks every form parameter optional; RFC 6749 §3.2 says a parameter
 * sent without a value is treated as omitted, so presence is checked by the handlers (in the
 * RFC's order: grant_type first), while types and lengths are checked here.
 */
const formField = (description: string, max: number, example: string) => z.string().max(max, `at most ${max} characters`).optional().openapi({ description, example });

export const ClientCredentialsForm = z
  .object({
    grant_type: formField('OAuth 2 grant type; must be "client_credentials" when present', 64, "client_credentials"),
  })
  .openapi("ClientCredentialsRequest");

export const PasswordForm = z
  .object({
    grant_type: formField('OAuth 2 grant type; must be "password" when present', 64, "password"),
    username: formField("User name", 256, "admin"),
    password: formField("Plaintext password", 1024, "correct horse battery staple"),
  })
  .openapi("PasswordGrantRequest");

export const OktaLoginBody = z
  .object({
    idToken: z
      .string({ error: "idToken must be a string" })
      .min(1, "idToken is required")
      .max(16_384, "idToken is too long")
      .openapi({ description: "The ID token Okta issued to the sign-in UI", example: "eyJraWQiOi..." }),
  })
  .openapi("OktaLoginRequest");

export const TokenResponse = z
  .object({
    access_token: z.string().openapi({ description: "Access token; handle as an opaque value" }),
    token_type: z.literal("bearer").openapi({ description: 'Always "bearer"' }),
    expires_in: z.number().int().openapi({ description: "Lifetime of the access token in seconds", example: 86400 }),
    roles: z.array(z.string()).openapi({ description: "All roles of the user (or client) the token is associated with", example: ["admin"] }),
    userId: z.number().int().optional().openapi({ description: "Internal id of the user; absent for a client acting as itself", example: 1 }),
    passwordWasNeverChanged: z.boolean().openapi({ description: "Set if the user has a local password and never changed it" }),
  })
  .openapi("TokenResponse");

export const TokenInfoResponse = z
  .object({
    username: z.string().openapi({ example: "admin" }),
    roles: z.array(z.string()).openapi({ example: ["admin"] }),
    expiry: z.number().int().openapi({ description: "The token's expiry (exp) in seconds since the Unix epoch", example: 1767225600 }),
  })
  .openapi("TokenInfo");

export const SignInConfigResponse = z
  .object({
    baseUrl: z.string().openapi({ example: "https://example.okta.com" }),
    clientId: z.string().openapi({ example: "0oa1b2c3d4" }),
    issuer: z.string().openapi({ example: "https://example.okta.com/oauth2/default" }),
    audience: z.string().openapi({ example: "api://default" }),
    mapRoles: z.record(z.string(), z.array(z.string())).openapi({ description: "Okta group -> roles", example: { "croit-admins": ["admin"] } }),
  })
  .openapi("OktaSignInConfig");

export const ErrorResponse = z
  .object({
    error: z.string().openapi({ description: `OAuth 2 error code (RFC 6749 §5.2): one of ${CROIT_ERROR_CODES.join(", ")}`, example: "invalid_grant" }),
    error_description: z.string().openapi({ example: "incorrect username or password" }),
  })
  .openapi("Error");
