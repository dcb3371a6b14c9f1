import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AuthError } from "../../core/errors";
import { ProviderError } from "../../core/oidc-provider/errors";
import type { AppEnv } from "../../http/types";

/**
 * The provider's error shape: RFC 6749 §5.2 `{error, error_description}` (the token,
 * revocation and introspection endpoints), RFC 6750 §3 for userinfo (WWW-Authenticate: Bearer),
 * and the same JSON for discovery, JWKS and an unknown community (404). Every answer is
 * no-store (RFC 6749 §5.1).
 */
interface OAuthMapping {
  error: string;
  status: ContentfulStatusCode;
}

const MAP: Partial<Record<AuthError["code"], OAuthMapping>> = {
  invalid_request: { error: "invalid_request", status: 400 },
  invalid_grant: { error: "invalid_grant", status: 400 },
  unsupported_grant_type: { error: "unsupported_grant_type", status: 400 },
  invalid_client: { error: "invalid_client", status: 401 },
  invalid_token: { error: "invalid_token", status: 401 },
  token_revoked: { error: "invalid_token", status: 401 },
  invalid_credentials: { error: "invalid_client", status: 401 },
  forbidden: { error: "unauthorized_client", status: 400 },
  user_disabled: { error: "invalid_grant", status: 400 },
  rate_limited: { error: "slow_down", status: 429 },
  payload_too_large: { error: "invalid_request", status: 413 },
  unsupported_media_type: { error: "invalid_request", status: 400 },
  tenant_not_found: { error: "not_found", status: 404 },
  not_found: { error: "not_found", status: 404 },
  not_configured: { error: "not_found", status: 404 },
  upstream_error: { error: "temporarily_unavailable", status: 503 },
};

const PROVIDER_STATUS: Record<ProviderError["oauthCode"], ContentfulStatusCode> = {
  unauthorized_client: 400,
  invalid_scope: 400,
  insufficient_scope: 403,
};

export function oauthMapping(e: AuthError): OAuthMapping {
  if (e instanceof ProviderError) return { error: e.oauthCode, status: PROVIDER_STATUS[e.oauthCode] };
  return MAP[e.code] ?? { error: "server_error", status: 500 };
}

/** An RFC 6750 §3 quoted-string value: no quotes or backslashes, printable ASCII only. */
function quoted(s: string): string {
  return s.replace(/[^\x20-\x7e]|["\\]/g, "");
}

/** Renders a core error as the OAuth error body. */
export function renderOAuthError(c: Context<AppEnv>, e: AuthError): Response {
  const m = oauthMapping(e);
  const description = m.status === 500 ? "internal error" : e.message;
  c.header("cache-control", "no-store");
  c.header("pragma", "no-cache");
  const path = c.req.path;
  if (path.endsWith("/userinfo") && (m.status === 401 || m.status === 403)) {
    // RFC 6750 §3.1: the challenge names the error; a request with no token at all gets none.
    const noToken = !c.req.header("authorization");
    c.header("www-authenticate", noToken ? `Bearer realm="${quoted(c.get("oidcIssuer") ?? "oidc")}"` : `Bearer error="${m.error}", error_description="${quoted(description)}"`);
  } else if (m.status === 401 && /^Basic\s/i.test(c.req.header("authorization") ?? "")) {
    // RFC 6749 §5.2: invalid_client after an attempt through the Authorization header.
    c.header("www-authenticate", `Basic realm="${quoted(c.get("oidcIssuer") ?? "oidc")}", charset="UTF-8"`);
  }
  return c.json({ error: m.error, error_description: description }, m.status);
}
