import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AuthError } from "../../core/errors";
import { cloudcheckrMetadata, startCloudCheckrLogin, startCloudCheckrLogout } from "../../core/external-idps/cloudcheckr";
import type { StartedLogin } from "../../core/external-idps/start-login";
import { publicOrigin } from "../../core/tenants/public-origin";
import { requestAddress } from "../../http/request-address";
import { resolveTenantByHost } from "../../http/tenant";
import type { AppEnv } from "../../http/types";
import { escapeAttr } from "../../protocols/saml/xml";
import { ErrorResponse } from "./schemas";

/**
 * CloudCheckr's SAML SP routes that start something (seed 001): `saml/login` (GET, and POST as
 * the document's curl shows), `saml/logout`, `saml/metadata`. Thin adapter over
 * core/external-idps/cloudcheckr.ts; the ACS and SLS are src/api/cloudcheckr/saml-acs.ts.
 */

const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorResponse } } });
const ReturnQuery = z.object({
  return_url: z.string().max(2048).optional().openapi({ description: "Where to return afterwards: must fall under one of the tenant's allowed return URLs (400 otherwise). If not specified, inferred from the Referer header when that is allowed, else the dashboard." }),
});
const redirect = { description: "To the IdP (HTTP-Redirect binding): Location carries the AuthnRequest" };
const common = { 400: err("return_url is not an allowed return URL"), 404: err("No tenant is bound to this host, or SAML is not configured for it (`not_configured`)") };

const loginSpec = (method: "get" | "post") =>
  createRoute({
    method,
    path: "/saml/login",
    operationId: method === "get" ? "samlLogin" : "samlLoginPost",
    summary: "Initiate SAML login request",
    description: "Redirects to the SAML Identity Provider's SSO URL (302), or for an IdP on the HTTP-POST binding answers a form that posts the AuthnRequest there. After the login the IdP posts to /v1/auth/saml/acs.",
    middleware: resolveTenantByHost,
    request: { query: ReturnQuery },
    responses: { 200: { description: "HTTP-POST binding: the form to the IdP", content: { "text/html": { schema: z.string() } } }, 302: redirect, ...common },
  });
export const samlLoginRoute = loginSpec("get");
export const samlLoginPostRoute = loginSpec("post");

export const samlLogoutRoute = createRoute({
  method: "get",
  path: "/saml/logout",
  operationId: "samlLogout",
  summary: "Initiate SAML logout request",
  description: "Redirects to the SAML Identity Provider's SLO URL with an opaque RelayState; the return URL is kept server-side for /v1/auth/saml/sls.",
  middleware: resolveTenantByHost,
  request: { query: ReturnQuery },
  responses: { 302: { description: "To the IdP's SingleLogoutService" }, ...common },
});

export const samlMetadataRoute = createRoute({
  method: "get",
  path: "/saml/metadata",
  operationId: "samlMetadata",
  summary: "Entity ID endpoint: our SP metadata",
  description: "SAML 2.0 metadata (SPSSODescriptor) of the tenant's CloudCheckr SP: entityID, ACS, SLS, signing/encryption certificate.",
  middleware: resolveTenantByHost,
  responses: { 200: { description: "EntityDescriptor", content: { "application/samlmetadata+xml": { schema: z.string() } } }, 404: common[404] },
});

async function origin(c: Context<AppEnv>): Promise<string> {
  const o = await publicOrigin(c.get("services"), c.get("scope").tenant.id, requestAddress(c));
  if (!o) throw new AuthError("not_configured", "this tenant has no public address");
  return o;
}

/** The HTTP-POST binding's form (Bindings §3.5.4): a button rather than script, as the hosted pages have none. */
function postForm(s: StartedLogin): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in</title></head><body>` +
    `<form method="post" action="${escapeAttr(s.url)}">` +
    `<input type="hidden" name="SAMLRequest" value="${escapeAttr(s.samlRequest)}">` +
    (s.relayState !== null ? `<input type="hidden" name="RelayState" value="${escapeAttr(s.relayState)}">` : "") +
    `<button type="submit">Continue to sign in</button></form></body></html>`
  );
}

export function registerCloudCheckrSamlRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const route of [samlLoginRoute, samlLoginPostRoute]) {
    app.openapi(route, async (c) => {
      const { return_url } = c.req.valid("query");
      const referer = c.req.header("referer");
      const started = await startCloudCheckrLogin(c.get("services"), c.get("scope"), await origin(c), { ...(return_url ? { returnUrl: return_url } : {}), ...(referer ? { referer } : {}) });
      c.header("cache-control", "no-store");
      if (started.binding === "HTTP-POST") return c.html(postForm(started), 200) as never;
      return c.redirect(started.url, 302) as never;
    });
  }
  app.openapi(samlLogoutRoute, async (c) => {
    const { return_url } = c.req.valid("query");
    const referer = c.req.header("referer");
    const url = await startCloudCheckrLogout(c.get("services"), c.get("scope"), { ...(return_url ? { returnUrl: return_url } : {}), ...(referer ? { referer } : {}) });
    return c.redirect(url, 302) as never;
  });
  app.openapi(samlMetadataRoute, async (c) => {
    const xml = await cloudcheckrMetadata(c.get("services"), c.get("scope"), await origin(c));
    return c.body(xml, 200, { "content-type": "application/samlmetadata+xml; charset=utf-8" }) as never;
  });
}
