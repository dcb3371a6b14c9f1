import { z } from "@hono/zod-openapi";

/** Request and response shapes of the userpool API (seed 002), declared once for validation and docs. */
const str = (name: string, example: string) => z.string().min(1, `${name} is required`).max(1024).openapi({ example });

export const LoginBody = z.object({ username: str("username", "admin"), password: str("password", "j8BDWYrQwDF5u4Yu") }).openapi("LoginRequest");
export const RefreshBody = z.object({ username: str("username", "admin"), refresh_token: str("refresh_token", "Zm9v...") }).openapi("RefreshRequest");
export const RevokeBody = z.object({ refresh_token: str("refresh_token", "Zm9v...") }).openapi("RevokeRequest");
export const ForgotBody = z.object({ username: str("username", "admin") }).openapi("ForgotPasswordRequest");
export const ForgotConfirmBody = z
  .object({ username: str("username", "admin"), password: str("password", "b2BDWZrQwDF5u4Yu"), confirmation_code: str("confirmation_code", "6MadrbRF") })
  .openapi("ForgotPasswordConfirmRequest");
export const ChangePasswordBody = z
  .object({ access_token: z.string().min(1).max(8192), previous_password: str("previous_password", "j8BDWYrQwDF5u4Yu"), proposed_password: str("proposed_password", "b2BDWZrQwDF5u4Yu") })
  .openapi("ChangePasswordRequest");
export const NewPasswordBody = z
  .object({ session: str("session", "c2Vzc2lvbg..."), username: str("username", "admin"), new_password: str("new_password", "b2BDWZrQwDF5u4Yu") })
  .openapi("NewPasswordRequiredRequest");

export const TokensResponse = z
  .object({
    challenge_name: z.string().optional().openapi({ example: "NEW_PASSWORD_REQUIRED" }),
    id_token: z.string().optional(),
    access_token: z.string().optional(),
    refresh_token: z.string().optional(),
    session: z.string().optional(),
    expires_in: z.number().int().openapi({ example: 86400 }),
  })
  .openapi("TokensResponse");

/**
 * The refresh answer of seed 002: `{id_token, access_token, expires_in}`. `refresh_token` is
 * present only when the tenant turned rotation on (refreshRotation.userpool): then it is the
 * successor, and the presented token is retired.
 */
export const RefreshResponse = z
  .object({
    id_token: z.string(),
    access_token: z.string(),
    refresh_token: z.string().optional().openapi({ description: "Only with refresh-token rotation on: the successor of the presented token" }),
    expires_in: z.number().int().openapi({ example: 86400 }),
  })
  .openapi("RefreshResponse");

export const MessageResponse = z.object({ message: z.string(), status: z.number().int() }).openapi("Message");
