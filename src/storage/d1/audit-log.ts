import { and, desc, eq } from "drizzle-orm";
import type { AuditLog } from "../ports";
import { database, parseJson } from "./db";
import { auditEvents } from "./schema";

export function D1AuditLog(d1: D1Database): AuditLog {
  const db = database(d1);
  return {
    async record(e) {
      await db
        .insert(auditEvents)
        .values({
          tenantId: e.tenantId,
          type: e.type,
          userId: e.userId ?? null,
          actorId: e.actorId ?? null,
          ip: e.ip ?? null,
          userAgent: e.userAgent ?? null,
          detail: JSON.stringify(e.detail ?? {}),
          at: Date.now(),
        })
        .run();
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
