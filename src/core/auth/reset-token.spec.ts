import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { parseTenantSettings } from "../tenants/settings";
import type { Community } from "../../storage/ports";
import type { Scope } from "../context";
import { findResetRecipients } from "./reset-token";

let t: TestTenant;
let second: Community;
beforeAll(async () => {
  t = await createTestTenant();
  second = await services().tenants.createCommunity({ id: `${t.community.id}-b`, tenantId: t.tenant.id, name: `second-${t.community.id}` });
});

const scopeIn = (community: Community): Scope => ({ tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community, ip: "203.0.113.7", userAgent: null });

describe("findResetRecipients", () => {
  it("prefers the request's community, and falls back to the tenant's other communities", async () => {
    const svc = services();
    const email = `shared@${t.host}`;
    const inFirst = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "shared", email });
    const inSecond = await svc.users.create({ tenantId: t.tenant.id, communityId: second.id, username: "shared", email });
    expect((await findResetRecipients(svc, scopeIn(t.community), email)).map((u) => u.uid)).toEqual([inFirst.uid]);
    expect((await findResetRecipients(svc, scopeIn(second), email)).map((u) => u.uid)).toEqual([inSecond.uid]);

    const onlySecond = `only-second@${t.host}`;
    const lone = await svc.users.create({ tenantId: t.tenant.id, communityId: second.id, username: "lone", email: onlySecond });
    expect((await findResetRecipients(svc, scopeIn(t.community), onlySecond)).map((u) => u.uid)).toEqual([lone.uid]);
  });

  it("skips disabled users and other tenants", async () => {
    const svc = services();
    const email = `off@${t.host}`;
    await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "off", email, disabled: true });
    expect(await findResetRecipients(svc, scopeIn(t.community), email)).toEqual([]);
    const other = await createTestTenant();
    await svc.users.create({ tenantId: other.tenant.id, communityId: other.community.id, username: "elsewhere", email: `elsewhere@${t.host}` });
    expect(await findResetRecipients(svc, scopeIn(t.community), `elsewhere@${t.host}`)).toEqual([]);
  });
});
