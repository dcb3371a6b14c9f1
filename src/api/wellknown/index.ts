import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../../http/types";
import { resolveTenantByHost } from "../../http/tenant";
import { tenantIssuer } from "../../core/tenants/settings";
import { publicOrigin } from "../../core/tenants/public-origin";
import { requestAddress } from "../../http/request-address";
import { AuthError } from "../../core/errors";
import { DEFAULT_STATUS } from "../../http/errors";
import { providerDiscovery, providerScope } from "../oidc";

/**
 * Standard endpoints shared by all surfaces. The JWKS is per deployment (every tenant's tokens
 * are signed by the deployment's keyring); discovery is per tenant (its issuer).
 */
export const wellknown = new Hono<AppEnv>();

// A Host bound to no tenant (tenant resolution throws) is a 404, not the app's generic 500.
wellknown.onError((err, c) => {
  if (err instanceof AuthError) return c.json({ error: err.code, message: err.message }, DEFAULT_STATUS[err.code] as ContentfulStatusCode);
  throw err;
});

wellknown.get("/jwks.json", async (c) => {
  const jwks = await c.get("services").keyring.jwks();
  c.header("cache-control", "public, max-age=300");
  return c.json(jwks);
});

wellknown.get("/openid-configuration", resolveTenantByHost, async (c) => {
  const scope = c.get("scope");
  // From the tenant's bound hostnames, never the Host header (core/tenants/public-origin.ts).
  const origin = await publicOrigin(c.get("services"), scope.tenant.id, requestAddress(c));
  if (!origin) return c.json({ error: "not_configured", message: "the tenant has no bound hostname to publish its keys under" }, 404);
  return c.json({
    issuer: tenantIssuer(scope.tenant.id, scope.settings),
    jwks_uri: `${origin}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: ["ES256"],
    token_endpoint_auth_methods_supported: ["client_secret_basic"],
    grant_types_supported: ["client_credentials", "password", "refresh_token"],
    response_types_supported: ["token"],
    subject_types_supported: ["public"],
  });
});

// RFC 8414 §3.1: an OAuth client finds a provider whose issuer has a path by inserting the
// well-known segment before it; each community's provider (api/oidc) is also found this way.
wellknown.get("/oauth-authorization-server/oidc/:communityId", providerScope, providerDiscovery);
wellknown.get("/openid-configuration/oidc/:communityId", providerScope, providerDiscovery);
