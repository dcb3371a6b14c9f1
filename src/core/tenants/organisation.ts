import type { Community } from "../../storage/ports";
import type { Scope, Services } from "../context";

/**
 * Sentinel's `corpId` names a customer organisation: a community of the tenant, given by id
 * or by name (TenantStore.findCommunity). Without a corpId the request's community applies.
 */
export async function findOrganisation(svc: Services, scope: Scope, corpId: string | undefined | null): Promise<Community | null> {
  if (corpId === undefined || corpId === null || corpId === "") return scope.community;
  if (typeof corpId !== "string" || corpId.length > 256) return null;
  if (corpId === scope.community.id || corpId === scope.community.name) return scope.community;
  return svc.tenants.findCommunity(scope.tenant.id, corpId);
}

/** The scope re-addressed to another community of the same tenant. */
export function scopeInCommunity(scope: Scope, community: Community): Scope {
  return community.id === scope.community.id ? scope : { ...scope, community };
}
