import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { callJson } from "../../../test/helpers/http";
import { parseTenantSettings } from "../tenants/settings";
import { issueSession } from "./tokens";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

async function auditedUses(): Promise<number> {
  // Audit writes settle after the response (waitUntil): poll briefly.
  for (let i = 0; i < 40; i++) {
    const events = await services().audit.list(t.tenant.id, { type: "impersonated_request", userId: t.alice.uid });
    if (events.length) return events.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  return 0;
}

describe("impersonation tokens on any surface", () => {
  it("are audited with both identities when another surface verifies them", async () => {
    const svc = services();
    const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.9", userAgent: null };
    const s = await issueSession(
      svc,
      scope,
      { sub: t.alice.uid, communityId: t.community.id, username: t.alice.username, roles: t.alice.roles, user: t.alice },
      { refresh: false, idToken: false, act: { sub: t.admin.uid, username: t.admin.username } },
    );
    const r = await callJson("GET", "/api/auth/token-info", undefined, { host: t.host, headers: { authorization: `Bearer ${s.accessToken}` } });
    expect(r.status).toBe(200);
    expect(await auditedUses()).toBeGreaterThanOrEqual(1);
    const [e] = await svc.audit.list(t.tenant.id, { type: "impersonated_request", userId: t.alice.uid });
    expect(e?.actorId).toBe(t.admin.uid);
  });

  it("an ordinary token leaves no impersonation audit", async () => {
    const r = await callJson("POST", "/v1/login", { username: "admin", password: "correct horse battery staple" }, { host: t.host });
    expect(r.status).toBe(200);
    await callJson("GET", "/api/auth/token-info", undefined, { host: t.host, headers: { authorization: `Bearer ${r.body.access_token as string}` } });
    const events = await services().audit.list(t.tenant.id, { type: "impersonated_request", userId: t.admin.uid });
    expect(events).toHaveLength(0);
  });
});
