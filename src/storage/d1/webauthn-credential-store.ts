import { and, eq, or, sql } from "drizzle-orm";
import { DuplicateKeyError } from "../ports-authn";
import type { WebAuthnCredentialRecord, WebAuthnCredentialStore } from "../ports-webauthn";
import { database, isUniqueViolation, parseJson } from "./db";
import { webauthnCredentials } from "./schema";

type Row = typeof webauthnCredentials.$inferSelect;

const toRecord = (r: Row): WebAuthnCredentialRecord => ({
  ...r,
  transports: parseJson<string[] | null>(r.transports, null),
  deviceType: r.deviceType === "multiDevice" ? "multiDevice" : "singleDevice",
});

/** WebAuthn credentials in D1 (docs/storage-schema.md "webauthn_credentials"). */
export function D1WebAuthnCredentialStore(d1: D1Database): WebAuthnCredentialStore {
  const db = database(d1);
  // A passkey sign-in's read, built once per store (see D1UserStore).
  const byCredentialIdQuery = db
    .select()
    .from(webauthnCredentials)
    .where(and(eq(webauthnCredentials.tenantId, sql.placeholder("tenantId")), eq(webauthnCredentials.credentialId, sql.placeholder("credentialId"))))
    .prepare();
  return {
    async create(c) {
      try {
        await db.insert(webauthnCredentials).values({ ...c, transports: c.transports ? JSON.stringify(c.transports) : null, lastUsedAt: null }).run();
      } catch (e) {
        if (isUniqueViolation(e)) throw new DuplicateKeyError("credential already registered");
        throw e;
      }
    },
    async byCredentialId(tenantId, credentialId) {
      const r = await byCredentialIdQuery.get({ tenantId, credentialId });
      return r ? toRecord(r) : null;
    },
    async listForUser(tenantId, userUid) {
      const rows = await db
        .select()
        .from(webauthnCredentials)
        .where(and(eq(webauthnCredentials.tenantId, tenantId), eq(webauthnCredentials.userUid, userUid)))
        .orderBy(webauthnCredentials.createdAt)
        .all();
      return rows.map(toRecord);
    },
    async rename(tenantId, userUid, id, name) {
      const r = await db
        .update(webauthnCredentials)
        .set({ name })
        .where(and(eq(webauthnCredentials.tenantId, tenantId), eq(webauthnCredentials.userUid, userUid), eq(webauthnCredentials.id, id)))
        .run();
      return r.meta.changes > 0;
    },
    async remove(tenantId, userUid, id) {
      const r = await db
        .delete(webauthnCredentials)
        .where(and(eq(webauthnCredentials.tenantId, tenantId), eq(webauthnCredentials.userUid, userUid), eq(webauthnCredentials.id, id)))
        .run();
      return r.meta.changes > 0;
    },
    async recordUse(tenantId, id, counter, backedUp, at) {
      // One conditional UPDATE: D1 runs it atomically, so two racing uses of one counter value
      // cannot both pass (the second sees the first's value and changes nothing).
      const r = await db
        .update(webauthnCredentials)
        .set({ counter, backedUp, lastUsedAt: at })
        .where(
          and(
            eq(webauthnCredentials.tenantId, tenantId),
            eq(webauthnCredentials.id, id),
            or(sql`${webauthnCredentials.counter} < ${counter}`, and(eq(webauthnCredentials.counter, 0), sql`${counter} = 0`)),
          ),
        )
        .run();
      return r.meta.changes > 0;
    },
  };
}
