import { and, count, eq, isNull } from "drizzle-orm";
import { uuid } from "../../crypto/random";
import type { RecoveryCodeStore } from "../ports-recovery";
import { database } from "./db";
import { recoveryCodes } from "./schema/factors";

/** recovery_codes through drizzle (docs/storage-schema.md "recovery_codes"). */
export function D1RecoveryCodeStore(d1: D1Database): RecoveryCodeStore {
  const db = database(d1);
  return {
    async replace(tenantId, userUid, digests, now) {
      const del = db.delete(recoveryCodes).where(and(eq(recoveryCodes.tenantId, tenantId), eq(recoveryCodes.userUid, userUid)));
      const rows = digests.map((codeHash) => ({ id: uuid(), tenantId, userUid, codeHash, createdAt: now, usedAt: null }));
      // One batch: D1 runs it as a transaction, so no reader sees both sets or neither.
      if (rows.length === 0) await del.run();
      else await db.batch([del, db.insert(recoveryCodes).values(rows)]);
    },
    async consume(tenantId, userUid, digest, now) {
      const r = await db
        .update(recoveryCodes)
        .set({ usedAt: now })
        .where(and(eq(recoveryCodes.tenantId, tenantId), eq(recoveryCodes.userUid, userUid), eq(recoveryCodes.codeHash, digest), isNull(recoveryCodes.usedAt)))
        .run();
      return (r.meta.changes ?? 0) === 1;
    },
    async remaining(tenantId, userUid) {
      const [row] = await db
        .select({ n: count() })
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.tenantId, tenantId), eq(recoveryCodes.userUid, userUid), isNull(recoveryCodes.usedAt)))
        .all();
      return row?.n ?? 0;
    },
  };
}
