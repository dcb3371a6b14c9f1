import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { parseTenantSettings } from "../tenants/settings";
import { recordAudit } from "./audit";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

async function count(type: string, expected: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < 60 && n < expected; i++) {
    n = (await services().audit.list(t.tenant.id, { type, limit: 1000 })).length;
    if (n < expected) await new Promise((r) => setTimeout(r, 25));
  }
  return n;
}

describe("audit batching", () => {
  it("writes every event of a burst, across D1's per-statement parameter limit", async () => {
    const svc = services();
    const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "198.51.100.1", userAgent: "ua" };
    for (let i = 0; i < 37; i++) recordAudit(svc, scope, "burst", { userId: `u${i}`, detail: { i } });
    expect(await count("burst", 37)).toBe(37);
    const events = await svc.audit.list(t.tenant.id, { type: "burst", limit: 1000 });
    expect(new Set(events.map((e) => e.userId)).size).toBe(37);
    expect(events[0]).toMatchObject({ ip: "198.51.100.1", userAgent: "ua" });
  });

  it("a burst larger than one batch is written in full", async () => {
    const svc = services();
    const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "198.51.100.2", userAgent: null };
    for (let i = 0; i < 450; i++) recordAudit(svc, scope, "flood", { detail: { i } });
    expect(await count("flood", 450)).toBe(450);
  });
});
