import type { Context, MiddlewareHandler } from "hono";
import type { Scope } from "../core/context";
import type { CorsSettings } from "../core/tenants/settings";
import { resolveTenantByHost } from "./tenant";
import { setAnswerHeaders } from "./answer-headers";
import type { AppEnv } from "./types";

/**
 * CORS for the token and password surfaces (/v1, /api/auth, /v1.0/auth, /v1/auth), per tenant
 * (settings `cors`, src/core/tenants/settings.ts). Fetch Standard §3.2 (CORS protocol):
 *  - a preflight (OPTIONS with Origin and Access-Control-Request-Method) to a known tenant is
 *    answered here with 204; from an allowed origin it carries Allow-Origin (the exact origin,
 *    never `*`), Allow-Methods, the requested headers that are on SAFE_HEADERS, Max-Age and,
 *    when configured, Allow-Credentials; from any other origin it carries no Access-Control-
 *    Allow-* header at all, so the browser refuses the actual request;
 *  - an actual request from an allowed origin gets Allow-Origin, Expose-Headers (Retry-After,
 *    WWW-Authenticate: error answers must stay readable) and Allow-Credentials when configured,
 *    error responses included; any other request gets nothing added.
 * Responses that depend on Origin say so with `Vary: Origin`. Requests without Origin (servers,
 * curl) pass untouched and cost nothing. An unknown host is left to the surface (its 404).
 * Not mounted on /authn (server-to-server envelope API) nor on /dev.
 */
const ALLOW_METHODS = "GET, POST, PUT, PATCH";
/** Request headers a browser may send cross-origin: what these surfaces read, and no more. */
// x-d1-bookmark: the opt-in read-your-writes bookmark (http/d1-bookmark.ts).
const SAFE_HEADERS = new Set(["authorization", "content-type", "accept", "accept-language", "content-language", "x-requested-with", "x-d1-bookmark"]);
const EXPOSE_HEADERS = "Retry-After, WWW-Authenticate, x-d1-bookmark";

/** The tenant's CORS settings when `origin` is one of its allowed origins (exact string match). */
function allowed(settings: CorsSettings | undefined, origin: string): CorsSettings | null {
  if (!settings || origin === "null") return null;
  return settings.allowedOrigins.includes(origin) ? settings : null;
}

/** The scope of the request's host, or null for an unknown host or a failed lookup (the surface answers those). */
async function scopeOfHost(c: Context<AppEnv>): Promise<Scope | null> {
  let scope: Scope | null = null;
  try {
    await resolveTenantByHost(c, async () => {
      scope = c.get("scope");
    });
  } catch {
    return null;
  }
  return scope;
}

/** A Vary value that names Origin: `vary` as it is when it already does (or is `*`). */
function withOrigin(vary: string | null): string {
  if (!vary) return "Origin";
  return vary.split(",").some((v) => v.trim().toLowerCase() === "origin" || v.trim() === "*") ? vary : `${vary}, Origin`;
}

function preflight(c: Context<AppEnv>, cors: CorsSettings | null, origin: string): Response {
  const headers = new Headers({ vary: "Origin" });
  if (cors) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-methods", ALLOW_METHODS);
    const requested = (c.req.header("access-control-request-headers") ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => SAFE_HEADERS.has(h));
    if (requested.length > 0) headers.set("access-control-allow-headers", [...new Set(requested)].join(", "));
    headers.set("access-control-max-age", String(cors.maxAgeSeconds));
    if (cors.allowCredentials) headers.set("access-control-allow-credentials", "true");
  }
  return new Response(null, { status: 204, headers });
}

/** The CORS middleware; mount it before the surfaces it covers (src/app.ts). */
export const cors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origin = c.req.header("origin");
  if (!origin) return next();

  if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
    const scope = await scopeOfHost(c);
    if (!scope) return next();
    return preflight(c, allowed(scope.settings.cors, origin), origin);
  }

  await next();
  // The surface has resolved the tenant by now (even when the route then failed with a 401);
  // a route without tenant resolution (CloudCheckr's ping) is resolved here.
  const scope = (c.get("scope") as Scope | undefined) ?? (await scopeOfHost(c));
  const cors = scope ? allowed(scope.settings.cors, origin) : null;
  if (!cors) return;
  // In place (a response passed through from fetch is copied once): http/answer-headers.ts.
  const entries: [string, string][] = [
    ["access-control-allow-origin", origin],
    ["vary", withOrigin(c.res.headers.get("vary"))],
    ["access-control-expose-headers", EXPOSE_HEADERS],
  ];
  if (cors.allowCredentials) entries.push(["access-control-allow-credentials", "true"]);
  setAnswerHeaders(c, entries);
};
