import { outcomeCode as code } from "../../../test/helpers/outcome";
import { describe, expect, it } from "vitest";
import { AuthError } from "../errors";
import { services } from "../../../test/helpers/tenant";
import { verifyPassword } from "../../crypto/password";
import { provisionClient, provisionTenant, provisionUser } from "./provision";

const n = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

describe("provisioning", () => {
  it("creates a tenant with its community and hostnames, idempotently", async () => {
    const svc = services();
    const input = { tenantId: `prov-${n}`, name: "Prov", communityId: `prov-c-${n}`, communityName: "main", hostnames: [`prov-${n}.example.test`] };
    const a = await provisionTenant(svc, input);
    expect(a.created).toBe(true);
    expect(await svc.tenants.domain(`prov-${n}.example.test`)).toEqual({ hostname: `prov-${n}.example.test`, tenantId: a.tenant.id, communityId: a.community.id });
    const b = await provisionTenant(svc, input);
    expect(b.created).toBe(false);
    expect(b.community.id).toBe(a.community.id);
  });

  it("never takes over another tenant's hostname or community id", async () => {
    const svc = services();
    const host = `owned-${n}.example.test`;
    const owner = await provisionTenant(svc, { tenantId: `own-${n}`, name: "Owner", communityId: `own-c-${n}`, communityName: "main", hostnames: [host] });
    expect(await code(provisionTenant(svc, { tenantId: `thief-${n}`, name: "Thief", communityName: "main", hostnames: [host.toUpperCase()] }))).toBe("conflict");
    expect(await code(provisionTenant(svc, { tenantId: `thief2-${n}`, name: "Thief", communityId: `own-c-${n}`, communityName: "x" }))).toBe("conflict");
    expect(await svc.tenants.domain(host)).toMatchObject({ tenantId: owner.tenant.id });
    expect(await svc.tenants.getTenant(`thief-${n}`)).toBeNull();
    expect(await svc.tenants.getTenant(`thief2-${n}`)).toBeNull();
  });

  it("refuses bad hostnames and settings before writing", async () => {
    const svc = services();
    expect(await code(provisionTenant(svc, { tenantId: `bad-${n}`, name: "x", communityName: "c", hostnames: ["not a host"] }))).toBe("invalid_request");
    expect(await code(provisionTenant(svc, { tenantId: `bad2-${n}`, name: "x", communityName: "c", settings: { accessTokenTtlSeconds: "soon" } }))).toBe("invalid_request");
    expect(await svc.tenants.getTenant(`bad-${n}`)).toBeNull();
    expect(await svc.tenants.getTenant(`bad2-${n}`)).toBeNull();
  });

  it("creates users with a verifiable password hash, and refuses duplicates and weak passwords", async () => {
    const svc = services();
    const { tenant, community } = await provisionTenant(svc, { tenantId: `pu-${n}`, name: "PU", communityName: "main" });
    const base = { tenantId: tenant.id, communityId: community.id, roles: ["user"] };
    const u = await provisionUser(svc, { ...base, username: "Carol", password: "a-long-enough-password" });
    expect(u.username).toBe("carol");
    expect((await verifyPassword("a-long-enough-password", u.passwordHash!, svc.config.passwordPepper)).ok).toBe(true);
    expect(await code(provisionUser(svc, { ...base, username: "CAROL", password: "a-long-enough-password" }))).toBe("conflict");
    expect(await code(provisionUser(svc, { ...base, username: "dave", password: "password" }))).toBe("password_policy");
    expect(await code(provisionUser(svc, { ...base, communityId: "nope", username: "erin", password: "a-long-enough-password" }))).toBe("tenant_not_found");
  });

  it("creates clients storing only the secret's digest", async () => {
    const svc = services();
    const { tenant, community } = await provisionTenant(svc, { tenantId: `pc-${n}`, name: "PC", communityName: "main" });
    const base = { tenantId: tenant.id, communityId: community.id, clientId: `pc-client-${n}`, name: "c" };
    const c = await provisionClient(svc, { ...base, secret: "s".repeat(32) });
    expect(c.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(c.grants).toEqual(["client_credentials"]);
    expect(await code(provisionClient(svc, { ...base, secret: "s".repeat(32) }))).toBe("conflict");
    expect(await code(provisionClient(svc, { ...base, clientId: `short-${n}`, secret: "short" }))).toBe("invalid_request");
  });
});

describe("provisioning is all or nothing", () => {
  it("10 concurrent creations of one tenant: exactly one creates it, the others get it, none fails", async () => {
    const svc = services();
    const id = `race-${n}`;
    const input = { tenantId: id, name: "Race", communityId: `race-c-${n}`, communityName: "main", hostnames: [`race-${n}.example.test`] };
    const results = await Promise.all(Array.from({ length: 10 }, () => provisionTenant(svc, input).then((r) => r, (e: unknown) => e)));
    const created = results.filter((r) => !(r instanceof Error) && (r as { created: boolean }).created);
    expect(created).toHaveLength(1);
    for (const r of results) {
      if (r instanceof AuthError) expect(r.code).toBe("conflict");
      else expect(r).toMatchObject({ tenant: { id }, community: { id: `race-c-${n}` } });
    }
    expect(await svc.tenants.listCommunities(id)).toHaveLength(1);
  });

  it("a hostname taken between the check and the write leaves no half tenant", async () => {
    const svc = services();
    const host = `taken-${n}.example.test`;
    const first = await provisionTenant(svc, { tenantId: `owner-${n}`, name: "Owner", communityName: "main", hostnames: [host] });
    // Straight to the store, as a racing request past the core's check would be.
    await expect(svc.tenants.createTenantWithCommunity({ id: `half-${n}`, name: "Half" }, { id: `half-c-${n}`, name: "main" }, [host])).rejects.toThrow();
    expect(await svc.tenants.getTenant(`half-${n}`)).toBeNull();
    expect(await svc.tenants.getCommunity(`half-c-${n}`)).toBeNull();
    expect((await svc.tenants.domain(host))?.tenantId).toBe(first.tenant.id);
  });
});
