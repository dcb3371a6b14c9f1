import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../env";
import { BOOKMARK_MAX_AGE_S, signBookmark, verifiedBookmark } from "../../http/d1-bookmark";
import { createTestTenant, services } from "../../../test/helpers/tenant";
import { D1Replication, isD1Bookmark, newerBookmark, replication } from "./replica";

/**
 * D1 read replication through the Sessions API (replica.ts). Locally there is one database, so
 * these tests check what can be checked here: every handle reads what was written, bookmarks
 * move forward and round-trip, and what a client sends as a bookmark is never trusted.
 */
const DB = (env as unknown as Env).DB;

describe("the replica handles", () => {
  it("reads through the replica what was written through the primary, and the floor moves forward", async () => {
    const r = new D1Replication(DB);
    expect(r.bookmark).toBeNull();
    const id = `rep-${crypto.randomUUID()}`;
    await r.primary.prepare("INSERT INTO tenants (id, name, settings, created_at) VALUES (?, ?, '{}', ?)").bind(id, "Replica", Date.now()).run();
    const afterWrite = r.bookmark;
    expect(afterWrite !== null && isD1Bookmark(afterWrite)).toBe(true);
    const row = await r.replica.prepare("SELECT name FROM tenants WHERE id = ?").bind(id).first<{ name: string }>();
    expect(row?.name).toBe("Replica");
    expect(await r.replica.prepare("SELECT name FROM tenants WHERE id = ?").bind(id).first("name")).toBe("Replica");
    expect((await r.replica.prepare("SELECT id FROM tenants WHERE id = ?").bind(id).raw())[0]).toEqual([id]);
    // A read may only move the floor forward.
    expect(r.bookmark! >= afterWrite!).toBe(true);
  });

  it("runs a batch through either handle as one transaction", async () => {
    const r = new D1Replication(DB);
    const id = `rep-${crypto.randomUUID()}`;
    const insert = r.primary.prepare("INSERT INTO tenants (id, name, settings, created_at) VALUES (?, ?, '{}', ?)");
    // The second statement fails (same primary key): the first is rolled back with it.
    await expect(r.primary.batch([insert.bind(id, "a", 1), insert.bind(id, "b", 2)])).rejects.toThrow();
    const [read] = await r.replica.batch<{ n: number }>([r.replica.prepare("SELECT count(*) AS n FROM tenants WHERE id = ?").bind(id)]);
    expect(read!.results[0]!.n).toBe(0);
  });

  it("a request session started from a bookmark reads the write that bookmark follows, and reports a newer one", async () => {
    const r = new D1Replication(DB);
    const writer = r.session(null);
    const id = `rep-${crypto.randomUUID()}`;
    expect(writer.bookmark()).toBeNull();
    await writer.db.prepare("INSERT INTO tenants (id, name, settings, created_at) VALUES (?, ?, '{}', ?)").bind(id, "Session", Date.now()).run();
    const written = writer.bookmark()!;
    expect(isD1Bookmark(written)).toBe(true);

    const reader = r.session(written);
    const row = await reader.db.prepare("SELECT name FROM tenants WHERE id = ?").bind(id).first<{ name: string }>();
    expect(row?.name).toBe("Session");
    expect(reader.bookmark()! >= written).toBe(true);
  });

  it("a writing request's session reports the newest bookmark its statements left", async () => {
    const r = new D1Replication(DB);
    const w = r.writeSession();
    expect(w.bookmark()).toBeNull();
    const id = `rep-${crypto.randomUUID()}`;
    await w.db.prepare("INSERT INTO tenants (id, name, settings, created_at) VALUES (?, ?, '{}', ?)").bind(id, "Writer", Date.now()).run();
    const first = w.bookmark()!;
    await w.db.prepare("UPDATE tenants SET name = ? WHERE id = ?").bind("Writer 2", id).run();
    expect(w.bookmark()! > first).toBe(true);
    expect(r.bookmark).toBe(w.bookmark());
    const read = r.session(w.bookmark());
    expect(await read.db.prepare("SELECT name FROM tenants WHERE id = ?").bind(id).first("name")).toBe("Writer 2");
  });

  it("a string that is not a bookmark opens the session on the primary", async () => {
    const r = new D1Replication(DB);
    for (const junk of ["", "garbage", "00000000-00000000-00000000", "FFFFFFFF-00000000-00000000-00000000000000000000000000000000"]) {
      const s = r.session(junk);
      expect(await s.db.prepare("SELECT 1 AS one").first("one")).toBe(1);
      expect(isD1Bookmark(s.bookmark()!)).toBe(true);
    }
  });

  it("one replication per binding per isolate", () => {
    expect(replication(DB)).toBe(replication(DB));
  });

  it("bookmarks compare oldest first", () => {
    const a = "00000000-0000000c-00000000-00000000000000000000000000000000";
    const b = "00000000-0000000d-00000000-00000000000000000000000000000000";
    expect(newerBookmark(a, b)).toBe(b);
    expect(newerBookmark(b, a)).toBe(b);
    expect(newerBookmark(null, a)).toBe(a);
    expect(newerBookmark(a, null)).toBe(a);
  });
});

describe("the stores on replicas", () => {
  it("tenant resolution through the replica sees a tenant and a domain just written in this isolate", async () => {
    const t = await createTestTenant();
    const reads = services().replicaReads.tenants;
    expect((await reads.getTenant(t.tenant.id))?.id).toBe(t.tenant.id);
    expect(await reads.domain(t.host)).toMatchObject({ tenantId: t.tenant.id });
    const host = `late-${crypto.randomUUID()}.example.test`;
    await services().tenants.bindDomain({ hostname: host, tenantId: t.tenant.id, communityId: t.community.id });
    expect(await reads.domain(host)).toMatchObject({ tenantId: t.tenant.id, communityId: t.community.id });
    expect(await reads.hostnames(t.tenant.id)).toContain(host);
  });
});

describe("the x-d1-bookmark header", () => {
  const secret = "test-key-encryption-secret-0123456789abcdef";
  const bm = "00000000-0000002a-00000000-0123456789abcdef0123456789abcdef";

  it("round-trips a bookmark we signed", async () => {
    const h = await signBookmark(secret, bm);
    expect(h.length).toBeLessThanOrEqual(128);
    expect(await verifiedBookmark(secret, h)).toBe(bm);
  });

  it("ignores a raw bookmark, a forged or altered one, another key's, an expired one and junk", async () => {
    const h = await signBookmark(secret, bm);
    const later = bm.replace("0000002a", "ffffffff");
    const cases = [
      undefined,
      null,
      "",
      bm,
      h.replace(bm, later),
      h.slice(0, -2) + (h.endsWith("AA") ? "BB" : "AA"),
      await signBookmark("another-secret-0123456789abcdef0123456789", bm),
      await signBookmark(secret, bm, Date.now() - (BOOKMARK_MAX_AGE_S + 5) * 1000),
      await signBookmark(secret, bm, Date.now() + 3600_000),
      `${h}x`,
      h + "x".repeat(200),
      h.toUpperCase(),
      "\u0000".repeat(100),
      `${bm}.zzzzzzzzz.${"A".repeat(43)}`,
    ];
    for (const c of cases) expect(await verifiedBookmark(secret, c)).toBeNull();
  });
});
