import { describe, expect, it } from "vitest";
import { authnCaller, issueTestLicense } from "../../../test/helpers/authn";
import { services } from "../../../test/helpers/tenant";

const BOOT = "test-bootstrap-system-license-0123456789";
const host = "manage.authn.test";
const n = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

describe("management API (system licenses)", () => {
  it("creates a tenant, a community and licenses; the key is shown once and works", async () => {
    const boot = await authnCaller(host, BOOT);
    const id = `mt-${n()}`;
    const tenant = await boot.call("PUT", "/authn/manage/tenant", { tenantId: id, name: "Managed", communityId: `${id}-c1`, communityName: "main", hostnames: [`${id}.example.test`] });
    expect(tenant.status).toBe(200);
    expect(tenant.data).toEqual({ tenant: { id, name: "Managed" }, community: { id: `${id}-c1`, tenantId: id, name: "main" } });
    expect((await services().tenants.domain(`${id}.example.test`))?.tenantId).toBe(id);

    const community = await boot.call("PUT", `/authn/manage/tenant/${id}/community`, { name: "second" });
    expect(community.status).toBe(200);
    const c2 = (community.data as { community: { id: string } }).community.id;

    const lic = await boot.call("PUT", "/authn/manage/license", { tenantId: id, authLevel: "service", communities: [`${id}-c1`, c2], name: "ops" });
    expect(lic.status).toBe(200);
    const { license, licenseKey } = lic.data as { license: { id: string; authLevel: string; disabled: boolean }; licenseKey: string };
    expect(licenseKey).toMatch(/^[0-9a-f]{64}$/);
    expect(license).toMatchObject({ authLevel: "service", disabled: false });

    const list = await boot.call("POST", "/authn/manage/license/list", { tenantId: id });
    expect(list.status).toBe(200);
    const listed = (list.data as { licenses: Record<string, unknown>[] }).licenses;
    expect(listed.map((l) => l.id)).toEqual([license.id]);
    expect(JSON.stringify(list.data)).not.toContain(licenseKey);
    const row = await services().tenants.getTenant(id);
    expect(row).not.toBeNull();
    // Only the hash is stored.
    const raw = await (await import("cloudflare:test")).env.DB.prepare("SELECT * FROM licenses WHERE id = ?").bind(license.id).first<Record<string, unknown>>();
    expect(JSON.stringify(raw)).not.toContain(licenseKey);
  });

  it("403 for a system license issued to one tenant", async () => {
    const boot = await authnCaller(host, BOOT);
    const id = `mt-${n()}`;
    await boot.call("PUT", "/authn/manage/tenant", { tenantId: id, name: "T", communityName: "main" });
    const lic = (await boot.call("PUT", "/authn/manage/license", { tenantId: id, authLevel: "system", communities: ["*"] })).data as { licenseKey: string };
    const tenantSystem = await authnCaller(host, lic.licenseKey);
    expect((await tenantSystem.call("PUT", "/authn/manage/tenant", { name: "escalation", communityName: "x" })).status).toBe(403);
    expect((await tenantSystem.call("PUT", "/authn/manage/license", { tenantId: null, authLevel: "system" })).status).toBe(403);
  });

  it("a deployment-wide system license may manage; disabling refuses it at once in this isolate", async () => {
    const boot = await authnCaller(host, BOOT);
    const id = `mt-${n()}`;
    await boot.call("PUT", "/authn/manage/tenant", { tenantId: id, name: "T", communityName: "main" });
    const lic = (await boot.call("PUT", "/authn/manage/license", { tenantId: null, authLevel: "system" })).data as { license: { id: string }; licenseKey: string };
    const sys = await authnCaller(host, lic.licenseKey);
    expect((await sys.call("POST", "/authn/manage/license/list", { tenantId: id })).status).toBe(200);
    const off = await boot.call("PATCH", `/authn/manage/license/${lic.license.id}`, { disabled: true });
    expect(off.status).toBe(200);
    expect((off.data as { license: { disabled: boolean } }).license.disabled).toBe(true);
    const refused = await sys.call("POST", "/authn/manage/license/list", { tenantId: id });
    expect(refused.status).toBe(401);
    await boot.call("PATCH", `/authn/manage/license/${lic.license.id}`, { disabled: false });
    expect((await sys.call("POST", "/authn/manage/license/list", { tenantId: id })).status).toBe(200);
  });

  it("403 for service and app licenses", async () => {
    for (const level of ["service", "service_ext", "app", "app_ext"] as const) {
      const t = await services().tenants.createTenant({ id: `mt-${n()}`, name: "x" });
      const { licenseKey } = await issueTestLicense(t.id, level, ["*"]);
      const c = await authnCaller(host, licenseKey);
      const r = await c.call("PUT", "/authn/manage/tenant", { name: "nope", communityName: "x" });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ statusCode: 403, error: "Forbidden" });
    }
  });

  it("400 for invalid payloads, 404 for unknown tenants and licenses, 409 for duplicates; nothing stored", async () => {
    const boot = await authnCaller(host, BOOT);
    const id = `mt-${n()}`;
    expect((await boot.call("PUT", "/authn/manage/tenant", { tenantId: "bad id!", name: "x" })).status).toBe(400);
    expect((await boot.call("PUT", "/authn/manage/tenant", { tenantId: id })).status).toBe(400);
    expect(await services().tenants.getTenant(id)).toBeNull();
    expect((await boot.call("PUT", "/authn/manage/tenant", { tenantId: id, name: "x", hostnames: ["not a host"] })).status).toBe(400);
    expect(await services().tenants.getTenant(id)).toBeNull();
    expect((await boot.call("PUT", "/authn/manage/tenant", { tenantId: id, name: "x" })).status).toBe(200);
    expect((await boot.call("PUT", "/authn/manage/tenant", { tenantId: id, name: "x" })).status).toBe(409);
    expect((await boot.call("PUT", `/authn/manage/tenant/${id}/community`, { name: "default" })).status).toBe(409);
    expect((await boot.call("PUT", `/authn/manage/tenant/nope-${id}/community`, { name: "c" })).status).toBe(404);
    expect((await boot.call("PUT", "/authn/manage/license", { tenantId: id, authLevel: "root" })).status).toBe(400);
    expect((await boot.call("PUT", "/authn/manage/license", { tenantId: null, authLevel: "app" })).status).toBe(400);
    expect((await boot.call("PUT", "/authn/manage/license", { tenantId: id, authLevel: "app", communities: ["not-this-tenants"] })).status).toBe(400);
    expect((await boot.call("PUT", "/authn/manage/license", { tenantId: id, authLevel: "app", expiresAt: 1000 })).status).toBe(400);
    expect((await boot.call("PUT", "/authn/manage/license", { tenantId: `nope-${id}`, authLevel: "app" })).status).toBe(404);
    expect((await boot.call("PATCH", "/authn/manage/license/unknown", { disabled: true })).status).toBe(404);
    expect((await boot.call("PATCH", "/authn/manage/license/bootstrap", { disabled: true })).status).toBe(400);
    expect((await boot.call("POST", "/authn/manage/license/list", { tenantId: id })).data).toEqual({ licenses: [] });
    expect((await boot.call("PUT", "/authn/manage/tenant", "not an object")).status).toBe(400);
  });

  it("works in preview mode with plaintext payloads (development only)", async () => {
    const boot = await authnCaller(host, BOOT);
    const r = await boot.call("POST", "/authn/manage/license/list", { tenantId: null }, { plaintext: true });
    expect(r.status).toBe(200);
    expect(Array.isArray((r.body.data as { licenses: unknown[] }).licenses)).toBe(true);
  });
});
