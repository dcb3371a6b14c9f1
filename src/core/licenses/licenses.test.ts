import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { D1LicenseStore } from "../../storage/d1/license-store";
import type { License } from "../../storage/ports-licenses";
import { AuthError } from "../errors";
import { authorizeLicense, createLicense, LicenseResolver } from "./licenses";

const base: License = { id: "l1", tenantId: "t1", authLevel: "service", communities: ["c1"], name: "", expiresAt: null, disabled: false, createdAt: 0 };
const code = (f: () => void) => {
  try {
    f();
    return "ok";
  } catch (e) {
    return e instanceof AuthError ? e.code : "other";
  }
};

describe("authorizeLicense", () => {
  it("applies level, tenant, community, expiry and disabled rules", () => {
    const req = { levels: ["system", "service"] as const, tenantId: "t1", communityId: "c1" };
    expect(code(() => authorizeLicense(base, req))).toBe("ok");
    expect(code(() => authorizeLicense({ ...base, authLevel: "app" }, req))).toBe("forbidden");
    expect(code(() => authorizeLicense(base, { ...req, tenantId: "t2" }))).toBe("forbidden");
    expect(code(() => authorizeLicense(base, { ...req, communityId: "c2" }))).toBe("forbidden");
    expect(code(() => authorizeLicense({ ...base, communities: ["*"] }, { ...req, communityId: "c2" }))).toBe("ok");
    expect(code(() => authorizeLicense(base, { ...req, communityId: null }))).toBe("ok");
    expect(code(() => authorizeLicense({ ...base, disabled: true }, req))).toBe("invalid_credentials");
    expect(code(() => authorizeLicense({ ...base, expiresAt: Date.now() - 1 }, req))).toBe("invalid_credentials");
    expect(code(() => authorizeLicense({ ...base, expiresAt: Date.now() + 60_000 }, req))).toBe("ok");
    expect(code(() => authorizeLicense({ ...base, authLevel: "app_ext" }, { ...req, levels: "any" }))).toBe("ok");
    // A deployment-wide system license is accepted for every tenant and community.
    expect(code(() => authorizeLicense({ ...base, authLevel: "system", tenantId: null, communities: [] }, { ...req, tenantId: "t9", communityId: "c9" }))).toBe("ok");
    // A tenant's system license stays in its tenant.
    expect(code(() => authorizeLicense({ ...base, authLevel: "system" }, { ...req, tenantId: "t9" }))).toBe("forbidden");
  });
});

describe("LicenseResolver", () => {
  it("resolves by key hash, caches within the bound, and knows the bootstrap key", async () => {
    const store = D1LicenseStore(env.DB);
    const { license, licenseKey } = await createLicense(store, { tenantId: null, authLevel: "system", communities: [] });
    // A 2 s cache bound: the steps between the first resolve and the "cached" check are D1
    // writes and reads, which took longer than a 50 ms bound when test files ran side by side.
    const r = new LicenseResolver(store, "bootstrap-key-0123456789abcdef", 2000);
    expect((await r.resolve(licenseKey))?.id).toBe(license.id);
    expect(await r.resolve("unknown")).toBeNull();
    expect(await r.resolve("")).toBeNull();
    expect((await r.resolve("bootstrap-key-0123456789abcdef"))?.authLevel).toBe("system");
    await store.setDisabled(license.id, true);
    expect((await r.resolve(licenseKey))?.disabled).toBe(false); // cached
    await new Promise((res) => setTimeout(res, 2100));
    expect((await r.resolve(licenseKey))?.disabled).toBe(true);
    // No bootstrap license when the secret is unset or too short.
    expect(await new LicenseResolver(store, "", 50).resolve("")).toBeNull();
    expect(await new LicenseResolver(store, "short", 50).resolve("short")).toBeNull();
  });
});
