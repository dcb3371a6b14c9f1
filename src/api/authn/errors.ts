import type { Context } from "hono";
import type { AuthError } from "../../core/errors";
import { DEFAULT_STATUS, REASON_PHRASES } from "../../http/errors";

/** The HTTP status of a core error on the Authn API (seed 004 "Errors"). */
export function authnStatus(e: AuthError): number {
  switch (e.code) {
    case "invalid_grant":
    case "password_policy":
    case "unsupported_grant_type":
      return 400;
    case "invalid_credentials":
    case "invalid_token":
    case "token_revoked":
    case "invalid_client":
      return 401;
    case "password_reset_required":
    case "user_disabled":
    case "forbidden":
      return 403;
    case "tenant_not_found":
    case "not_configured":
      return 404;
    default:
      return DEFAULT_STATUS[e.code];
  }
}

/** Authn errors are `{statusCode, error, message}` (seed 004 "Errors": 4XX error response). */
export function renderAuthnError(c: Context, e: AuthError): Response {
  const status = authnStatus(e);
  return c.json({ statusCode: status, error: REASON_PHRASES[status] ?? "Error", message: e.message }, status as 400);
}
