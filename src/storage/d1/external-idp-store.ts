import { and, eq } from "drizzle-orm";
import { DuplicateKeyError, type ExternalIdpRecord, type ExternalIdpStore } from "../ports-idp";
import { database, isUniqueViolation, parseJson } from "./db";
import { externalIdps } from "./schema";

type Row = typeof externalIdps.$inferSelect;

const toRecord = (r: Row): ExternalIdpRecord => ({ ...r, body: parseJson<Record<string, unknown>>(r.body, {}) });

/** Runs a write, turning a UNIQUE violation (idpEntityId taken in the community) into DuplicateKeyError. */
async function unique<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isUniqueViolation(e)) throw new DuplicateKeyError("duplicate external idp entity id");
    throw e;
  }
}

/** A community's external SAML IdPs (the service as SP). */
export function D1ExternalIdpStore(d1: D1Database): ExternalIdpStore {
  const db = database(d1);
  const t = externalIdps;
  const inCommunity = (tenantId: string, communityId: string) => and(eq(t.tenantId, tenantId), eq(t.communityId, communityId));
  const one = async (where: ReturnType<typeof and>) => {
    const r = await db.select().from(t).where(where).get();
    return r ? toRecord(r) : null;
  };
  return {
    get: (tenantId, communityId, id) => one(and(inCommunity(tenantId, communityId), eq(t.id, id))),
    findByEntityId: (tenantId, communityId, idpEntityId) => one(and(inCommunity(tenantId, communityId), eq(t.idpEntityId, idpEntityId))),
    async list(tenantId, communityId) {
      const rows = await db.select().from(t).where(inCommunity(tenantId, communityId)).orderBy(t.createdAt, t.id).all();
      return rows.map(toRecord);
    },
    async create(r) {
      await unique(() => db.insert(t).values({ ...r, body: JSON.stringify(r.body) }).run());
    },
    async replace(r, expectedVersion) {
      const done = await unique(() =>
        db
          .update(t)
          .set({ idpEntityId: r.idpEntityId, body: JSON.stringify(r.body), sealedSecrets: r.sealedSecrets, updatedAt: r.updatedAt, version: expectedVersion + 1 })
          .where(and(inCommunity(r.tenantId, r.communityId), eq(t.id, r.id), eq(t.version, expectedVersion)))
          .returning({ id: t.id })
          .all(),
      );
      return done.length > 0;
    },
    async remove(tenantId, communityId, id) {
      const r = await db.delete(t).where(and(inCommunity(tenantId, communityId), eq(t.id, id))).returning({ id: t.id }).all();
      return r.length > 0;
    },
  };
}
