import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { parseTenantSettings } from "../tenants/settings";
import type { Scope, Services } from "../context";
import { createFeaturedServiceProvider } from "./featured";

/** Core: a featured create whose registration job cannot be queued. */
let t: TestTenant;
let scope: Scope;
beforeAll(async () => {
  t = await createTestTenant();
  scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings, t.tenant.id), community: t.community, ip: "203.0.113.9", userAgent: null };
});

describe("createFeaturedServiceProvider", () => {
  it("a queue that refuses the job: the SP exists and says its registration failed (no 500, no SP stuck pending)", async () => {
    const svc: Services = { ...services(), jobs: { send: async () => Promise.reject(new Error("queue down")) } };
    const view = await createFeaturedServiceProvider(svc, scope, "okta", { name: "Okta", domain: "https://q.okta.test", ssoUrl: "https://idp.example.test/sso", config: { apiToken: "tok" } });
    const reg = (view.featured as { registration: { status: string; detail: string } }).registration;
    expect(reg.status).toBe("failed");
    expect(reg.detail).toContain("could not be queued");
    const row = await services().identity.serviceProviders.get(t.tenant.id, t.community.id, view._id);
    expect((row!.body.featured as { registration: { status: string } }).registration.status).toBe("failed");
    expect(view.__v).toBe(1);
  });
});
