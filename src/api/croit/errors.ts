import type { Context } from "hono";
import type { AuthError, AuthErrorCode } from "../../core/errors";

/**
 * croit errors follow OAuth 2.0 (RFC 6749 §5.2): `{error, error_description}`. Each core code
 * maps to an OAuth error code and an HTTP status; codes that OAuth does not name (not found,
 * upstream failure, lockout) keep the same shape with a descriptive `error`.
 */
const MAP: Record<AuthErrorCode, { error: string; status: number }> = {
  invalid_request: { error: "invalid_request", status: 400 },
  password_policy: { error: "invalid_request", status: 400 },
  // RFC 6749 §5.2: client authentication failed -> 401 with a WWW-Authenticate challenge.
  invalid_client: { error: "invalid_client", status: 401 },
  // Wrong resource-owner credentials, a password that must be changed first, a disabled user
  // or an unusable Okta ID token: the grant itself is not acceptable.
  invalid_credentials: { error: "invalid_grant", status: 400 },
  invalid_grant: { error: "invalid_grant", status: 400 },
  password_reset_required: { error: "invalid_grant", status: 400 },
  user_disabled: { error: "invalid_grant", status: 400 },
  unsupported_grant_type: { error: "unsupported_grant_type", status: 400 },
  // An authentic client that may not use this grant (RFC 6749 §5.2 unauthorized_client).
  forbidden: { error: "unauthorized_client", status: 400 },
  // Bearer token errors (RFC 6750 §3.1).
  invalid_token: { error: "invalid_token", status: 401 },
  token_revoked: { error: "invalid_token", status: 401 },
  not_found: { error: "not_found", status: 404 },
  not_configured: { error: "not_found", status: 404 },
  tenant_not_found: { error: "not_found", status: 404 },
  conflict: { error: "conflict", status: 409 },
  payload_too_large: { error: "invalid_request", status: 413 },
  // RFC 6749 §3.2 requires form-encoded token requests; any other Content-Type is malformed.
  unsupported_media_type: { error: "invalid_request", status: 415 },
  rate_limited: { error: "too_many_requests", status: 429 },
  // The Okta JWKS could not be fetched: the IdP, not the caller, is at fault.
  upstream_error: { error: "temporarily_unavailable", status: 502 },
  internal: { error: "server_error", status: 500 },
};

/** The Basic challenge realm sent with invalid_client (RFC 7617 §2). */
export const BASIC_REALM = "croit";

/** Renders a core error as croit's OAuth error body, with the challenge headers RFC 6749/6750 ask for. */
export function renderCroitError(c: Context, e: AuthError): Response {
  const { error, status } = MAP[e.code];
  const res = c.json({ error, error_description: e.message }, status as 400);
  if (e.code === "invalid_client") {
    res.headers.set("www-authenticate", `Basic realm="${BASIC_REALM}", charset="UTF-8"`);
  } else if (error === "invalid_token") {
    // RFC 6750 §3.1: a request without any credentials gets the bare challenge, no error code.
    const attempted = Boolean(c.req.header("authorization"));
    res.headers.set("www-authenticate", attempted ? `Bearer realm="${BASIC_REALM}", error="invalid_token"` : `Bearer realm="${BASIC_REALM}"`);
  }
  return res;
}

/** The error codes a croit response may carry, for the OpenAPI document. */
export const CROIT_ERROR_CODES = [...new Set(Object.values(MAP).map((m) => m.error))];
