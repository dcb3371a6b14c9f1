import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { sleep } from "../../api/userpool/testing";
import { RECENT_MS, forgetRecentUsers, recentUserById, recentUserByUid } from "./recent-users";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
  forgetRecentUsers();
});

const setFirstNameBehindTheCache = (uid: string, name: string) =>
  env.DB.prepare("UPDATE users SET first_name = ? WHERE uid = ?").bind(name, uid).run();

describe("recent users (hot-path user rows, at most a second old)", () => {
  it("serves a row for at most RECENT_MS, with the time it was read", async () => {
    const svc = services();
    const before = Date.now();
    const first = await recentUserByUid(svc.users, t.tenant.id, t.alice.uid);
    expect(first.user?.uid).toBe(t.alice.uid);
    expect(first.readAt).toBeGreaterThanOrEqual(before);
    await setFirstNameBehindTheCache(t.alice.uid, "Changed elsewhere");
    const withinBound = Date.now() - first.readAt < RECENT_MS - 100;
    const cached = await recentUserByUid(svc.users, t.tenant.id, t.alice.uid);
    // (On a machine too loaded to get here within the bound, the row is simply read again.)
    if (withinBound) {
      expect(cached.readAt).toBe(first.readAt);
      expect(cached.user?.firstName).toBe("Alice");
    }
    await sleep(RECENT_MS + 50);
    const later = await recentUserByUid(svc.users, t.tenant.id, t.alice.uid);
    expect(later.user?.firstName).toBe("Changed elsewhere");
    expect(later.readAt).toBeGreaterThan(first.readAt);
  });

  it("a write through the store evicts the row in this isolate at once, by uid and by id", async () => {
    const svc = services();
    await recentUserByUid(svc.users, t.tenant.id, t.admin.uid);
    await recentUserById(svc.users, t.tenant.id, t.admin.id);
    await svc.users.update(t.tenant.id, t.admin.uid, { disabled: true });
    expect((await recentUserByUid(svc.users, t.tenant.id, t.admin.uid)).user?.disabled).toBe(true);
    expect((await recentUserById(svc.users, t.tenant.id, t.admin.id)).user?.disabled).toBe(true);
    await svc.users.update(t.tenant.id, t.admin.uid, { disabled: false });
    expect((await recentUserById(svc.users, t.tenant.id, t.admin.id)).user?.disabled).toBe(false);
  });

  it("remembers a missing user too, and never crosses tenants", async () => {
    const svc = services();
    const other = await createTestTenant();
    expect((await recentUserByUid(svc.users, other.tenant.id, t.alice.uid)).user).toBeNull();
    expect((await recentUserById(svc.users, other.tenant.id, t.alice.id)).user).toBeNull();
    expect((await recentUserByUid(svc.users, t.tenant.id, "no-such-uid")).user).toBeNull();
  });
});
