import type { Context, MiddlewareHandler } from "hono";
import type { Scope } from "../core/context";
import { AuthError } from "../core/errors";
import { publicOrigin } from "../core/tenants/public-origin";
import { communityIssuer } from "../protocols/oidc/discovery";
import { requestAddress } from "./request-address";
import { hostBinding, scopeFor } from "./tenant";
import type { AppEnv } from "./types";

/**
 * Tenant and community resolution for `/oidc/:communityId/*` (every community is a provider):
 * the community named in the path selects its tenant; when the request's Host is one of the
 * deployment's bound domains it must be that tenant's, so one tenant's hostname never serves
 * another tenant's provider. Sets `scope` and `oidcIssuer`: `<public origin>/oidc/<id>`,
 * the origin from the tenant's bound hostnames (core/tenants/public-origin.ts), never from an
 * unbound Host. An unknown community, a foreign Host and a tenant with no hostname are all the
 * same 404. Used by both channels: the back channel's routes (providerScope) and the hosted login (web/).
 */
const CACHE_MS = 10_000;
const CACHE_MAX = 1000;
/** community id -> its tenant id (or null): communities never move between tenants. */
const tenantOfCommunity = new Map<string, { at: number; tenantId: string | null }>();

/** Drops cached community look-ups (tests). */
export function forgetProviderCommunities(): void {
  tenantOfCommunity.clear();
}

async function communityTenant(c: Context<AppEnv>, communityId: string): Promise<string | null> {
  const hit = tenantOfCommunity.get(communityId);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.tenantId;
  const community = await c.get("services").tenants.getCommunity(communityId);
  if (tenantOfCommunity.size >= CACHE_MAX) tenantOfCommunity.clear();
  tenantOfCommunity.set(communityId, { at: Date.now(), tenantId: community?.tenantId ?? null });
  return community?.tenantId ?? null;
}

/** The provider a request on `/oidc/<communityId>` addresses, or null (unknown, foreign Host, no public origin). */
export async function resolveProvider(c: Context<AppEnv>, communityId: string): Promise<{ scope: Scope; issuer: string } | null> {
  if (!/^[A-Za-z0-9._~-]{1,128}$/.test(communityId)) return null;
  const [tenantId, binding] = await Promise.all([communityTenant(c, communityId), hostBinding(c)]);
  if (!tenantId || (binding && binding.tenantId !== tenantId)) return null;
  let scope: Scope;
  try {
    scope = await scopeFor(c, tenantId, communityId);
  } catch (e) {
    if (e instanceof AuthError) return null;
    throw e;
  }
  const origin = await publicOrigin(c.get("services"), tenantId, requestAddress(c));
  return origin ? { scope, issuer: communityIssuer(origin, communityId) } : null;
}

/** Middleware of the back channel's routes: sets `scope` and `oidcIssuer`, or answers 404. */
export const providerScope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const p = await resolveProvider(c, c.req.param("communityId") ?? "");
  if (!p) throw new AuthError("not_found", "no OpenID Provider here");
  c.set("scope", p.scope);
  c.set("oidcIssuer", p.issuer);
  await next();
};
