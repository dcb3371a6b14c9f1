import { z } from "@hono/zod-openapi";

/** Request and response shapes of the CloudCheckr API (seed 001), declared once for validation and docs. */
const str = (name: string, max: number, example: string) =>
  z
    .string({ error: `${name} is required and must be a string` })
    .min(1, `${name} is required`)
    .max(max, `${name} must be at most ${max} characters`)
    .openapi({ example });

/** `?app=`: empty (the default) for no state, or one of the apps that keep state. */
export const TokenQuery = z.object({
  app: z
    .enum(["", "glass", "lens"], { error: "app must be empty, glass or lens" })
    .optional()
    .openapi({ description: "The client to retrieve the state for: empty (default, no state), glass or lens.", example: "glass" }),
});

export const StateQuery = z.object({
  app: z.enum(["glass", "lens"], { error: "app must be glass or lens" }).openapi({ description: "The app whose state to read or save.", example: "glass" }),
});

export const LoginForm = z
  .object({ username: str("username", 256, "admin"), password: str("password", 1024, "cloudcheckrfinancemanager") })
  .openapi("LoginForm");

export const ResetRequestBody = z
  .object({ email_address: str("email_address", 320, "alice@example.com") })
  .openapi("ResetPasswordRequest");

export const ResetPerformBody = z
  .object({
    token: str("token", 512, "q1bX6Xb1v6VbHk4b2mY0b2wA8oQm7r5fX1c9zU3sJxw"),
    username: str("username", 256, "alice"),
    password: str("password", 1024, "a new long passphrase"),
    password_confirmation: str("password_confirmation", 1024, "a new long passphrase"),
  })
  .openapi("ResetPasswordPerform");

const StateObject = z.record(z.string(), z.unknown()).openapi({ description: "The app's own JSON object (at most 16 KB).", example: { dashboard: "costs", filters: { account: "prod" } } });

export const StateBody = z
  .object({ state: z.record(z.string(), z.unknown(), { error: "state must be a JSON object" }) })
  .openapi("SaveStateRequest");

export const TokenResponse = z
  .object({
    access_token: z.string().openapi({ description: "JWT (ES256); send it as `Authorization: Bearer <token>`." }),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds until the token expires.", example: 86400 }),
    state: StateObject.nullable().optional().openapi({ description: "Only with ?app=glass|lens: the app's saved state for the user, null when none was saved." }),
  })
  .openapi("TokenResponse");

export const StateResponse = z
  .object({
    app: z.enum(["glass", "lens"]),
    state: StateObject.nullable(),
    updated_at: z.string().nullable().openapi({ description: "ISO 8601 time of the last save; null when none." }),
  })
  .openapi("StateResponse");

export const MessageResponse = z.object({ message: z.string() }).openapi("Message");

export const ErrorResponse = z
  .object({
    error: z.string().openapi({ example: "invalid_credentials" }),
    message: z.string().openapi({ example: "incorrect username or password" }),
    errors: z.record(z.string(), z.array(z.string())).optional().openapi({ description: "Per-field messages; only on 422." }),
  })
  .openapi("Error");
