import type { MiddlewareHandler } from "hono";
import { AuthError } from "../../core/errors";
import { publicOrigin } from "../../core/tenants/public-origin";
import { communityIssuer } from "../../protocols/oidc/discovery";
import { requestAddress } from "../../http/request-address";
import { hostBinding, scopeFor } from "../../http/tenant";
import type { AppEnv } from "../../http/types";

/**
 * Tenant and community resolution for `/oidc/:communityId/*` (every community is a provider):
 * the community named in the path selects its tenant; when the request's Host is one of the
 * deployment's bound domains it must be that tenant's, so one tenant's hostname never serves
 * another tenant's provider. Sets `scope` and `oidcIssuer`: `<public origin>/oidc/<id>`,
 * the origin from the tenant's bound hostnames (core/tenants/public-origin.ts), never from an
 * unbound Host. An unknown community, a foreign Host and a tenant with no hostname are all the
 * same 404. Exported for the hosted login (web/), which resolves its pages the same way.
 */
const CACHE_MS = 10_000;
const CACHE_MAX = 1000;
/** community id -> its tenant id (or null): communities never move between tenants. */
const tenantOfCommunity = new Map<string, { at: number; tenantId: string | null }>();

/** Drops cached community look-ups (tests). */
export function forgetProviderCommunities(): void {
  tenantOfCommunity.clear();
}

async function communityTenant(c: Parameters<MiddlewareHandler<AppEnv>>[0], communityId: string): Promise<string | null> {
  const hit = tenantOfCommunity.get(communityId);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.tenantId;
  const community = await c.get("services").tenants.getCommunity(communityId);
  if (tenantOfCommunity.size >= CACHE_MAX) tenantOfCommunity.clear();
  tenantOfCommunity.set(communityId, { at: Date.now(), tenantId: community?.tenantId ?? null });
  return community?.tenantId ?? null;
}

export const providerScope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const notFound = () => new AuthError("not_found", "no OpenID Provider here");
  const communityId = c.req.param("communityId") ?? "";
  if (!/^[A-Za-z0-9._~-]{1,128}$/.test(communityId)) throw notFound();
  const [tenantId, binding] = await Promise.all([communityTenant(c, communityId), hostBinding(c)]);
  if (!tenantId || (binding && binding.tenantId !== tenantId)) throw notFound();
  let scope;
  try {
    scope = await scopeFor(c, tenantId, communityId);
  } catch (e) {
    if (e instanceof AuthError) throw notFound();
    throw e;
  }
  const origin = await publicOrigin(c.get("services"), tenantId, requestAddress(c));
  if (!origin) throw notFound();
  c.set("scope", scope);
  c.set("oidcIssuer", communityIssuer(origin, communityId));
  await next();
};
