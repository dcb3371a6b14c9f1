import { desc, eq, isNull } from "drizzle-orm";
import type { License, LicenseLevel, LicenseStore } from "../ports-licenses";
import { database, parseJson } from "./db";
import { licenses } from "./schema/licenses";

type LicenseRow = typeof licenses.$inferSelect;

const toLicense = (r: LicenseRow): License => ({
  id: r.id,
  tenantId: r.tenantId,
  authLevel: r.authLevel as LicenseLevel,
  communities: parseJson<string[]>(r.communities, []),
  name: r.name,
  expiresAt: r.expiresAt,
  disabled: r.disabled,
  createdAt: r.createdAt,
});

/** Licenses in D1, looked up by the SHA-256 of the key (the key itself is never stored). */
export function D1LicenseStore(d1: D1Database): LicenseStore {
  const db = database(d1);
  return {
    async byKeyHash(keyHash) {
      const r = await db.select().from(licenses).where(eq(licenses.keyHash, keyHash)).get();
      return r ? toLicense(r) : null;
    },
    async byId(id) {
      const r = await db.select().from(licenses).where(eq(licenses.id, id)).get();
      return r ? toLicense(r) : null;
    },
    async create(l) {
      await db
        .insert(licenses)
        .values({
          id: l.id,
          keyHash: l.keyHash,
          tenantId: l.tenantId,
          authLevel: l.authLevel,
          communities: JSON.stringify(l.communities),
          name: l.name,
          expiresAt: l.expiresAt,
          disabled: l.disabled,
          createdAt: l.createdAt,
        })
        .run();
      const { keyHash: _omit, ...license } = l;
      return license;
    },
    async list(tenantId) {
      const rows = await db
        .select()
        .from(licenses)
        .where(tenantId === null ? isNull(licenses.tenantId) : eq(licenses.tenantId, tenantId))
        .orderBy(desc(licenses.createdAt))
        .all();
      return rows.map(toLicense);
    },
    async setDisabled(id, disabled) {
      const res = await db.update(licenses).set({ disabled }).where(eq(licenses.id, id)).run();
      return (res.meta?.changes ?? 0) > 0;
    },
  };
}
