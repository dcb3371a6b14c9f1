import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LICENSE_LEVELS } from "../../core/licenses/licenses";
import { manageCreateCommunity, manageCreateTenant, manageIssueLicense, manageListLicenses, manageSetLicenseDisabled, type Actor } from "../../core/licenses/manage";
import { bindHostname, hostnameStatus, unbindHostname } from "../../core/tenants/custom-hostnames";
import { patchManagedSettings, readManagedSettings } from "../../core/tenants/manage-settings";
import { authnContext, authnGuard, authnPayload, authnRespond } from "../../http/authn-guard";
import { forgetTenantCache } from "../../http/tenant";
import type { AppEnv } from "../../http/types";
import type { License } from "../../storage/ports-licenses";
import { EnvelopeHeaders, envelopeBody, envelopeResponse, errorResponse, licensedErrors } from "./schemas";

/**
 * The management API (an extension: seed 004 has no route to create tenants, communities or
 * licenses). Same envelope as every licensed Authn route, accepted only from `system`
 * licenses; the first one is the BOOTSTRAP_SYSTEM_LICENSE Worker secret.
 */
const systemOnly = [authnGuard({ levels: ["system"], community: false })];

const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' only");
const Level = z.enum(LICENSE_LEVELS as [string, ...string[]]);

const TenantPayload = z
  .object({
    tenantId: Id.optional(),
    name: z.string().min(1).max(200),
    communityId: Id.optional(),
    communityName: z.string().min(1).max(200).default("default"),
    hostnames: z.array(z.string().min(1).max(253)).max(20).optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("ManageTenantPayload");
const CommunityPayload = z.object({ communityId: Id.optional(), name: z.string().min(1).max(200) }).openapi("ManageCommunityPayload");
const LicensePayload = z
  .object({
    tenantId: Id.nullable().openapi({ description: "null: a deployment-wide system license" }),
    authLevel: Level,
    communities: z.array(z.union([Id, z.literal("*")])).max(100).default([]),
    name: z.string().max(200).optional(),
    expiresAt: z.number().int().positive().nullable().optional().openapi({ description: "Epoch milliseconds; omitted or null: never" }),
  })
  .openapi("ManageLicensePayload");
const ListPayload = z.object({ tenantId: Id.nullable() }).openapi("ManageLicenseListPayload");
const DisablePayload = z.object({ disabled: z.boolean() }).openapi("ManageLicenseDisablePayload");
const EmptyPayload = z.object({}).openapi("ManageEmptyPayload");
const SettingsPatch = z
  .record(z.string(), z.unknown())
  .openapi("ManageSettingsPatch", {
    description: "JSON merge patch (RFC 7396) of the tenant settings: objects merge, null deletes a key, anything else replaces",
    example: { accessTokenTtlSeconds: 3600, cors: { allowedOrigins: ["https://app.example.com"] }, termsAndConditions: null },
  });
const HostnamePayload = z
  .object({
    hostname: z.string().min(1).max(253),
    communityId: Id.optional().openapi({ description: "Default: the tenant's first community" }),
    sslMethod: z
      .enum(["http", "txt"])
      .optional()
      .openapi({ description: "Cloudflare for SaaS only: how the certificate is validated; http (default: Cloudflare serves the token once the CNAME is in place) or txt (a TXT record, to validate before moving traffic)" }),
  })
  .openapi("ManageHostnamePayload");
const UnbindPayload = z.object({ hostname: z.string().min(1).max(253) }).openapi("ManageHostnameUnbindPayload");

const TenantOut = z.object({ id: z.string(), name: z.string() });
const CommunityOut = z.object({ id: z.string(), tenantId: z.string(), name: z.string() });
const LicenseOut = z
  .object({
    id: z.string(),
    tenantId: z.string().nullable(),
    authLevel: Level,
    communities: z.array(z.string()),
    name: z.string(),
    expiresAt: z.number().nullable(),
    disabled: z.boolean(),
    createdAt: z.number(),
  })
  .openapi("License");

const SettingsOut = z.object({
  tenantId: z.string(),
  settings: z.record(z.string(), z.unknown()).openapi({ description: "Effective settings, defaults included; secrets shown as \"(present)\"" }),
  replaced: z.array(z.string()).openapi({ description: "Stored fields that are invalid and read as their defaults" }),
});
const SettingsChangeOut = SettingsOut.extend({ changed: z.array(z.string()).openapi({ description: "Dotted paths whose stored value changed" }) });
const HostnameOut = z.object({ hostname: z.string(), tenantId: z.string(), communityId: z.string() });
const VerificationRecordOut = z.object({
  purpose: z.enum(["routing", "ownership", "certificate"]),
  type: z.enum(["CNAME", "TXT", "HTTP"]).openapi({ description: "HTTP: serve `value` at the URL `name`" }),
  name: z.string(),
  value: z.string(),
});
const HostnameBindingOut = z
  .object({
    binding: HostnameOut,
    mapped: z.boolean().optional().openapi({ description: "Requests to the hostname resolve to the tenant (with Cloudflare for SaaS: only once hostname and certificate are active)" }),
    customHostname: z
      .object({
        id: z.string().openapi({ description: "Cloudflare's custom hostname id" }),
        status: z.string().openapi({ description: "Cloudflare's custom hostname status: pending, active, moved, deleted, blocked, ..." }),
        sslStatus: z.string().nullable().openapi({ description: "Cloudflare's ssl.status: initializing, pending_validation, pending_issuance, pending_deployment, active, ..." }),
        sslMethod: z.enum(["http", "txt"]),
        records: z.array(VerificationRecordOut),
        errors: z.array(z.string()),
        checkedAt: z.number(),
        activeAt: z.number().nullable(),
      })
      .optional()
      .openapi({ description: "Present when the hostname is bound through Cloudflare for SaaS" }),
  })
  .openapi("HostnameBinding");

const TenantParams = z.object({ tenantId: Id.openapi({ param: { name: "tenantId", in: "path" } }) });
const LicenseParams = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

/** Hostname routes call Cloudflare's API when Cloudflare for SaaS is configured. */
const upstreamError = { 502: errorResponse("Cloudflare's custom hostnames API failed (unreachable, timed out, refused the token, or answered something else); nothing was changed") };

const route = <P extends z.ZodType, R extends z.ZodType>(operationId: string, method: "put" | "post" | "patch" | "delete", path: string, summary: string, payload: P, out: R, params?: z.ZodObject, upstream = false) =>
  createRoute({
    operationId,
    method,
    path,
    summary,
    tags: ["Management (extension)"],
    middleware: systemOnly,
    request: { headers: EnvelopeHeaders, body: envelopeBody(payload), ...(params ? { params } : {}) },
    responses: { 200: envelopeResponse(out, "Decrypted response shown as the second branch of data; signed", true), ...licensedErrors, 409: licensedErrors[400], ...(upstream ? upstreamError : {}) },
  });

export const createTenantRoute = route("createTenant", "put", "/manage/tenant", "Create a tenant with its first community (system license)", TenantPayload, z.object({ tenant: TenantOut, community: CommunityOut }));
export const createCommunityRoute = route("createCommunity", "put", "/manage/tenant/{tenantId}/community", "Add a community to a tenant (system license)", CommunityPayload, z.object({ community: CommunityOut }), TenantParams);
export const createLicenseRoute = route(
  "createLicense",
  "put",
  "/manage/license",
  "Issue a license; the key is answered once and only its hash is stored (system license)",
  LicensePayload,
  z.object({ license: LicenseOut, licenseKey: z.string() }),
);
export const listLicensesRoute = route("listLicenses", "post", "/manage/license/list", "List a tenant's licenses, or the deployment-wide ones (system license)", ListPayload, z.object({ licenses: z.array(LicenseOut) }));
export const disableLicenseRoute = route("setLicenseDisabled", "patch", "/manage/license/{id}", "Disable or re-enable a license (system license)", DisablePayload, z.object({ license: LicenseOut }), LicenseParams);
export const fetchSettingsRoute = route(
  "getTenantSettings",
  "post",
  "/manage/tenant/{tenantId}/settings/fetch",
  "A tenant's effective settings, secrets shown only as present (system license)",
  EmptyPayload,
  SettingsOut,
  TenantParams,
);
export const patchSettingsRoute = route(
  "patchTenantSettings",
  "patch",
  "/manage/tenant/{tenantId}/settings",
  "Change a tenant's settings with a JSON merge patch; the result is validated before it is stored (system license)",
  SettingsPatch,
  SettingsChangeOut,
  TenantParams,
);
export const bindHostnameRoute = route(
  "bindHostname",
  "put",
  "/manage/tenant/{tenantId}/hostname",
  "Bind a custom hostname to a tenant; with Cloudflare for SaaS it stays pending, with the records to publish, until Cloudflare reports it active; 409 when another tenant or zone has it (system license)",
  HostnamePayload,
  HostnameBindingOut,
  TenantParams,
  true,
);
export const hostnameStatusRoute = route(
  "getHostnameStatus",
  "post",
  "/manage/tenant/{tenantId}/hostname/status",
  "A bound hostname's state; with Cloudflare for SaaS it asks Cloudflare again and maps the hostname once active (system license)",
  UnbindPayload,
  HostnameBindingOut,
  TenantParams,
  true,
);
export const unbindHostnameRoute = route(
  "unbindHostname",
  "delete",
  "/manage/tenant/{tenantId}/hostname",
  "Unbind a tenant's custom hostname; with Cloudflare for SaaS the custom hostname is deleted there too (system license)",
  UnbindPayload,
  z.object({ unbound: z.string() }),
  TenantParams,
  true,
);

const actor = (c: Context<AppEnv>): Actor => {
  const a = authnContext(c);
  return { licenseId: a.license.id, tenantId: a.license.tenantId, ip: a.clientIp };
};
const licenseOut = (l: License) => ({ id: l.id, tenantId: l.tenantId, authLevel: l.authLevel, communities: l.communities, name: l.name, expiresAt: l.expiresAt, disabled: l.disabled, createdAt: l.createdAt });

export function registerManagementRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createTenantRoute, async (c) => {
    const p = authnPayload(c, TenantPayload);
    const r = await manageCreateTenant(c.get("services"), actor(c), p);
    forgetTenantCache();
    return authnRespond(c, { tenant: { id: r.tenant.id, name: r.tenant.name }, community: { id: r.community.id, tenantId: r.community.tenantId, name: r.community.name } }, { signed: true });
  });

  app.openapi(createCommunityRoute, async (c) => {
    const p = authnPayload(c, CommunityPayload);
    const community = await manageCreateCommunity(c.get("services"), actor(c), c.req.param("tenantId") ?? "", p);
    forgetTenantCache();
    return authnRespond(c, { community: { id: community.id, tenantId: community.tenantId, name: community.name } }, { signed: true });
  });

  app.openapi(createLicenseRoute, async (c) => {
    const p = authnPayload(c, LicensePayload);
    const store = c.get("services").authn.licenses;
    const r = await manageIssueLicense(c.get("services"), store, actor(c), { ...p, authLevel: p.authLevel as License["authLevel"] });
    return authnRespond(c, { license: licenseOut(r.license), licenseKey: r.licenseKey }, { signed: true });
  });

  app.openapi(listLicensesRoute, async (c) => {
    const p = authnPayload(c, ListPayload);
    const licenses = await manageListLicenses(c.get("services").authn.licenses, actor(c), p.tenantId);
    return authnRespond(c, { licenses: licenses.map(licenseOut) }, { signed: true });
  });

  app.openapi(disableLicenseRoute, async (c) => {
    const p = authnPayload(c, DisablePayload);
    const platform = c.get("services").authn;
    const license = await manageSetLicenseDisabled(c.get("services"), platform.licenses, actor(c), c.req.param("id") ?? "", p.disabled);
    platform.resolver.forget(license.id);
    return authnRespond(c, { license: licenseOut(license) }, { signed: true });
  });

  // Settings and hostnames take effect at once in this isolate (forgetTenantCache) and within
  // the tenant cache bound (10 s, src/http/tenant.ts) in every other isolate.
  app.openapi(fetchSettingsRoute, async (c) => {
    authnPayload(c, EmptyPayload);
    return authnRespond(c, await readManagedSettings(c.get("services"), actor(c), c.req.param("tenantId") ?? ""), { signed: true });
  });

  app.openapi(patchSettingsRoute, async (c) => {
    const patch = authnPayload(c, SettingsPatch);
    const r = await patchManagedSettings(c.get("services"), actor(c), c.req.param("tenantId") ?? "", patch);
    forgetTenantCache();
    return authnRespond(c, r, { signed: true });
  });

  app.openapi(bindHostnameRoute, async (c) => {
    const p = authnPayload(c, HostnamePayload);
    const view = await bindHostname(c.get("services"), actor(c), c.req.param("tenantId") ?? "", p);
    forgetTenantCache();
    return authnRespond(c, view, { signed: true });
  });

  app.openapi(hostnameStatusRoute, async (c) => {
    const p = authnPayload(c, UnbindPayload);
    const view = await hostnameStatus(c.get("services"), actor(c), c.req.param("tenantId") ?? "", p);
    forgetTenantCache();
    return authnRespond(c, view, { signed: true });
  });

  app.openapi(unbindHostnameRoute, async (c) => {
    const p = authnPayload(c, UnbindPayload);
    const r = await unbindHostname(c.get("services"), actor(c), c.req.param("tenantId") ?? "", p);
    forgetTenantCache();
    return authnRespond(c, { unbound: r.hostname }, { signed: true });
  });
}
