import { afterEach, describe, expect, it, vi } from "vitest";
import { parseTenantSettings, readTenantSettings, refreshRotates, tenantSettingsSchema } from "./settings";

const defaults = tenantSettingsSchema.parse({});
const okta = { baseUrl: "https://acme.okta.com", clientId: "cid", issuer: "https://acme.okta.com/oauth2/default", audience: "api://default", mapRoles: { Admins: ["admin"] } };

describe("tenant settings: reads that lose nothing", () => {
  afterEach(() => vi.restoreAllMocks());

  it("valid settings read as stored, with nothing replaced", () => {
    const r = readTenantSettings({ accessTokenTtlSeconds: 600, okta });
    expect(r.replaced).toEqual([]);
    expect(r.settings.accessTokenTtlSeconds).toBe(600);
    expect(r.settings.okta?.mapRoles).toEqual({ Admins: ["admin"] });
  });

  it("a bad okta.mapRoles resets only mapRoles: the Okta config and every lifetime stay", () => {
    const r = readTenantSettings({ accessTokenTtlSeconds: 600, refreshTokenTtlSeconds: 7200, okta: { ...okta, mapRoles: { Admins: "admin" } } });
    expect(r.replaced).toEqual(["okta.mapRoles"]);
    expect(r.settings.okta).toMatchObject({ baseUrl: okta.baseUrl, clientId: "cid", mapRoles: {} });
    expect(r.settings.accessTokenTtlSeconds).toBe(600);
    expect(r.settings.refreshTokenTtlSeconds).toBe(7200);
  });

  it("a bad nested field takes its default; its siblings stay", () => {
    const r = readTenantSettings({ lockout: { userThreshold: 0, ipThreshold: 50 }, password: { minLength: 12, blocklist: ["ok", 7] } });
    expect(r.replaced.sort()).toEqual(["lockout.userThreshold", "password.blocklist"]);
    expect(r.settings.lockout.userThreshold).toBe(defaults.lockout.userThreshold);
    expect(r.settings.lockout.ipThreshold).toBe(50);
    expect(r.settings.password.minLength).toBe(12);
    // A list with a bad entry is reset as a whole, never silently shortened.
    expect(r.settings.password.blocklist).toEqual([]);
  });

  it("an optional block missing a required field is dropped as a whole", () => {
    const r = readTenantSettings({ idTokenTtlSeconds: 120, okta: { ...okta, baseUrl: 42 } });
    expect(r.replaced).toEqual(["okta"]);
    expect(r.settings.okta).toBeUndefined();
    expect(r.settings.idTokenTtlSeconds).toBe(120);
    const missing = readTenantSettings({ oktaTokenHook: { header: "x-hook" } });
    expect(missing.replaced).toEqual(["oktaTokenHook"]);
    expect(missing.settings.oktaTokenHook).toBeUndefined();
  });

  it("top-level scalars of the wrong type take their defaults; unknown keys are kept", () => {
    const r = readTenantSettings({ accessTokenTtlSeconds: "3600", refreshGraceSeconds: 1000, futureFeature: { on: true } });
    expect(r.replaced.sort()).toEqual(["accessTokenTtlSeconds", "refreshGraceSeconds"]);
    expect(r.settings.accessTokenTtlSeconds).toBe(defaults.accessTokenTtlSeconds);
    expect((r.settings as Record<string, unknown>).futureFeature).toEqual({ on: true });
  });

  it("stored JSON that is not an object reads as all defaults", () => {
    for (const raw of [null, [], "x", 3]) {
      const r = readTenantSettings(raw);
      expect(r.replaced).toEqual(["(all)"]);
      expect(r.settings).toEqual(defaults);
    }
  });

  it("does not modify the stored object (it sits in the tenant cache)", () => {
    const raw = { lockout: { userThreshold: 0 } };
    readTenantSettings(raw);
    expect(raw).toEqual({ lockout: { userThreshold: 0 } });
  });

  it("cors: exact origins only, at most 50; defaults for credentials and max age", () => {
    const ok = readTenantSettings({ cors: { allowedOrigins: ["https://app.example.com", "http://localhost:5173"] } });
    expect(ok.replaced).toEqual([]);
    expect(ok.settings.cors).toEqual({ allowedOrigins: ["https://app.example.com", "http://localhost:5173"], allowCredentials: false, maxAgeSeconds: 600 });
    for (const bad of ["*", "null", "https://app.example.com/", "https://App.example.com", "https://app.example.com:443", "https://app.example.com/path", "ftp://x.example.com", "https://u@app.example.com", "app.example.com"]) {
      expect(tenantSettingsSchema.safeParse({ cors: { allowedOrigins: [bad] } }).success, bad).toBe(false);
    }
    const many = Array.from({ length: 51 }, (_, i) => `https://a${i}.example.com`);
    expect(tenantSettingsSchema.safeParse({ cors: { allowedOrigins: many } }).success).toBe(false);
    // Stored invalid: the list is reset, the other CORS fields stay.
    const r = readTenantSettings({ cors: { allowedOrigins: ["*"], maxAgeSeconds: 60 } });
    expect(r.replaced).toEqual(["cors.allowedOrigins"]);
    expect(r.settings.cors).toEqual({ allowedOrigins: [], allowCredentials: false, maxAgeSeconds: 60 });
  });

  it("parseTenantSettings warns once per tenant and set of paths, naming paths and never values", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const secret = "f".repeat(64);
    const raw = { oktaTokenHook: { header: 7, secretSha256: secret }, accessTokenTtlSeconds: 1 };
    const tenantId = `t-warn-${Math.random().toString(36).slice(2)}`;
    const s = parseTenantSettings(raw, tenantId);
    parseTenantSettings(raw, tenantId);
    expect(s.oktaTokenHook).toEqual({ secretSha256: secret });
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toContain(tenantId);
    expect(message).toContain("oktaTokenHook.header");
    expect(message).toContain("accessTokenTtlSeconds");
    expect(message).not.toContain(secret);
    parseTenantSettings({ accessTokenTtlSeconds: 1 }, tenantId);
    expect(warn).toHaveBeenCalledTimes(2);
    parseTenantSettings({}, tenantId);
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it("refreshRotation: off for the userpool by default; on when stored; a bad value falls back alone", () => {
    expect(refreshRotates(defaults, "userpool")).toBe(false);
    const on = readTenantSettings({ refreshRotation: { userpool: true }, accessTokenTtlSeconds: 600 });
    expect(on.replaced).toEqual([]);
    expect(refreshRotates(on.settings, "userpool")).toBe(true);
    const bad = readTenantSettings({ refreshRotation: { userpool: "yes" }, accessTokenTtlSeconds: 600 });
    expect(bad.replaced).toEqual(["refreshRotation.userpool"]);
    expect(refreshRotates(bad.settings, "userpool")).toBe(false);
    expect(bad.settings.accessTokenTtlSeconds).toBe(600);
  });
});
