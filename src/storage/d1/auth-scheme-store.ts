import { and, eq, ne } from "drizzle-orm";
import { DuplicateKeyError, type AuthScheme, type AuthSchemeInput, type AuthSchemeStore } from "../ports-authn";
import { toHex } from "../../crypto/encoding";
import { randomBytes } from "../../crypto/random";
import { database, isUniqueViolation, parseJson } from "./db";
import { authSchemes } from "./schema";

type Row = typeof authSchemes.$inferSelect;

function toScheme(r: Row): AuthScheme {
  return {
    ...r,
    dbModule: parseJson<Record<string, unknown> | null>(r.dbModule, null),
    modules: parseJson<Record<string, unknown>[]>(r.modules, []),
  };
}

/** A new id in the shape of the document's MongoDB ObjectId (24 hex characters). */
function newId(): string {
  return toHex(randomBytes(12));
}

async function duplicates(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if (isUniqueViolation(e)) throw new DuplicateKeyError("duplicate auth scheme");
    throw e;
  }
}

/**
 * Auth schemes in D1. "One default per community" is enforced by a partial unique index;
 * making a scheme the default clears the previous one in the same batch (one transaction).
 */
export function D1AuthSchemeStore(d1: D1Database): AuthSchemeStore {
  const db = database(d1);
  const where = (tenantId: string, communityId: string, id: string) =>
    and(eq(authSchemes.tenantId, tenantId), eq(authSchemes.communityId, communityId), eq(authSchemes.id, id));
  const clearDefault = (tenantId: string, communityId: string, exceptId: string) =>
    db
      .update(authSchemes)
      .set({ isDefault: false })
      .where(
        and(eq(authSchemes.tenantId, tenantId), eq(authSchemes.communityId, communityId), eq(authSchemes.isDefault, true), ne(authSchemes.id, exceptId)),
      );
  const get = async (tenantId: string, communityId: string, id: string) => {
    const r = await db.select().from(authSchemes).where(where(tenantId, communityId, id)).get();
    return r ? toScheme(r) : null;
  };
  return {
    async list(tenantId, communityId) {
      const rows = await db
        .select()
        .from(authSchemes)
        .where(and(eq(authSchemes.tenantId, tenantId), eq(authSchemes.communityId, communityId)))
        .orderBy(authSchemes.createdAt, authSchemes.id)
        .all();
      return rows.map(toScheme);
    },
    get,
    async create(tenantId, communityId, input: AuthSchemeInput) {
      const now = Date.now();
      const row: Row = {
        id: newId(),
        tenantId,
        communityId,
        tag: input.tag,
        enabled: input.enabled,
        isDefault: input.isDefault,
        dbModule: input.dbModule === null ? null : JSON.stringify(input.dbModule),
        modules: JSON.stringify(input.modules),
        version: 0,
        createdAt: now,
        updatedAt: now,
      };
      const insert = db.insert(authSchemes).values(row);
      await duplicates(() => (input.isDefault ? db.batch([clearDefault(tenantId, communityId, row.id), insert]) : insert.run()));
      return toScheme(row);
    },
    async replace(tenantId, communityId, id, input) {
      const existing = await get(tenantId, communityId, id);
      if (!existing) return null;
      const update = db
        .update(authSchemes)
        .set({
          tag: input.tag,
          enabled: input.enabled,
          isDefault: input.isDefault,
          dbModule: input.dbModule === null ? null : JSON.stringify(input.dbModule),
          modules: JSON.stringify(input.modules),
          version: existing.version + 1,
          updatedAt: Date.now(),
        })
        .where(where(tenantId, communityId, id));
      await duplicates(() => (input.isDefault ? db.batch([clearDefault(tenantId, communityId, id), update]) : update.run()));
      return get(tenantId, communityId, id);
    },
    async remove(tenantId, communityId, id) {
      const r = await db.delete(authSchemes).where(where(tenantId, communityId, id)).returning({ id: authSchemes.id }).all();
      return r.length > 0;
    },
  };
}
