import type { DomainBinding } from "../../storage/ports";
import type { CustomHostnameCheck, CustomHostnameRecord } from "../../storage/ports-hostnames";
import { DuplicateKeyError } from "../../storage/ports-authn";
import type { Services } from "../context";
import { AuthError } from "../errors";
import { requireOperator, type Actor } from "../licenses/manage";
import { CloudflareApiError, CloudflareCustomHostnames, type CustomHostnameApi, type CustomHostnameState, type SslMethod, type VerificationRecord } from "./cloudflare-custom-hostnames";
import { auditTenantChange, bindTenantHostname, bindingTarget, unbindTenantHostname } from "./manage-settings";
import { isValidHostname } from "./provision";

/**
 * Tenants' own hostnames through Cloudflare for SaaS (issue 12, "Tenants bind their own
 * domains without a redeploy"). When CF_SAAS_ZONE_ID is set, binding a hostname creates a
 * custom hostname in that zone and stores a pending binding (`custom_hostnames`) with the
 * records the tenant must publish; the hostname is mapped to its tenant (`domains`) only once
 * Cloudflare reports the hostname and its certificate active: on a status call, or on the
 * scheduled re-check (src/index.ts `scheduled`). Unbinding deletes the custom hostname at
 * Cloudflare, then both rows. Without the zone id every call takes the path of
 * manage-settings.ts (the operator routes domains to the Worker by hand), unchanged.
 *
 * Why "active" means both `status` and `ssl.status`: Cloudflare's hostname validation page says
 * production traffic wants both; and a mapping changes the tenant's public origin at once (the
 * OIDC issuer, links in mail: public-origin.ts), which must not name a host without a certificate.
 *
 * Failures never lose state: a Cloudflare error leaves the D1 rows as they were, and a custom
 * hostname created at Cloudflare whose row could not be written is adopted by the next bind
 * (Cloudflare answers 1406 "duplicate", and we find it by name).
 */

/** The answer of bind and status. */
export interface HostnameBindingView {
  binding: DomainBinding;
  /** True when requests to the hostname resolve to the tenant (the `domains` row exists). */
  mapped?: boolean;
  /** Present when the hostname is bound through Cloudflare for SaaS. */
  customHostname?: {
    id: string;
    status: string;
    sslStatus: string | null;
    sslMethod: SslMethod;
    /** DNS records (and HTTP tokens) to publish: routing CNAME, ownership, certificate. */
    records: VerificationRecord[];
    errors: string[];
    checkedAt: number;
    activeAt: number | null;
  };
}

/** Re-check cadence: a pending hostname is asked about at most once per this interval. */
export const RECHECK_INTERVAL_MS = 60_000;
/** Hostnames asked about per scheduled run (each is one subrequest). */
export const RECHECK_BATCH = 40;

/** The zone's custom hostnames API, or null when Cloudflare for SaaS is off. */
export function customHostnameApi(svc: Services): CustomHostnameApi | null {
  const saas = svc.config.saas;
  if (!saas) return null;
  if (!saas.apiToken) throw new AuthError("not_configured", "Cloudflare for SaaS: CF_SAAS_ZONE_ID is set but the CF_API_TOKEN secret is not");
  return CloudflareCustomHostnames({ zoneId: saas.zoneId, apiToken: saas.apiToken, fetch: svc.fetch });
}

/** Cloudflare's failure as the error the management API answers. */
function asAuthError(e: unknown): unknown {
  if (!(e instanceof CloudflareApiError)) return e;
  if (e.kind === "conflict" || e.kind === "duplicate") return new AuthError("conflict", `${e.message}: it is a custom hostname of another zone or account`);
  if (e.kind === "refused") return new AuthError("invalid_request", e.message);
  return new AuthError("upstream_error", e.message);
}

async function cloudflare<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw asAuthError(e);
  }
}

const isActive = (s: Pick<CustomHostnameState, "status" | "sslStatus">) => s.status === "active" && s.sslStatus === "active";

/** Cloudflare's records plus the routing CNAME the tenant adds (when the target is configured). */
function recordsOf(svc: Services, s: CustomHostnameState): VerificationRecord[] {
  const target = svc.config.saas?.cnameTarget;
  return [...(target ? [{ purpose: "routing" as const, type: "CNAME" as const, name: s.hostname, value: target }] : []), ...s.records];
}

function checkOf(svc: Services, s: CustomHostnameState, now: number): CustomHostnameCheck {
  return { status: s.status, sslStatus: s.sslStatus, records: recordsOf(svc, s), errors: s.errors, checkedAt: now };
}

async function viewOf(svc: Services, r: CustomHostnameRecord): Promise<HostnameBindingView> {
  const mapping = await svc.tenants.domain(r.hostname);
  return {
    binding: { hostname: r.hostname, tenantId: r.tenantId, communityId: mapping?.tenantId === r.tenantId ? mapping.communityId : r.communityId },
    mapped: mapping?.tenantId === r.tenantId,
    customHostname: { id: r.cfId, status: r.status, sslStatus: r.sslStatus, sslMethod: r.sslMethod, records: r.records, errors: r.errors, checkedAt: r.checkedAt, activeAt: r.activeAt },
  };
}

/**
 * Stores what Cloudflare said about a binding, and maps it when it is active. A null state
 * means Cloudflare no longer has the custom hostname: recorded as `deleted`, never mapped.
 * `promoted`: this call mapped a binding that was pending.
 */
async function record(svc: Services, r: CustomHostnameRecord, s: CustomHostnameState | null, now: number, communityId = r.communityId): Promise<{ row: CustomHostnameRecord; promoted: boolean }> {
  const check: CustomHostnameCheck = s ? checkOf(svc, s, now) : { status: "deleted", sslStatus: r.sslStatus, records: r.records, errors: ["the custom hostname no longer exists at Cloudflare: unbind and bind it again"], checkedAt: now };
  let promoted = false;
  if (s && isActive(s)) {
    promoted = await svc.customHostnames.promote(r.hostname, check, { hostname: r.hostname, tenantId: r.tenantId, communityId });
    if (!promoted) {
      // Another tenant holds the hostname in `domains` (bound by hand meanwhile): keep pending.
      await svc.customHostnames.update(r.hostname, { ...check, communityId, errors: [...check.errors, "the hostname is mapped to another tenant: unbind it there"] });
    }
    promoted &&= r.activeAt === null;
  } else {
    await svc.customHostnames.update(r.hostname, { ...check, communityId });
  }
  const row = (await svc.customHostnames.get(r.hostname)) ?? { ...r, ...check, communityId };
  return { row, promoted };
}

/**
 * Binds a hostname to the tenant. With Cloudflare for SaaS: creates (or adopts) the custom
 * hostname and answers the pending binding with its records and statuses; a bind of a
 * hostname the tenant already has refreshes it (and may move it to another community).
 * 409 when another tenant has the hostname, here or in `domains`, or Cloudflare has it in
 * another zone; 400 when Cloudflare will not take the hostname; 502 for other Cloudflare failures.
 */
export async function bindHostname(svc: Services, actor: Actor, tenantId: string, input: { hostname: string; communityId?: string | undefined; sslMethod?: SslMethod | undefined }): Promise<HostnameBindingView> {
  requireOperator(actor);
  const api = customHostnameApi(svc);
  if (!api) return { binding: await bindTenantHostname(svc, actor, tenantId, input) };
  const { hostname, tenant, community } = await bindingTarget(svc, tenantId, input);
  const mapping = await svc.tenants.domain(hostname);
  if (mapping && mapping.tenantId !== tenant.id) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
  const existing = await svc.customHostnames.get(hostname);
  if (existing && existing.tenantId !== tenant.id) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
  const now = Date.now();
  if (existing) {
    const { row, promoted } = await record(svc, existing, await cloudflare(api.get(existing.cfId)), now, community.id);
    if (existing.communityId !== community.id || promoted) await auditTenantChange(svc, tenant, actor, "admin_hostname_bound", { hostname, communityId: community.id, customHostnameId: row.cfId, status: row.status });
    return viewOf(svc, row);
  }

  const method: SslMethod = input.sslMethod ?? "http";
  let state: CustomHostnameState;
  try {
    state = await api.create(hostname, method);
  } catch (e) {
    // 1406: our zone has it already. No other tenant has a row for it (checked above), so it is
    // ours to adopt: a bind whose row was never written, or one made in the dashboard.
    if (!(e instanceof CloudflareApiError) || e.kind !== "duplicate") throw asAuthError(e);
    const found = await cloudflare(api.findByHostname(hostname));
    if (!found) throw asAuthError(e);
    state = found;
  }
  const row: CustomHostnameRecord = { hostname, tenantId: tenant.id, communityId: community.id, cfId: state.id, sslMethod: method, ...checkOf(svc, state, now), createdAt: now, activeAt: null };
  try {
    await svc.customHostnames.create(row);
  } catch (e) {
    if (!(e instanceof DuplicateKeyError)) throw e;
    // A concurrent bind wrote first; the custom hostname at Cloudflare is the same one.
    const winner = await svc.customHostnames.get(hostname);
    if (!winner || winner.tenantId !== tenant.id) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
    return viewOf(svc, winner);
  }
  await auditTenantChange(svc, tenant, actor, "admin_hostname_bound", { hostname, communityId: community.id, customHostnameId: state.id, status: state.status, sslStatus: state.sslStatus });
  if (isActive(state)) return viewOf(svc, (await record(svc, row, state, now)).row);
  return viewOf(svc, row);
}

/**
 * A binding's state. With Cloudflare for SaaS it asks Cloudflare again, records the answer,
 * and maps the hostname when it has become active. 404 when the tenant has no such binding.
 */
export async function hostnameStatus(svc: Services, actor: Actor, tenantId: string, input: { hostname: string }): Promise<HostnameBindingView> {
  requireOperator(actor);
  const hostname = input.hostname.toLowerCase();
  const tenant = await svc.tenants.getTenant(tenantId);
  if (!tenant) throw new AuthError("not_found", "unknown tenant");
  const api = customHostnameApi(svc);
  const row = api ? await svc.customHostnames.get(hostname) : null;
  if (row && row.tenantId !== tenant.id) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
  if (!row || !api) {
    const mapping = await svc.tenants.domain(hostname);
    if (!mapping) throw new AuthError("not_found", `hostname ${hostname} is not bound`);
    if (mapping.tenantId !== tenant.id) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
    return { binding: mapping, mapped: true };
  }
  const { row: now, promoted } = await record(svc, row, await cloudflare(api.get(row.cfId)), Date.now());
  if (promoted) await auditTenantChange(svc, tenant, actor, "admin_hostname_active", { hostname, customHostnameId: now.cfId });
  return viewOf(svc, now);
}

/**
 * Unbinds a hostname of the tenant. With Cloudflare for SaaS the custom hostname is deleted
 * at Cloudflare first (one it no longer has counts as deleted; one bound by hand is found by
 * name), then the binding and the mapping; a Cloudflare failure removes nothing.
 */
export async function unbindHostname(svc: Services, actor: Actor, tenantId: string, input: { hostname: string }): Promise<{ hostname: string }> {
  requireOperator(actor);
  const api = customHostnameApi(svc);
  if (!api) return unbindTenantHostname(svc, actor, tenantId, input);
  const hostname = input.hostname.toLowerCase();
  if (!isValidHostname(hostname)) throw new AuthError("invalid_request", `invalid hostname: ${input.hostname}`);
  const owner = await svc.tenants.getTenant(tenantId);
  if (!owner) throw new AuthError("not_found", "unknown tenant");
  const [row, mapping] = await Promise.all([svc.customHostnames.get(hostname), svc.tenants.domain(hostname)]);
  if (!row && !mapping) throw new AuthError("not_found", `hostname ${hostname} is not bound`);
  if ((row && row.tenantId !== owner.id) || (mapping && mapping.tenantId !== owner.id)) throw new AuthError("conflict", `hostname ${hostname} is bound to another tenant`);
  const cfId = row?.cfId ?? (await cloudflare(api.findByHostname(hostname)))?.id ?? null;
  if (cfId) await cloudflare(api.delete(cfId));
  await svc.customHostnames.remove(hostname, owner.id);
  await auditTenantChange(svc, owner, actor, "admin_hostname_unbound", { hostname, ...(cfId ? { customHostnameId: cfId } : {}) });
  return { hostname };
}

/**
 * The scheduled re-check: asks Cloudflare about pending bindings not checked for a minute,
 * oldest first, and maps those that have become active. A failure is logged and left for the
 * next run. Nothing to do without Cloudflare for SaaS.
 */
export async function recheckPendingHostnames(svc: Services, now = Date.now()): Promise<{ checked: number; promoted: string[]; failed: number }> {
  const out = { checked: 0, promoted: [] as string[], failed: 0 };
  const saas = svc.config.saas;
  if (!saas) return out;
  if (!saas.apiToken) {
    console.warn("Cloudflare for SaaS: CF_SAAS_ZONE_ID is set but the CF_API_TOKEN secret is not; pending hostnames are not re-checked");
    return out;
  }
  const api = customHostnameApi(svc)!;
  for (const row of await svc.customHostnames.due(now - RECHECK_INTERVAL_MS, RECHECK_BATCH)) {
    try {
      const { promoted } = await record(svc, row, await api.get(row.cfId), now);
      out.checked++;
      if (promoted) {
        out.promoted.push(row.hostname);
        svc.defer(
          svc.audit
            .record({ tenantId: row.tenantId, type: "admin_hostname_active", actorId: "system:custom-hostname-recheck", ip: "", detail: { hostname: row.hostname, customHostnameId: row.cfId } })
            .catch((e: unknown) => console.error("audit write failed", e instanceof Error ? e.message : e)),
        );
      }
    } catch (e) {
      out.failed++;
      console.warn("custom hostname re-check failed", row.hostname, e instanceof Error ? e.message : e);
    }
  }
  return out;
}
