import { and, eq, sql } from "drizzle-orm";
import type { TypingProfileStore, UwlAuthenticatorStore } from "../ports-uwl-typing";
import { database } from "./db";
import { typingProfiles, uwlAuthenticators } from "./schema";

/** UWL authenticators (uwl_authenticators). One key is registered at most once per user. */
export function D1UwlAuthenticatorStore(d1: D1Database): UwlAuthenticatorStore {
  const db = database(d1);
  return {
    async add(a) {
      // No unique index on (tenant, user, key) in migration 0009: the duplicate check and the
      // insert are one statement, so two racing registrations of one key cannot both land.
      const r = await d1
        .prepare(
          `INSERT INTO uwl_authenticators (id, tenant_id, community_id, user_uid, public_key, curve, name, created_at, last_used_at)
           SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL
           WHERE NOT EXISTS (SELECT 1 FROM uwl_authenticators WHERE tenant_id = ?2 AND user_uid = ?4 AND public_key = ?5)`,
        )
        .bind(a.id, a.tenantId, a.communityId, a.userUid, a.publicKey, a.curve, a.name, a.createdAt)
        .run();
      return (r.meta.changes ?? 0) > 0;
    },
    async listForUser(tenantId, userUid) {
      return db.select().from(uwlAuthenticators).where(and(eq(uwlAuthenticators.tenantId, tenantId), eq(uwlAuthenticators.userUid, userUid))).orderBy(uwlAuthenticators.createdAt).all();
    },
    async findByKey(tenantId, userUid, publicKey) {
      const row = await db
        .select()
        .from(uwlAuthenticators)
        .where(and(eq(uwlAuthenticators.tenantId, tenantId), eq(uwlAuthenticators.userUid, userUid), eq(uwlAuthenticators.publicKey, publicKey)))
        .get();
      return row ?? null;
    },
    async remove(tenantId, userUid, id) {
      const r = await db.delete(uwlAuthenticators).where(and(eq(uwlAuthenticators.tenantId, tenantId), eq(uwlAuthenticators.userUid, userUid), eq(uwlAuthenticators.id, id))).run();
      return (r.meta.changes ?? 0) > 0;
    },
    async touch(tenantId, id, at) {
      await db.update(uwlAuthenticators).set({ lastUsedAt: at }).where(and(eq(uwlAuthenticators.tenantId, tenantId), eq(uwlAuthenticators.id, id))).run();
    },
  };
}

/** Typing-pattern profiles (typing_profiles), one per user, revisioned. */
export function D1TypingProfileStore(d1: D1Database): TypingProfileStore {
  const db = database(d1);
  return {
    async get(tenantId, userUid) {
      const row = await db.select().from(typingProfiles).where(and(eq(typingProfiles.tenantId, tenantId), eq(typingProfiles.userUid, userUid))).get();
      return row ?? null;
    },
    async put(tenantId, userUid, body, samples, at) {
      const row = await db
        .insert(typingProfiles)
        .values({ tenantId, userUid, body, samples, revision: 0, updatedAt: at })
        .onConflictDoUpdate({ target: [typingProfiles.tenantId, typingProfiles.userUid], set: { body, samples, revision: sql`${typingProfiles.revision} + 1`, updatedAt: at } })
        .returning({ revision: typingProfiles.revision })
        .get();
      return row.revision;
    },
    async update(tenantId, userUid, revision, body, at) {
      const r = await db
        .update(typingProfiles)
        .set({ body, revision: revision + 1, updatedAt: at })
        .where(and(eq(typingProfiles.tenantId, tenantId), eq(typingProfiles.userUid, userUid), eq(typingProfiles.revision, revision)))
        .run();
      return (r.meta.changes ?? 0) > 0;
    },
  };
}
