import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCatalogItem, listCatalog, putCatalogItem } from "../../core/authn/spcatalog";
import { authnContext, authnPayload, authnRespond } from "../../http/authn-guard";
import { resolveTenantByHost } from "../../http/tenant";
import type { AppEnv } from "../../http/types";
import { authnRoute, SYSTEM_SERVICE } from "./endpoint-kit";

/**
 * Service Provider Catalog (seed 004): list, create or update an item, delete one. The paths
 * name no tenant: items belong to the calling license's tenant. The document allows `system`
 * on all three routes, so a deployment-wide system license (no tenant) is accepted too and
 * works on the tenant the request's Host names (a bound domain, else DEFAULT_TENANT), the
 * way every tenant-less path finds its tenant (DESIGN.md); no tenant there: 404. The
 * document shows plain JSON bodies and answers here.
 */
export const CatalogItem = z
  .object({
    name: z.string().min(1).max(128),
    logo: z.string().min(1).max(65_536),
    sso_url: z.string().min(1).max(2048),
    template: z.string().min(1).max(65_536),
    type: z.string().max(64).optional(),
    description: z.string().max(4096).optional(),
  })
  .openapi("SpCatalogItem");

const NameParams = z.object({ name: z.string().max(128).openapi({ param: { name: "name", in: "path" }, description: "Name of the item" }) });

export const listCatalogRoute = authnRoute({
  operationId: "getServiceProviderCatalogItems",
  form: "plain",
  method: "get",
  path: "/spcatalog/list",
  summary: "Get list of service provider catalog items",
  tag: "Service Provider Catalog",
  levels: SYSTEM_SERVICE,
  community: false,
  answer: z.record(z.string(), CatalogItem),
});
export const putCatalogRoute = authnRoute({
  operationId: "createOrUpdateServiceProviderCatalogItem",
  form: "plain",
  method: "put",
  path: "/spcatalog/item",
  summary: "Create or update Service Provider Catalog item",
  description: "Required: name, logo, sso_url (absolute http(s) URL), template. Answers {\"sp_catalog.<name>\": item}.",
  tag: "Service Provider Catalog",
  levels: "any",
  community: false,
  payload: CatalogItem,
  answer: z.record(z.string(), CatalogItem),
});
export const deleteCatalogRoute = authnRoute({
  operationId: "deleteServiceProviderCatalogItem",
  form: "plain",
  method: "delete",
  path: "/spcatalog/item/{name}",
  summary: "Delete Service Provider Catalog item",
  tag: "Service Provider Catalog",
  levels: SYSTEM_SERVICE,
  community: false,
  params: NameParams,
  status: 204,
});

/** The tenant whose catalog this request addresses: the license's, or for a deployment-wide license the Host's. */
async function catalogTenant(c: Context<AppEnv>): Promise<string> {
  const own = authnContext(c).license.tenantId;
  if (own) return own;
  // resolveTenantByHost sets `scope` from the Host (domains table, then DEFAULT_TENANT) or
  // throws tenant_not_found (404).
  await resolveTenantByHost(c, async () => {});
  return c.get("scope").tenant.id;
}

export function registerSpCatalogRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listCatalogRoute, async (c) => authnRespond(c, await listCatalog(c.get("services").authnConfig.spCatalog, await catalogTenant(c))) as never);

  app.openapi(putCatalogRoute, async (c) => {
    const p = authnPayload(c, CatalogItem);
    const item = {
      name: p.name,
      logo: p.logo,
      sso_url: p.sso_url,
      template: p.template,
      ...(p.type !== undefined ? { type: p.type } : {}),
      ...(p.description !== undefined ? { description: p.description } : {}),
    };
    return authnRespond(c, await putCatalogItem(c.get("services").authnConfig.spCatalog, await catalogTenant(c), item)) as never;
  });

  app.openapi(deleteCatalogRoute, async (c) => {
    await deleteCatalogItem(c.get("services").authnConfig.spCatalog, await catalogTenant(c), c.req.param("name") ?? "");
    return c.body(null, 204) as never;
  });
}
