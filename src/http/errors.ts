import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ZodError } from "zod";
import { AuthError, type AuthErrorCode } from "../core/errors";
import { ConfigError } from "../env";
import type { AppEnv } from "./types";

/** The conventional HTTP status of each core error; a surface may map differently. */
export const DEFAULT_STATUS: Record<AuthErrorCode, number> = {
  invalid_request: 400,
  invalid_credentials: 401,
  invalid_token: 401,
  token_revoked: 401,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  invalid_client: 401,
  password_reset_required: 403,
  password_policy: 400,
  user_disabled: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  payload_too_large: 413,
  unsupported_media_type: 415,
  tenant_not_found: 404,
  not_configured: 404,
  upstream_error: 502,
  internal: 500,
};

/** Reason phrases of the statuses the surfaces answer (RFC 9110 §15). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
};

/** A surface's renderer: turns a core error into that API's documented error body. */
export type ErrorRenderer = (c: Context<AppEnv>, e: AuthError) => Response;

/** Sets Retry-After for rate_limited errors (RFC 9110 §10.2.3). */
export function withRetryAfter(res: Response, e: AuthError): Response {
  if (e.code === "rate_limited" && e.retryAfter) res.headers.set("retry-after", String(e.retryAfter));
  return res;
}

/** Summarises a zod error into one line a client can act on. */
export function describeZodError(err: ZodError): string {
  const first = err.issues[0];
  if (!first) return "invalid request";
  const path = first.path.length ? first.path.join(".") : "body";
  return `${path}: ${first.message}`;
}

/**
 * The core error a framework exception stands for. zod-openapi's media-type gate throws 415
 * for a body whose Content-Type the route does not declare (RFC 9110 §15.5.16); that stays a
 * 415 in the surface's own shape rather than a generic 400.
 */
export function authErrorOfHttpException(err: HTTPException): AuthError {
  switch (err.status) {
    case 413:
      return new AuthError("payload_too_large", "request body too large");
    case 415:
      return new AuthError("unsupported_media_type", "unsupported Content-Type for this route");
    case 401:
      return new AuthError("invalid_token", err.message || "invalid request");
    default:
      return new AuthError("invalid_request", err.message || "invalid request");
  }
}

/**
 * The error handler of a surface: core errors go to the surface's renderer; framework
 * exceptions (malformed JSON, body too large) become invalid_request or payload_too_large;
 * anything else is logged and answered as an internal error without details.
 */
export function surfaceErrorHandler(render: ErrorRenderer): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof AuthError) return withRetryAfter(render(c, err), err);
    if (err instanceof HTTPException) {
      return render(c, authErrorOfHttpException(err));
    }
    if (err instanceof ConfigError) {
      console.error("configuration error:", err.message);
      return render(c, new AuthError("internal", "service is not configured"));
    }
    console.error("unhandled error", err instanceof Error ? `${err.name}: ${err.message}` : err);
    return render(c, new AuthError("internal", "internal error"));
  };
}
