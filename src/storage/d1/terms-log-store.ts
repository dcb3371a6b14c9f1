import { and, desc, eq } from "drizzle-orm";
import type { TermsLogStore } from "../ports";
import { database } from "./db";
import { termsAcceptances } from "./schema";

/** The terms-and-conditions acceptance log (append only). */
export function D1TermsLogStore(d1: D1Database): TermsLogStore {
  const db = database(d1);
  return {
    async record(a) {
      await db.insert(termsAcceptances).values(a).run();
    },
    async list(tenantId, userId, limit = 50) {
      const rows = await db
        .select()
        .from(termsAcceptances)
        .where(and(eq(termsAcceptances.tenantId, tenantId), eq(termsAcceptances.userId, userId)))
        .orderBy(desc(termsAcceptances.id))
        .limit(limit)
        .all();
      return rows.map(({ id: _id, ...a }) => a);
    },
  };
}
