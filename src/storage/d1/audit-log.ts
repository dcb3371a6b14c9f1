import { and, desc, eq } from "drizzle-orm";
import type { AuditEvent, AuditLog } from "../ports";
import { database, parseJson } from "./db";
import { auditEvents } from "./schema";

const ROWS_PER_INSERT = 10;

function toRow(e: AuditEvent & { at: number }): typeof auditEvents.$inferInsert {
  return {
    tenantId: e.tenantId,
    type: e.type,
    userId: e.userId ?? null,
    actorId: e.actorId ?? null,
    ip: e.ip ?? null,
    userAgent: e.userAgent ?? null,
    detail: JSON.stringify(e.detail ?? {}),
    at: e.at,
  };
}

export function D1AuditLog(d1: D1Database): AuditLog {
  const db = database(d1);
  return {
    async record(e) {
      await db.insert(auditEvents).values(toRow({ ...e, at: Date.now() })).run();
    },
    async recordMany(events) {
      if (events.length === 0) return;
      // D1 binds at most 100 parameters per statement: 9 columns, so 10 rows per insert, all
      // statements in one batch (one round trip, one transaction).
      const chunks: (AuditEvent & { at: number })[][] = [];
      for (let i = 0; i < events.length; i += ROWS_PER_INSERT) chunks.push(events.slice(i, i + ROWS_PER_INSERT));
      const [first, ...rest] = chunks.map((c) => db.insert(auditEvents).values(c.map(toRow)));
      await db.batch([first!, ...rest]);
    },
    async list(tenantId, opts = {}) {
      const conds = [eq(auditEvents.tenantId, tenantId)];
      if (opts.type) conds.push(eq(auditEvents.type, opts.type));
      if (opts.userId) conds.push(eq(auditEvents.userId, opts.userId));
      const rows = await db
        .select()
        .from(auditEvents)
        .where(and(...conds))
        .orderBy(desc(auditEvents.id))
        .limit(opts.limit ?? 100)
        .all();
      return rows.map((r) => ({ ...r, detail: parseJson(r.detail, {}) }));
    },
  };
}
