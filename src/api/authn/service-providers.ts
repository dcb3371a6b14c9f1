import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AuthError } from "../../core/errors";
import { createFeaturedServiceProvider, isFeaturedType } from "../../core/service-providers/featured";
import { createServiceProvider, deleteServiceProvider, fetchServiceProviders, getServiceProvider, patchServiceProvider } from "../../core/service-providers/service-providers";
import type { ServiceProviderInput, ServiceProviderPatch } from "../../core/service-providers/types";
import { authnContext, authnPayload, authnRespond } from "../../http/authn-guard";
import { describeZodError } from "../../http/errors";
import type { AppEnv } from "../../http/types";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";
import { BoolLike, CreatePayload, FEATURED_CONFIGS, FeaturedPayload, PatchPayload, ServiceProviderView } from "./service-provider-schemas";

/**
 * Service Providers (seed 004): the applications that sign users in through a community.
 * Enveloped like the other Authn configuration routes the document shows that way
 * (`{"data": "<ecdsa_encrypted_data>"}`), license level system/service, community-scoped.
 * Behaviour is core/service-providers'.
 */
const IdParams = TenantCommunityParams.extend({
  id: z.string().min(1).max(1024).openapi({ param: { name: "id", in: "path" }, description: "_id, or saml_config.entityId, or oidc_config.client_id (URL-encoded)" }),
});
// The document's `{type}`. OpenAPI forbids two paths that differ only in a parameter's name
// (redocly no-identical-paths: this one and GET/PATCH/DELETE .../{id}), so it is declared
// `{id}` here; on the wire nothing differs.
const TypeParams = TenantCommunityParams.extend({
  id: z.string().max(64).openapi({ param: { name: "id", in: "path" }, description: "The featured type (the document's {type}): auth0, okta, salesforce, forgerock, gsuite, zendesk" }),
});

const common = { tag: "Service Providers", levels: SYSTEM_SERVICE, community: true } as const;

export const getServiceProviderRoute = authnRoute({
  ...common,
  operationId: "getServiceProvider",
  method: "get",
  path: "/tenant/{tenantId}/community/{communityId}/serviceprovider/{id}",
  summary: "Get Service Provider by ID or entityId or client_id",
  description: "Finds by _id, else by saml_config.entityId, else by oidc_config.client_id. 404 when none of the community's matches.",
  params: IdParams,
  answer: ServiceProviderView,
});
export const fetchServiceProvidersRoute = authnRoute({
  ...common,
  operationId: "getServiceProvidersList",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/serviceprovider/fetch",
  summary: "Get list of service providers",
  params: TenantCommunityParams,
  answer: z.array(ServiceProviderView),
});
export const createServiceProviderRoute = authnRoute({
  ...common,
  operationId: "createServiceProvider",
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/serviceprovider",
  summary: "Create Service Provider",
  description:
    "type oidc: send only oidc_config (OIDC Dynamic Client Registration names); a confidential client's secret is answered once, in oidc_config.client_secret. type saml: send only saml_config. 400 when the client_id or entityId is taken in the community.",
  params: TenantCommunityParams,
  payload: CreatePayload,
  answer: ServiceProviderView,
});
export const createFeaturedServiceProviderRoute = authnRoute({
  ...common,
  operationId: "createFeaturedServiceProvider",
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/serviceprovider/{id}",
  summary: "Create Service Provider for featured applications",
  description:
    "Creates a SAML service provider from the application's template; credentials in config are write-only (sealed, never answered). The registration at the vendor runs after the answer (featured.registration.status: pending, then registered or failed; manual for zendesk).",
  params: TypeParams,
  payload: FeaturedPayload,
  answer: ServiceProviderView,
});
export const patchServiceProviderRoute = authnRoute({
  ...common,
  operationId: "updateServiceProvider",
  method: "patch",
  path: "/tenant/{tenantId}/community/{communityId}/serviceprovider/{id}",
  summary: "Update Service Provider",
  description: "The given fields replace the stored ones (oidc_config / saml_config field by field); the result is validated whole. regenerate_secret: true answers a new client secret once.",
  params: IdParams,
  payload: PatchPayload,
  answer: ServiceProviderView,
});
export const deleteServiceProviderRoute = authnRoute({
  ...common,
  operationId: "deleteServiceProvider",
  method: "delete",
  path: "/tenant/{tenantId}/community/{communityId}/serviceprovider/{id}",
  summary: "Delete Service Provider",
  params: IdParams,
  payloadOptional: true,
  status: 204,
});

/**
 * A client_secret in the payload is refused rather than dropped with the other unknown fields:
 * an administrator who sends one must learn it was not set (secrets are generated).
 */
function refuseChosenSecret(c: Context<AppEnv>): void {
  const raw = authnContext(c).payload;
  const cfg = raw && typeof raw === "object" ? (raw as Record<string, unknown>).oidc_config : undefined;
  if (cfg && typeof cfg === "object" && "client_secret" in cfg) {
    throw new AuthError("invalid_request", "oidc_config.client_secret is generated by the service: leave it out (PATCH regenerate_secret: true for a new one)");
  }
}

const bool = (v: z.infer<typeof BoolLike> | undefined) => (v === undefined ? undefined : v === true || v === "true");

function toInput(p: z.infer<typeof CreatePayload>): ServiceProviderInput {
  const shared = { name: p.name, environment: p.environment ?? null, logo: p.logo ?? null, forceReauthentication: bool(p.forceReauthentication) ?? false };
  if (p.type === "oidc") {
    if (p.saml_config !== undefined) throw new AuthError("invalid_request", "type oidc: send only oidc_config");
    return { ...shared, type: "oidc", oidc_config: p.oidc_config };
  }
  if (p.oidc_config !== undefined) throw new AuthError("invalid_request", "type saml: send only saml_config");
  return { ...shared, type: "saml", saml_config: p.saml_config };
}

function toPatch(p: z.infer<typeof PatchPayload>): ServiceProviderPatch {
  const { forceReauthentication, ...rest } = p;
  const out = { ...rest } as ServiceProviderPatch;
  const force = bool(forceReauthentication);
  if (force !== undefined) out.forceReauthentication = force;
  return out;
}

export function registerServiceProviderRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(fetchServiceProvidersRoute, async (c) => authnRespond(c, await fetchServiceProviders(c.get("services"), c.get("scope"))) as never);

  app.openapi(getServiceProviderRoute, async (c) => authnRespond(c, await getServiceProvider(c.get("services"), c.get("scope"), c.req.param("id") ?? "")) as never);

  app.openapi(createServiceProviderRoute, async (c) => {
    const p = authnPayload(c, CreatePayload);
    refuseChosenSecret(c);
    return authnRespond(c, await createServiceProvider(c.get("services"), c.get("scope"), toInput(p))) as never;
  });

  app.openapi(createFeaturedServiceProviderRoute, async (c) => {
    const type = c.req.param("id") ?? "";
    const p = authnPayload(c, FeaturedPayload);
    if (!isFeaturedType(type)) throw new AuthError("invalid_request", `unknown type "${type.slice(0, 40)}": supported types are auth0, okta, salesforce, forgerock, gsuite, zendesk`);
    const config = FEATURED_CONFIGS[type].safeParse(p.config);
    if (!config.success) throw new AuthError("invalid_request", `config: ${describeZodError(config.error)}`);
    const view = await createFeaturedServiceProvider(c.get("services"), c.get("scope"), type, { name: p.name, domain: p.domain, ssoUrl: p.ssoUrl ?? null, config: config.data });
    return authnRespond(c, view) as never;
  });

  app.openapi(patchServiceProviderRoute, async (c) => {
    const p = authnPayload(c, PatchPayload);
    refuseChosenSecret(c);
    return authnRespond(c, await patchServiceProvider(c.get("services"), c.get("scope"), c.req.param("id") ?? "", toPatch(p))) as never;
  });

  app.openapi(deleteServiceProviderRoute, async (c) => {
    await deleteServiceProvider(c.get("services"), c.get("scope"), c.req.param("id") ?? "");
    return c.body(null, 204) as never;
  });
}
