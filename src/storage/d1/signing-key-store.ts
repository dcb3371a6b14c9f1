import { and, desc, eq, inArray } from "drizzle-orm";
import type { SigningKeyRecord, SigningKeyStore } from "../../crypto/keys";
import { database, isUniqueViolation } from "./db";
import { signingKeys } from "./schema";

export function D1SigningKeyStore(d1: D1Database): SigningKeyStore {
  const db = database(d1);
  return {
    async listActive(purpose) {
      const rows = await db
        .select()
        .from(signingKeys)
        .where(and(eq(signingKeys.purpose, purpose), inArray(signingKeys.status, ["current", "previous"])))
        .orderBy(desc(signingKeys.createdAt))
        .all();
      return rows as SigningKeyRecord[];
    },
    async insertCurrent(record) {
      try {
        await db.insert(signingKeys).values(record).run();
        return true;
      } catch (e) {
        if (isUniqueViolation(e)) return false;
        throw e;
      }
    },
  };
}
