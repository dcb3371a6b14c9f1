import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./types";
import { setAnswerHeaders } from "./answer-headers";

/**
 * Security headers on every answer of the Worker, errors and 404s included.
 *
 * - `X-Content-Type-Options: nosniff`: a browser must not guess an HTML type for a JSON or
 *   text body (WHATWG Fetch §X-Content-Type-Options).
 * - `Referrer-Policy: no-referrer`: URLs here can carry tokens or codes (the SSO callback, reset
 *   links); a page must not leak them to the sites it links to (W3C Referrer Policy §3.1).
 * - `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: any answer may be rendered by a
 *   browser (the /docs pages, a JSON body opened in a tab), and none may be framed: RFC 7034
 *   for older browsers, CSP Level 2 §7.7.3 for the rest. A response with its own CSP (the docs
 *   page) keeps it, with `frame-ancestors 'none'` added when it names none.
 * - `Strict-Transport-Security` in production only (RFC 6797 §7.2: sent over HTTPS; local
 *   `wrangler dev` speaks plain HTTP on localhost, where a pinned HSTS would break other
 *   local services). Two years with subdomains, the HSTS preload list's minimum.
 */
export const HSTS = "max-age=63072000; includeSubDomains";
const FRAME_ANCESTORS = "frame-ancestors 'none'";

/** Whether this deployment is production, read from the binding itself so that even a misconfigured Worker (no services) sends HSTS. */
function isProduction(env: AppEnv["Bindings"] | undefined): boolean {
  return (env?.ENVIRONMENT ?? "production") !== "development";
}

export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const csp = c.res.headers.get("content-security-policy");
  const entries: [string, string][] = [
    ["x-content-type-options", "nosniff"],
    ["referrer-policy", "no-referrer"],
    ["x-frame-options", "DENY"],
  ];
  if (!csp) entries.push(["content-security-policy", FRAME_ANCESTORS]);
  else if (!/(^|;)\s*frame-ancestors\s/i.test(csp)) entries.push(["content-security-policy", `${csp}; ${FRAME_ANCESTORS}`]);
  if (isProduction(c.env)) entries.push(["strict-transport-security", HSTS]);
  // In place (a Response from fetch() or a redirect is copied once): http/answer-headers.ts.
  setAnswerHeaders(c, entries);
};
