import { and, eq } from "drizzle-orm";
import { DuplicateKeyError, type IdpConfigStore, type StoredIdpConfig } from "../ports-authn";
import { database, isUniqueViolation, parseJson } from "./db";
import { idpConfigs } from "./schema";

type Row = typeof idpConfigs.$inferSelect;

function toConfig(r: Row): StoredIdpConfig {
  return { ...r, ssoBindings: parseJson<string[]>(r.ssoBindings, []), sloBindings: parseJson<string[]>(r.sloBindings, []) };
}

function toRow(c: StoredIdpConfig): Row {
  return { ...c, ssoBindings: JSON.stringify(c.ssoBindings), sloBindings: JSON.stringify(c.sloBindings) };
}

/** One IdP configuration per community; private keys arrive and stay sealed. */
export function D1IdpConfigStore(d1: D1Database): IdpConfigStore {
  const db = database(d1);
  return {
    async get(tenantId, communityId) {
      const r = await db
        .select()
        .from(idpConfigs)
        .where(and(eq(idpConfigs.tenantId, tenantId), eq(idpConfigs.communityId, communityId)))
        .get();
      return r ? toConfig(r) : null;
    },
    async create(c) {
      try {
        await db.insert(idpConfigs).values(toRow(c)).run();
      } catch (e) {
        if (isUniqueViolation(e)) throw new DuplicateKeyError("idp config exists");
        throw e;
      }
    },
    async update(c) {
      const { tenantId, communityId, identifier, createdAt: _created, ...set } = toRow(c);
      const r = await db
        .update(idpConfigs)
        .set(set)
        .where(and(eq(idpConfigs.tenantId, tenantId), eq(idpConfigs.communityId, communityId), eq(idpConfigs.identifier, identifier)))
        .returning({ identifier: idpConfigs.identifier })
        .all();
      return r.length > 0;
    },
  };
}
