import { and, desc, eq } from "drizzle-orm";
import type { AuditEvent, AuditLog } from "../ports";
import { database, parseJson } from "./db";
import { auditEvents } from "./schema";

/** The columns written, in order (schema/core.ts `auditEvents`; `id` is assigned by SQLite). */
const COLUMNS = ["tenant_id", "type", "user_id", "actor_id", "ip", "user_agent", "detail", "at"] as const;
/** D1 binds at most 100 parameters per statement. */
const ROWS_PER_INSERT = Math.floor(100 / COLUMNS.length);
const ROW_PLACEHOLDERS = `(${COLUMNS.map(() => "?").join(", ")})`;

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
      // Multi-row inserts of ROWS_PER_INSERT rows, all statements in one batch (one round trip,
      // one transaction). Plain prepared SQL rather than the query builder: this runs for every
      // token issued, and building the statement cost more than binding it (profiled).
      const statements: D1PreparedStatement[] = [];
      for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
        const chunk = events.slice(i, i + ROWS_PER_INSERT);
        const values: (string | number | null)[] = [];
        for (const e of chunk) {
          const r = toRow(e);
          values.push(r.tenantId, r.type, r.userId ?? null, r.actorId ?? null, r.ip ?? null, r.userAgent ?? null, r.detail ?? "{}", r.at);
        }
        statements.push(d1.prepare(`INSERT INTO audit_events (${COLUMNS.join(", ")}) VALUES ${chunk.map(() => ROW_PLACEHOLDERS).join(", ")}`).bind(...values));
      }
      await d1.batch(statements);
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
