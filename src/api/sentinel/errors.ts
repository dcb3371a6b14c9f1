import type { Context } from "hono";
import type { AuthError } from "../../core/errors";
import { DEFAULT_STATUS, REASON_PHRASES } from "../../http/errors";

/**
 * Sentinel errors: the document shows none, and Sentinel is a Spring Boot service, so errors
 * use Spring Boot's error body `{timestamp, status, error, message, path}` that its clients
 * already parse, plus `code`, the stable core error code.
 */

export function sentinelStatus(e: AuthError): number {
  if (e.code === "invalid_grant" || e.code === "password_policy") return 400;
  return DEFAULT_STATUS[e.code];
}

export function renderSentinelError(c: Context, e: AuthError): Response {
  const status = sentinelStatus(e);
  const body = {
    timestamp: new Date().toISOString(),
    status,
    error: REASON_PHRASES[status] ?? "Error",
    code: e.code,
    message: e.message,
    path: new URL(c.req.url).pathname,
  };
  const res = c.json(body, status as 400);
  // RFC 6750 §3: a 401 on a bearer-protected resource names the scheme.
  if (status === 401 && (e.code === "invalid_token" || e.code === "token_revoked")) res.headers.set("www-authenticate", 'Bearer error="invalid_token"');
  return res;
}
