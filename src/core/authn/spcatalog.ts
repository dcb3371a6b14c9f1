import type { SpCatalogItem, SpCatalogStore } from "../../storage/ports-authn";
import { AuthError } from "../errors";

/**
 * The Service Provider Catalog (seed 004): named templates of service providers a tenant can
 * instantiate. The document's paths carry no tenant, so items belong to the tenant of the
 * calling license; one tenant never sees or changes another's catalog.
 */
export const SP_CATALOG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The document's list shape: an object keyed by item name. */
export async function listCatalog(store: SpCatalogStore, tenantId: string): Promise<Record<string, SpCatalogItem>> {
  const out: Record<string, SpCatalogItem> = {};
  for (const item of await store.list(tenantId)) out[item.name] = item;
  return out;
}

/** Creates or replaces an item; answers `{"sp_catalog.<name>": item}` as the document shows. */
export async function putCatalogItem(store: SpCatalogStore, tenantId: string, item: SpCatalogItem): Promise<Record<string, SpCatalogItem>> {
  if (!SP_CATALOG_NAME.test(item.name)) throw new AuthError("invalid_request", "name: letters, digits, '.', '_' and '-' only, up to 128");
  let url: URL;
  try {
    url = new URL(item.sso_url);
  } catch {
    throw new AuthError("invalid_request", "sso_url: must be an absolute http(s) URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new AuthError("invalid_request", "sso_url: must be an absolute http(s) URL");
  await store.upsert(tenantId, item);
  return { [`sp_catalog.${item.name}`]: item };
}

/** Deletes a tenant's item by name; not_found when it has none by that name. */
export async function deleteCatalogItem(store: SpCatalogStore, tenantId: string, name: string): Promise<void> {
  if (!SP_CATALOG_NAME.test(name) || !(await store.remove(tenantId, name))) throw new AuthError("not_found", "service provider catalog item not found");
}
