import { AuthError, type AuthErrorCode } from "../errors";

/**
 * OAuth error codes (RFC 6749 §5.2, RFC 6750 §3.1) that the core's AuthError codes do not
 * name. They travel as an AuthError subclass so every other layer (limits, audit, generic
 * handlers) still sees an ordinary core error with the nearest core code; only api/oidc's
 * renderer reads `oauthCode`.
 */
export type ProviderErrorCode = "unauthorized_client" | "invalid_scope" | "insufficient_scope";

const BASE: Record<ProviderErrorCode, AuthErrorCode> = {
  unauthorized_client: "forbidden",
  invalid_scope: "invalid_request",
  insufficient_scope: "forbidden",
};

export class ProviderError extends AuthError {
  constructor(
    readonly oauthCode: ProviderErrorCode,
    message: string,
  ) {
    super(BASE[oauthCode], message);
    this.name = "ProviderError";
  }
}
