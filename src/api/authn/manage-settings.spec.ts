import { beforeAll, describe, expect, it } from "vitest";
import { authnCaller, issueTestLicense, type AuthnCaller } from "../../../test/helpers/authn";
import { call } from "../../../test/helpers/http";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";

/** Management of tenant settings and custom hostnames (src/core/tenants/manage-settings.ts). */
const BOOT = "test-bootstrap-system-license-0123456789";
const host = "manage-settings.authn.test";
const APP = "https://app.example.com";
const n = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const SECRET = "0123456789abcdef".repeat(4);

let boot: AuthnCaller;
beforeAll(async () => {
  boot = await authnCaller(host, BOOT);
});

const stored = async (tenantId: string) => (await services().tenants.getTenant(tenantId))!.settings;
const preflight = (hostname: string) =>
  call("OPTIONS", "/v1/login", undefined, { host: hostname, headers: { origin: APP, "access-control-request-method": "POST" } });

async function auditOf(tenantId: string, type: string) {
  for (let i = 0; i < 50; i++) {
    const events = await services().audit.list(tenantId, { type });
    if (events.length > 0) return events;
    await new Promise((r) => setTimeout(r, 20));
  }
  return [];
}

describe("tenant settings management", () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTestTenant({ accessTokenTtlSeconds: 900, oktaTokenHook: { secretSha256: SECRET }, termsAndConditions: { version: "v1" } });
  });

  it("fetch answers the effective settings, defaults included, secrets only as present", async () => {
    const r = await boot.call("POST", `/authn/manage/tenant/${t.tenant.id}/settings/fetch`, {});
    expect(r.status).toBe(200);
    const data = r.data as { tenantId: string; settings: Record<string, unknown>; replaced: string[] };
    expect(data.tenantId).toBe(t.tenant.id);
    expect(data.settings.accessTokenTtlSeconds).toBe(900);
    expect(data.settings.refreshTokenTtlSeconds).toBe(90 * 24 * 3600);
    expect(data.settings.oktaTokenHook).toEqual({ secretSha256: "(present)" });
    expect(data.replaced).toEqual([]);
    expect(JSON.stringify(r.body)).not.toContain(SECRET);
    expect((await boot.call("POST", `/authn/manage/tenant/nope-${n()}/settings/fetch`, {})).status).toBe(404);
  });

  it("a merge patch changes, adds and deletes keys, is audited by path, and applies at once in this isolate", async () => {
    expect(corsHeaders(await preflight(t.host))).toEqual([]);
    const r = await boot.call("PATCH", `/authn/manage/tenant/${t.tenant.id}/settings`, {
      accessTokenTtlSeconds: 1200,
      cors: { allowedOrigins: [APP] },
      termsAndConditions: null,
    });
    expect(r.status).toBe(200);
    const data = r.data as { settings: Record<string, unknown>; changed: string[] };
    expect(data.changed).toEqual(["accessTokenTtlSeconds", "cors", "termsAndConditions"]);
    expect(data.settings.cors).toEqual({ allowedOrigins: [APP], allowCredentials: false, maxAgeSeconds: 600 });
    expect(data.settings.termsAndConditions).toBeUndefined();
    // Stored as patched: the secret untouched, defaults not frozen into the row.
    expect(await stored(t.tenant.id)).toEqual({ accessTokenTtlSeconds: 1200, oktaTokenHook: { secretSha256: SECRET }, cors: { allowedOrigins: [APP] } });
    // The tenant cache of this isolate was dropped: the new CORS origin is allowed now.
    const pre = await preflight(t.host);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(APP);

    const events = await auditOf(t.tenant.id, "admin_tenant_settings_changed");
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toEqual({ changed: ["accessTokenTtlSeconds", "cors", "termsAndConditions"] });
    expect(JSON.stringify(events[0])).not.toContain(APP);
    expect(events[0]!.actorId).toBe("license:bootstrap");
  });

  it("an invalid result is a 400 naming the failing paths, and nothing is stored", async () => {
    const before = await stored(t.tenant.id);
    for (const [patch, expected] of [
      [{ cors: { allowedOrigins: ["*"] } }, "cors.allowedOrigins.0"],
      [{ lockout: { userThreshold: 0 }, accessTokenTtlSeconds: "1h" }, "lockout.userThreshold"],
      [{ okta: { baseUrl: "https://x.okta.com" } }, "okta.clientId"],
      [{ oktaTokenHook: { secretSha256: "(present)" } }, "oktaTokenHook.secretSha256"],
      [{ accesTokenTtlSeconds: 60 }, "unknown setting accesTokenTtlSeconds"],
    ] as const) {
      const r = await boot.call("PATCH", `/authn/manage/tenant/${t.tenant.id}/settings`, patch);
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
      expect(String(r.body.message)).toContain(expected);
    }
    for (const bad of ["not an object", [1, 2], 7]) {
      expect((await boot.call("PATCH", `/authn/manage/tenant/${t.tenant.id}/settings`, bad)).status).toBe(400);
    }
    expect((await boot.call("PATCH", `/authn/manage/tenant/${t.tenant.id}/settings`, JSON.parse('{"__proto__": {"x": 1}}'))).status).toBeLessThan(500);
    expect(await stored(t.tenant.id)).toEqual(before);
    expect((await boot.call("PATCH", `/authn/manage/tenant/nope-${n()}/settings`, { accessTokenTtlSeconds: 600 })).status).toBe(404);
  });

  it("an invalid stored field does not block an unrelated change; it is dropped and reported", async () => {
    const broken = await createTestTenant({ idTokenTtlSeconds: 600, okta: { baseUrl: "https://x.okta.com", clientId: "c", issuer: "https://x.okta.com", audience: "a", mapRoles: "oops" } });
    const f = await boot.call("POST", `/authn/manage/tenant/${broken.tenant.id}/settings/fetch`, {});
    expect((f.data as { replaced: string[] }).replaced).toEqual(["okta.mapRoles"]);
    const r = await boot.call("PATCH", `/authn/manage/tenant/${broken.tenant.id}/settings`, { mailPerHour: 10 });
    expect(r.status).toBe(200);
    expect((r.data as { changed: string[] }).changed).toEqual(["mailPerHour", "okta.mapRoles"]);
    const now = await stored(broken.tenant.id);
    expect(now.okta).toEqual({ baseUrl: "https://x.okta.com", clientId: "c", issuer: "https://x.okta.com", audience: "a" });
    expect(now.idTokenTtlSeconds).toBe(600);
  });

  it("refuses licenses that are not deployment-wide system licenses", async () => {
    const tenantSystem = await issueTestLicense(t.tenant.id, "system", ["*"]);
    const service = await issueTestLicense(t.tenant.id, "service", ["*"]);
    for (const key of [tenantSystem.licenseKey, service.licenseKey]) {
      const c = await authnCaller(host, key);
      expect((await c.call("POST", `/authn/manage/tenant/${t.tenant.id}/settings/fetch`, {})).status).toBe(403);
      expect((await c.call("PATCH", `/authn/manage/tenant/${t.tenant.id}/settings`, { mailPerHour: 1 })).status).toBe(403);
      expect((await c.call("PUT", `/authn/manage/tenant/${t.tenant.id}/hostname`, { hostname: `x-${n()}.example.test` })).status).toBe(403);
    }
  });
});

describe("custom hostname management", () => {
  it("binds, refuses another tenant's hostname with 409, unbinds; each change applies at once here", async () => {
    const a = await createTestTenant({ cors: { allowedOrigins: [APP] } });
    const b = await createTestTenant();
    const hostname = `Shop-${n()}.Example.test`;
    const lower = hostname.toLowerCase();
    expect((await preflight(lower)).status).toBe(404);

    const put = await boot.call("PUT", `/authn/manage/tenant/${a.tenant.id}/hostname`, { hostname });
    expect(put.status).toBe(200);
    expect(put.data).toEqual({ binding: { hostname: lower, tenantId: a.tenant.id, communityId: a.community.id } });
    expect((await services().tenants.domain(lower))?.tenantId).toBe(a.tenant.id);
    const pre = await preflight(lower);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(APP);
    // Idempotent for the same tenant.
    expect((await boot.call("PUT", `/authn/manage/tenant/${a.tenant.id}/hostname`, { hostname: lower })).status).toBe(200);

    expect((await boot.call("PUT", `/authn/manage/tenant/${b.tenant.id}/hostname`, { hostname: lower })).status).toBe(409);
    expect((await boot.call("DELETE", `/authn/manage/tenant/${b.tenant.id}/hostname`, { hostname: lower })).status).toBe(409);
    expect((await services().tenants.domain(lower))?.tenantId).toBe(a.tenant.id);

    const del = await boot.call("DELETE", `/authn/manage/tenant/${a.tenant.id}/hostname`, { hostname: lower });
    expect(del.status).toBe(200);
    expect(del.data).toEqual({ unbound: lower });
    expect(await services().tenants.domain(lower)).toBeNull();
    expect((await preflight(lower)).status).toBe(404);
    expect((await boot.call("DELETE", `/authn/manage/tenant/${a.tenant.id}/hostname`, { hostname: lower })).status).toBe(404);

    expect((await auditOf(a.tenant.id, "admin_hostname_bound")).length).toBe(1);
    expect((await auditOf(a.tenant.id, "admin_hostname_unbound")).length).toBe(1);
  });

  it("400 for a bad hostname or another tenant's community, 404 for an unknown tenant; nothing bound", async () => {
    const a = await createTestTenant();
    const b = await createTestTenant();
    const hostname = `h-${n()}.example.test`;
    for (const bad of ["not a host", "-x.example.test", "a..b", "x".repeat(254), ""]) {
      expect((await boot.call("PUT", `/authn/manage/tenant/${a.tenant.id}/hostname`, { hostname: bad })).status, bad).toBe(400);
    }
    expect((await boot.call("PUT", `/authn/manage/tenant/${a.tenant.id}/hostname`, { hostname, communityId: b.community.id })).status).toBe(400);
    expect((await boot.call("PUT", `/authn/manage/tenant/${a.tenant.id}/hostname`, {})).status).toBe(400);
    expect((await boot.call("PUT", `/authn/manage/tenant/nope-${n()}/hostname`, { hostname })).status).toBe(404);
    expect(await services().tenants.domain(hostname)).toBeNull();
  });
});

function corsHeaders(res: Response): string[] {
  return [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));
}
