import type { Context, ErrorHandler } from "hono";
import type { ZodError } from "zod";
import { AuthError, type AuthErrorCode } from "../../core/errors";
import { FieldError } from "../../core/field-error";
import { ResetTokenError } from "../../core/auth/reset-token";
import { DEFAULT_STATUS, surfaceErrorHandler, withRetryAfter } from "../../http/errors";
import type { AppEnv } from "../../http/types";

/**
 * CloudCheckr's document (seed 001) shows no error body, and its field names
 * (`password_confirmation`, `email_address`) are those of a Laravel back end, so errors take
 * the shape a Laravel API client already handles, plus a stable machine code:
 *
 *   { "error": "<code>", "message": "<text>", "errors"?: { "<field>": ["<text>", ...] } }
 *
 * `errors` appears only on 422 (input that parsed but is not acceptable). See
 * docs/api/cloudcheckr.md for every code and status.
 */
export interface CloudCheckrErrorBody {
  error: string;
  message: string;
  errors?: Record<string, string[]>;
}

/** Input that failed the route's schema, per field. */
export class ValidationError extends AuthError {
  readonly fields: Record<string, string[]>;

  constructor(fields: Record<string, string[]>) {
    super("invalid_request", "The given data was invalid.");
    this.name = "ValidationError";
    this.fields = fields;
  }
}

/** Turns zod issues into Laravel's `errors` map (first path segment names the field). */
export function validationErrorOf(err: ZodError): ValidationError {
  const fields: Record<string, string[]> = {};
  for (const issue of err.issues) {
    const key = issue.path.length ? issue.path.map(String).join(".") : "body";
    (fields[key] ??= []).push(issue.message);
  }
  return new ValidationError(fields);
}

const STATUS: Partial<Record<AuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_grant: 400,
  password_policy: 422,
};

function body(e: AuthError): { status: number; json: CloudCheckrErrorBody } {
  if (e instanceof ValidationError) return { status: 422, json: { error: "validation_failed", message: e.message, errors: e.fields } };
  if (e instanceof FieldError) {
    return { status: 422, json: { error: "validation_failed", message: "The given data was invalid.", errors: { [e.field]: [e.message] } } };
  }
  if (e.code === "password_policy") {
    return { status: 422, json: { error: "validation_failed", message: "The given data was invalid.", errors: { password: [e.message] } } };
  }
  if (e instanceof ResetTokenError) return { status: 400, json: { error: e.reason, message: e.message } };
  const status = STATUS[e.code] ?? DEFAULT_STATUS[e.code];
  // Never echo internal detail on a 5xx.
  const message = status >= 500 ? "internal error" : e.message;
  return { status, json: { error: e.code, message } };
}

/** Renders a core error in the CloudCheckr shape (with RFC 6750 §3 WWW-Authenticate on 401s). */
export function renderCloudCheckrError(c: Context, e: AuthError): Response {
  const { status, json } = body(e);
  const res = c.json(json, status as 400);
  if (status === 401 && (e.code === "invalid_token" || e.code === "token_revoked")) {
    res.headers.set("www-authenticate", 'Bearer error="invalid_token"');
  }
  return withRetryAfter(res, e);
}

/**
 * The surface's error handler: the shared one (malformed bodies 400, oversized 413, an
 * unsupported Content-Type 415 as `unsupported_media_type`), rendered in the CloudCheckr shape.
 */
export function cloudCheckrErrorHandler(): ErrorHandler<AppEnv> {
  return surfaceErrorHandler(renderCloudCheckrError);
}
