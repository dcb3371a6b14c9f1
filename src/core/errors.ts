/**
 * The stable error codes of the identity core. Core never picks an HTTP status: each API
 * surface maps these codes to its own document's error shape (src/api/<surface>/errors.ts).
 */
export type AuthErrorCode =
  | "invalid_request" // malformed or missing input
  | "invalid_credentials" // wrong username/password/secret; same for unknown users
  | "invalid_token" // bad signature, expired, wrong type, unknown
  | "token_revoked" // the token's session was revoked
  | "invalid_grant" // refresh token / code / session unknown, used, or expired
  | "unsupported_grant_type"
  | "invalid_client" // client authentication failed
  | "password_reset_required" // the user must set a new password first
  | "password_policy" // proposed password breaks the tenant's rules
  | "user_disabled"
  | "forbidden" // authenticated but not allowed
  | "not_found"
  | "conflict"
  | "rate_limited"
  | "payload_too_large"
  | "unsupported_media_type" // a body whose Content-Type the route does not accept
  | "tenant_not_found"
  | "not_configured" // a feature the tenant has not configured
  | "upstream_error" // an external IdP misbehaved
  | "internal";

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  /** Seconds to wait, for rate_limited. */
  readonly retryAfter: number | undefined;

  constructor(code: AuthErrorCode, message: string, opts: { retryAfter?: number } = {}) {
    super(message);
    this.name = "AuthError";
    this.code = code;
    this.retryAfter = opts.retryAfter;
  }
}

export function isAuthError(e: unknown): e is AuthError {
  return e instanceof AuthError;
}
