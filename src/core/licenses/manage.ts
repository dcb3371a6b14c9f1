import type { Community, Tenant } from "../../storage/ports";
import type { License, LicenseLevel, LicenseStore } from "../../storage/ports-licenses";
import type { Services } from "../context";
import { AuthError } from "../errors";
import { provisionTenant } from "../tenants/provision";
import { BOOTSTRAP_LICENSE_ID, createLicense } from "./licenses";

/**
 * The management operations behind the Authn management API (the document has none; see
 * docs/api/authn.md "Management API"): tenants, communities and licenses. Callers are system
 * licenses only (the surface's guard decides); every change is audited with the acting license.
 */
export interface Actor {
  licenseId: string;
  /** The acting license's tenant; only deployment-wide licenses (null) may manage. */
  tenantId: string | null;
  ip: string;
}

/**
 * Management is reserved to deployment-wide system licenses: a system license issued to one
 * tenant must not create tenants or issue licenses for others.
 */
export function requireOperator(actor: Actor): void {
  if (actor.tenantId !== null) throw new AuthError("forbidden", "only a deployment-wide system license may use the management API");
}

function audit(svc: Services, tenantId: string, type: string, actor: Actor, detail: Record<string, unknown>): void {
  svc.defer(
    svc.audit
      .record({ tenantId, type, actorId: `license:${actor.licenseId}`, ip: actor.ip, detail })
      .catch((err: unknown) => console.error("audit write failed", type, err instanceof Error ? err.message : err)),
  );
}

export interface CreateTenantInput {
  tenantId?: string;
  name: string;
  communityId?: string;
  communityName: string;
  hostnames?: string[];
  settings?: Record<string, unknown>;
}

/** Creates a tenant with its first community (core provisioning; idempotent on the tenant id). */
export async function manageCreateTenant(svc: Services, actor: Actor, input: CreateTenantInput): Promise<{ tenant: Tenant; community: Community; created: boolean }> {
  requireOperator(actor);
  if (input.tenantId && (await svc.tenants.getTenant(input.tenantId))) throw new AuthError("conflict", "tenant already exists");
  const r = await provisionTenant(svc, input);
  audit(svc, r.tenant.id, "admin_tenant_created", actor, { communityId: r.community.id, hostnames: input.hostnames ?? [] });
  return r;
}

/** Adds a community to a tenant; names are unique per tenant. */
export async function manageCreateCommunity(svc: Services, actor: Actor, tenantId: string, input: { communityId?: string; name: string }): Promise<Community> {
  requireOperator(actor);
  const tenant = await svc.tenants.getTenant(tenantId);
  if (!tenant) throw new AuthError("not_found", "unknown tenant");
  if (await svc.tenants.findCommunity(tenantId, input.name)) throw new AuthError("conflict", "a community with this name exists");
  if (input.communityId && (await svc.tenants.getCommunity(input.communityId))) throw new AuthError("conflict", "community id is taken");
  const community = await svc.tenants.createCommunity({ ...(input.communityId ? { id: input.communityId } : {}), tenantId, name: input.name });
  audit(svc, tenantId, "admin_community_created", actor, { communityId: community.id });
  return community;
}

export interface IssueLicenseInput {
  /** Null: a deployment-wide system license. */
  tenantId: string | null;
  authLevel: LicenseLevel;
  communities: string[];
  name?: string;
  expiresAt?: number | null;
}

/** Issues a license; its key is answered once. The communities must belong to the tenant. */
export async function manageIssueLicense(svc: Services, store: LicenseStore, actor: Actor, input: IssueLicenseInput): Promise<{ license: License; licenseKey: string }> {
  requireOperator(actor);
  if (input.tenantId !== null) {
    if (!(await svc.tenants.getTenant(input.tenantId))) throw new AuthError("not_found", "unknown tenant");
    for (const id of input.communities) {
      if (id === "*") continue;
      const c = await svc.tenants.getCommunity(id);
      if (!c || c.tenantId !== input.tenantId) throw new AuthError("invalid_request", `community ${id} is not a community of this tenant`);
    }
  } else if (input.communities.length > 0 && !(input.communities.length === 1 && input.communities[0] === "*")) {
    throw new AuthError("invalid_request", "a deployment-wide license cannot name communities");
  }
  const r = await createLicense(store, input);
  audit(svc, input.tenantId ?? "*", "admin_license_created", actor, { licenseId: r.license.id, authLevel: r.license.authLevel });
  return r;
}

/** Lists a tenant's licenses (null: the deployment-wide ones). */
export async function manageListLicenses(store: LicenseStore, actor: Actor, tenantId: string | null): Promise<License[]> {
  requireOperator(actor);
  return store.list(tenantId);
}

/** Disables or re-enables a license (refused everywhere within LICENSE_CACHE_MS). */
export async function manageSetLicenseDisabled(svc: Services, store: LicenseStore, actor: Actor, id: string, disabled: boolean): Promise<License> {
  requireOperator(actor);
  if (id === BOOTSTRAP_LICENSE_ID) throw new AuthError("invalid_request", "the bootstrap license is a Worker secret: rotate the secret instead");
  const license = await store.byId(id);
  if (!license) throw new AuthError("not_found", "unknown license");
  await store.setDisabled(id, disabled);
  audit(svc, license.tenantId ?? "*", disabled ? "admin_license_disabled" : "admin_license_enabled", actor, { licenseId: id });
  return { ...license, disabled };
}
