import { and, asc, eq, isNull, lt, ne, sql } from "drizzle-orm";
import type { VerificationRecord } from "../../core/tenants/cloudflare-custom-hostnames";
import type { CustomHostnameRecord, CustomHostnameStore } from "../ports-hostnames";
import { DuplicateKeyError } from "../ports-authn";
import { database, isUniqueViolation, parseJson } from "./db";
import { customHostnames, domains } from "./schema";

type Row = typeof customHostnames.$inferSelect;

const toRecord = (r: Row): CustomHostnameRecord => ({
  ...r,
  sslMethod: r.sslMethod === "txt" ? "txt" : "http",
  records: parseJson<VerificationRecord[]>(r.records, []),
  errors: parseJson<string[]>(r.errors, []),
});

/** D1 store of Cloudflare for SaaS bindings (schema/custom-hostnames.ts). */
export function D1CustomHostnameStore(d1: D1Database): CustomHostnameStore {
  const db = database(d1);
  return {
    async get(hostname) {
      const r = await db.select().from(customHostnames).where(eq(customHostnames.hostname, hostname.toLowerCase())).get();
      return r ? toRecord(r) : null;
    },
    async create(r) {
      try {
        await db
          .insert(customHostnames)
          .values({ ...r, hostname: r.hostname.toLowerCase(), records: JSON.stringify(r.records), errors: JSON.stringify(r.errors) })
          .run();
      } catch (e) {
        if (isUniqueViolation(e)) throw new DuplicateKeyError("hostname already has a custom hostname binding");
        throw e;
      }
    },
    async update(hostname, c) {
      const r = await db
        .update(customHostnames)
        .set({ status: c.status, sslStatus: c.sslStatus, records: JSON.stringify(c.records), errors: JSON.stringify(c.errors), checkedAt: c.checkedAt, ...(c.communityId ? { communityId: c.communityId } : {}) })
        .where(eq(customHostnames.hostname, hostname.toLowerCase()))
        .run();
      return (r.meta.changes ?? 0) > 0;
    },
    async promote(hostname, c, b) {
      const h = hostname.toLowerCase();
      // The upsert's WHERE keeps another tenant's mapping (bound by hand meanwhile) untouched;
      // the row update is conditioned on the mapping having landed, so the two agree.
      const [, mapped] = await db.batch([
        db
          .insert(domains)
          .values({ hostname: h, tenantId: b.tenantId, communityId: b.communityId })
          .onConflictDoUpdate({ target: domains.hostname, set: { communityId: b.communityId }, setWhere: eq(domains.tenantId, b.tenantId) }),
        db.select({ tenantId: domains.tenantId }).from(domains).where(eq(domains.hostname, h)),
        db
          .update(customHostnames)
          .set({ status: c.status, sslStatus: c.sslStatus, records: JSON.stringify(c.records), errors: JSON.stringify(c.errors), checkedAt: c.checkedAt, activeAt: sql`coalesce(${customHostnames.activeAt}, ${c.checkedAt})` })
          .where(and(eq(customHostnames.hostname, h), sql`exists (select 1 from domains where hostname = ${h} and tenant_id = ${b.tenantId})`)),
      ]);
      return mapped.length === 1 && mapped[0]!.tenantId === b.tenantId;
    },
    async remove(hostname, tenantId) {
      const h = hostname.toLowerCase();
      await db.batch([
        db.delete(customHostnames).where(and(eq(customHostnames.hostname, h), eq(customHostnames.tenantId, tenantId))),
        db.delete(domains).where(and(eq(domains.hostname, h), eq(domains.tenantId, tenantId))),
      ]);
    },
    async due(checkedBefore, limit) {
      const rows = await db
        .select()
        .from(customHostnames)
        .where(and(isNull(customHostnames.activeAt), ne(customHostnames.status, "deleted"), lt(customHostnames.checkedAt, checkedBefore)))
        .orderBy(asc(customHostnames.checkedAt))
        .limit(limit)
        .all();
      return rows.map(toRecord);
    },
  };
}
