import type { Community, DomainBinding, Tenant } from "../../storage/ports";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { requireOperator, type Actor } from "../licenses/manage";
import { isValidHostname } from "./provision";
import { readTenantSettings, tenantSettingsSchema } from "./settings";

/**
 * Changing a tenant's settings and custom domains after provisioning (the Authn management
 * API, docs/api/authn.md "Management API"). Deployment-wide system licenses only; each change
 * is audited with the changed paths, never the values (settings hold secrets' digests).
 *
 * Caching: the HTTP layer drops this isolate's tenant cache after a change; other isolates keep
 * serving the previous settings and domain bindings until their cache entry expires (10 s,
 * src/http/tenant.ts).
 */

/** Keys whose values are secrets (or digests of them): shown only as present. */
const SECRET_KEY = /secret|privatekey|apikey|password(hash|digest)/i;
/** Deepest nesting a patch may have; settings are a few levels deep. */
const MAX_DEPTH = 16;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export interface SettingsView {
  tenantId: string;
  /** The settings in effect, defaults included, secrets replaced by "(present)". */
  settings: Record<string, unknown>;
  /** Stored fields that were invalid and are read as their defaults (see readTenantSettings). */
  replaced: string[];
}

export interface SettingsChange extends SettingsView {
  /** Dotted paths whose stored value changed (added, replaced or removed). */
  changed: string[];
}

/** Replaces secret values by "(present)", recursively. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? "(present)" : redactSecrets(v);
  return out;
}

/**
 * RFC 7396 JSON Merge Patch: an object patch merges into the target key by key, `null` deletes
 * a key, anything else (arrays included) replaces. Keys that could reach an object's prototype
 * are refused, and so is nesting deeper than MAX_DEPTH.
 */
export function applyMergePatch(target: unknown, patch: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new AuthError("invalid_request", "settings patch is nested too deeply");
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (FORBIDDEN_KEYS.has(k)) throw new AuthError("invalid_request", `settings patch: key ${k} is not allowed`);
    if (v === null) delete out[k];
    else Object.defineProperty(out, k, { value: applyMergePatch(out[k], v, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Dotted paths where `a` and `b` differ: objects present on both sides are compared key by key;
 * anything else (a block added or removed as a whole, arrays, scalars) is one path.
 */
export function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || "(all)"];
}

async function tenantOrThrow(svc: Services, tenantId: string): Promise<Tenant> {
  const tenant = await svc.tenants.getTenant(tenantId);
  if (!tenant) throw new AuthError("not_found", "unknown tenant");
  return tenant;
}

/** The scope recordAudit needs: the tenant, the operator's IP; the tenant's first community. */
async function auditScope(svc: Services, tenant: Tenant, actor: Actor): Promise<Scope> {
  const community: Community = (await svc.tenants.listCommunities(tenant.id))[0] ?? { id: "", tenantId: tenant.id, name: "", settings: {}, createdAt: 0 };
  return { tenant, settings: readTenantSettings(tenant.settings).settings, community, ip: actor.ip, userAgent: null };
}

function audit(svc: Services, scope: Scope, type: string, actor: Actor, detail: Record<string, unknown>): void {
  recordAudit(svc, scope, type, { actorId: `license:${actor.licenseId}`, detail });
}

/** Audits an admin change of the tenant (the same event shape as every change here). */
export async function auditTenantChange(svc: Services, tenant: Tenant, actor: Actor, type: string, detail: Record<string, unknown>): Promise<void> {
  audit(svc, await auditScope(svc, tenant, actor), type, actor, detail);
}

function view(tenantId: string, raw: Record<string, unknown>): SettingsView {
  const r = readTenantSettings(raw);
  return { tenantId, settings: redactSecrets(r.settings) as Record<string, unknown>, replaced: r.replaced };
}

/** The tenant's effective settings (defaults filled in, secrets shown as present). */
export async function readManagedSettings(svc: Services, actor: Actor, tenantId: string): Promise<SettingsView> {
  requireOperator(actor);
  const tenant = await tenantOrThrow(svc, tenantId);
  return view(tenant.id, tenant.settings);
}

function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const parts = issues.slice(0, 10).map((i) => `${i.path.map(String).join(".") || "(settings)"}: ${i.message}`);
  return `invalid settings: ${parts.join("; ")}${issues.length > 10 ? `; and ${issues.length - 10} more` : ""}`;
}

/**
 * Applies a JSON merge patch (RFC 7396) to the tenant's stored settings and stores the result
 * when the schema accepts it; otherwise `invalid_request` naming the failing paths, and nothing
 * is stored. The patch starts from the stored settings minus fields that were invalid (they
 * read as defaults already), so a bad stored field never blocks an unrelated change. A patch
 * may not introduce keys the schema does not know (a typo would otherwise be stored and ignored).
 */
export async function patchManagedSettings(svc: Services, actor: Actor, tenantId: string, patch: unknown): Promise<SettingsChange> {
  requireOperator(actor);
  if (!isObject(patch)) throw new AuthError("invalid_request", "the settings patch must be a JSON object (RFC 7396)");
  const tenant = await tenantOrThrow(svc, tenantId);
  const known = tenantSettingsSchema.shape as Record<string, unknown>;
  const unknownKeys = Object.keys(patch).filter((k) => !Object.hasOwn(known, k) && patch[k] !== null);
  if (unknownKeys.length > 0) throw new AuthError("invalid_request", `invalid settings: unknown setting ${unknownKeys.slice(0, 10).join(", ")}`);

  const before = readTenantSettings(tenant.settings);
  const merged = applyMergePatch(before.kept, patch) as JsonObject;
  const check = tenantSettingsSchema.safeParse(merged);
  if (!check.success) throw new AuthError("invalid_request", describeIssues(check.error.issues));

  const changed = changedPaths(before.kept, merged);
  // Fields dropped because they were invalid are rewritten too, so they count as changed.
  const dropped = before.replaced.filter((p) => !changed.includes(p));
  if (changed.length > 0 || dropped.length > 0) {
    await svc.tenants.updateTenantSettings(tenant.id, merged);
    audit(svc, await auditScope(svc, tenant, actor), "admin_tenant_settings_changed", actor, { changed, ...(dropped.length ? { droppedInvalid: dropped } : {}) });
  }
  return { ...view(tenant.id, merged), changed: [...changed, ...dropped] };
}

/**
 * The tenant and community a hostname is to be bound to, checked: a valid hostname (lower-cased),
 * a known tenant, and the given community of that tenant, else its first.
 */
export async function bindingTarget(svc: Services, tenantId: string, input: { hostname: string; communityId?: string | undefined }): Promise<{ hostname: string; tenant: Tenant; community: Community }> {
  const hostname = input.hostname.toLowerCase();
  if (!isValidHostname(hostname)) throw new AuthError("invalid_request", `invalid hostname: ${input.hostname}`);
  const tenant = await tenantOrThrow(svc, tenantId);
  let community: Community | null;
  if (input.communityId) {
    community = await svc.tenants.getCommunity(input.communityId);
    if (!community || community.tenantId !== tenant.id) throw new AuthError("invalid_request", `community ${input.communityId} is not a community of this tenant`);
  } else {
    community = (await svc.tenants.listCommunities(tenant.id))[0] ?? null;
    if (!community) throw new AuthError("invalid_request", "the tenant has no community to bind the hostname to");
  }
  return { hostname, tenant, community };
}

/**
 * Binds a custom hostname to the tenant (its given community, else its first). Rebinding a
 * hostname the tenant already has is allowed (it may move to another community); a hostname
 * bound to another tenant is a `conflict`: it must be unbound there first. This is the path
 * without Cloudflare for SaaS (the operator routes the domain to the Worker);
 * custom-hostnames.ts is the other.
 */
export async function bindTenantHostname(svc: Services, actor: Actor, tenantId: string, input: { hostname: string; communityId?: string | undefined }): Promise<DomainBinding> {
  requireOperator(actor);
  const { hostname, tenant, community } = await bindingTarget(svc, tenantId, input);
  const existing = await svc.tenants.domain(hostname);
  if (existing && existing.tenantId !== tenant.id) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
  const binding: DomainBinding = { hostname, tenantId: tenant.id, communityId: community.id };
  if (!existing || existing.communityId !== community.id) {
    await svc.tenants.bindDomain(binding);
    audit(svc, await auditScope(svc, tenant, actor), "admin_hostname_bound", actor, { hostname, communityId: community.id });
  }
  return binding;
}

/** Unbinds a hostname of the tenant: `not_found` when it is not bound, `conflict` when another tenant's. */
export async function unbindTenantHostname(svc: Services, actor: Actor, tenantId: string, input: { hostname: string }): Promise<{ hostname: string }> {
  requireOperator(actor);
  const hostname = input.hostname.toLowerCase();
  if (!isValidHostname(hostname)) throw new AuthError("invalid_request", `invalid hostname: ${input.hostname}`);
  const tenant = await tenantOrThrow(svc, tenantId);
  const existing = await svc.tenants.domain(hostname);
  if (!existing) throw new AuthError("not_found", `hostname ${hostname} is not bound`);
  if (existing.tenantId !== tenant.id) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
  await svc.tenants.unbindDomain(hostname);
  audit(svc, await auditScope(svc, tenant, actor), "admin_hostname_unbound", actor, { hostname });
  return { hostname };
}
