import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import {
  DuplicateKeyError,
  type ConsentRecord,
  type ConsentStore,
  type IdentityProviderRecord,
  type IdentityProviderStore,
  type ServiceProviderRecord,
  type ServiceProviderStore,
  type ServiceProviderType,
} from "../ports-idp";
import { database, isUniqueViolation, parseJson } from "./db";
import { consents, identityProviders, serviceProviders } from "./schema";

/** Runs a write, turning a UNIQUE violation into DuplicateKeyError. */
async function unique<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isUniqueViolation(e)) throw new DuplicateKeyError(`duplicate ${what}`);
    throw e;
  }
}

type SpRow = typeof serviceProviders.$inferSelect;

function toSp(r: SpRow): ServiceProviderRecord {
  return {
    id: r.id,
    tenantId: r.tenantId,
    communityId: r.communityId,
    type: r.type as ServiceProviderType,
    featured: r.featured,
    name: r.name,
    clientId: r.clientId,
    entityId: r.entityId,
    secretHash: r.secretHash,
    sealedSecrets: r.sealedSecrets,
    body: parseJson<Record<string, unknown>>(r.body, {}),
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function spRow(r: ServiceProviderRecord): SpRow {
  return { ...r, body: JSON.stringify(r.body) };
}

/**
 * OIDC clients found by client_id, kept in the isolate for at most CLIENT_CACHE_MS: every token,
 * authorize and introspection request reads its client, and a D1 read is the largest part of a
 * code exchange (about 5 ms in local mode, a round trip to the primary at the edge). Only found
 * rows are kept (a client created a moment ago is seen at once); every write through this store
 * drops its entries here, and other isolates see a change (a new secret, new redirect URIs, a
 * deletion) within the bound, the same one second as revocation (DESIGN.md).
 */
const CLIENT_CACHE_MS = 1000;
const CLIENT_CACHE_MAX = 1000;
const clientCache = new Map<string, { at: number; record: ServiceProviderRecord }>();
const clientKey = (tenantId: string, communityId: string, clientId: string) => `${tenantId}\u0000${communityId}\u0000${clientId}`;

function forgetClientsOf(tenantId: string, communityId: string, id: string): void {
  for (const [k, v] of clientCache) if (v.record.id === id && v.record.tenantId === tenantId && v.record.communityId === communityId) clientCache.delete(k);
}

/** Service providers (OIDC clients and SAML SPs) per community. */
export function D1ServiceProviderStore(d1: D1Database): ServiceProviderStore {
  const db = database(d1);
  const t = serviceProviders;
  const inCommunity = (tenantId: string, communityId: string) => and(eq(t.tenantId, tenantId), eq(t.communityId, communityId));
  const one = async (where: ReturnType<typeof and>) => {
    const r = await db.select().from(t).where(where).get();
    return r ? toSp(r) : null;
  };
  return {
    get: (tenantId, communityId, id) => one(and(inCommunity(tenantId, communityId), eq(t.id, id))),
    async findByClientId(tenantId, communityId, clientId) {
      const k = clientKey(tenantId, communityId, clientId);
      const hit = clientCache.get(k);
      if (hit && Date.now() - hit.at < CLIENT_CACHE_MS) return structuredClone(hit.record);
      const r = await one(and(inCommunity(tenantId, communityId), eq(t.clientId, clientId)));
      if (r) {
        if (clientCache.size >= CLIENT_CACHE_MAX) clientCache.clear();
        clientCache.set(k, { at: Date.now(), record: structuredClone(r) });
      } else {
        clientCache.delete(k);
      }
      return r;
    },
    findByEntityId: (tenantId, communityId, entityId) => one(and(inCommunity(tenantId, communityId), eq(t.entityId, entityId))),
    async list(tenantId, communityId) {
      const rows = await db.select().from(t).where(inCommunity(tenantId, communityId)).orderBy(t.createdAt, t.id).all();
      return rows.map(toSp);
    },
    async create(r) {
      await unique("service provider", () => db.insert(t).values(spRow(r)).run());
    },
    async replace(r, expectedVersion) {
      forgetClientsOf(r.tenantId, r.communityId, r.id);
      const { id, tenantId, communityId, createdAt: _c, version: _v, ...rest } = spRow(r);
      const done = await unique("service provider", () =>
        db
          .update(t)
          .set({ ...rest, version: expectedVersion + 1 })
          .where(and(inCommunity(tenantId, communityId), eq(t.id, id), eq(t.version, expectedVersion)))
          .returning({ id: t.id })
          .all(),
      );
      // Again after the write: a read racing it may have cached the old row meanwhile.
      forgetClientsOf(r.tenantId, r.communityId, r.id);
      return done.length > 0;
    },
    async remove(tenantId, communityId, id) {
      forgetClientsOf(tenantId, communityId, id);
      const r = await db.delete(t).where(and(inCommunity(tenantId, communityId), eq(t.id, id))).returning({ id: t.id }).all();
      forgetClientsOf(tenantId, communityId, id);
      return r.length > 0;
    },
  };
}

type IdpRow = typeof identityProviders.$inferSelect;

function toIdp(r: IdpRow): IdentityProviderRecord {
  return { ...r, type: r.type === "saml" ? "saml" : "oidc", body: parseJson<Record<string, unknown>>(r.body, {}) };
}

/** A community's identity provider definitions (scopes and claims). */
export function D1IdentityProviderStore(d1: D1Database): IdentityProviderStore {
  const db = database(d1);
  const t = identityProviders;
  const inCommunity = (tenantId: string, communityId: string) => and(eq(t.tenantId, tenantId), eq(t.communityId, communityId));
  return {
    async list(tenantId, communityId) {
      const rows = await db.select().from(t).where(inCommunity(tenantId, communityId)).orderBy(t.createdAt, t.id).all();
      return rows.map(toIdp);
    },
    async get(tenantId, communityId, id) {
      const r = await db.select().from(t).where(and(inCommunity(tenantId, communityId), eq(t.id, id))).get();
      return r ? toIdp(r) : null;
    },
    async create(r) {
      await unique("identity provider", () => db.insert(t).values({ ...r, body: JSON.stringify(r.body) }).run());
    },
    async replace(r, expectedVersion) {
      const done = await db
        .update(t)
        .set({ type: r.type, body: JSON.stringify(r.body), updatedAt: r.updatedAt, version: expectedVersion + 1 })
        .where(and(inCommunity(r.tenantId, r.communityId), eq(t.id, r.id), eq(t.version, expectedVersion)))
        .returning({ id: t.id })
        .all();
      return done.length > 0;
    },
    async remove(tenantId, communityId, id) {
      const r = await db.delete(t).where(and(inCommunity(tenantId, communityId), eq(t.id, id))).returning({ id: t.id }).all();
      return r.length > 0;
    },
  };
}

type ConsentRow = typeof consents.$inferSelect;

function toConsent(r: ConsentRow): ConsentRecord {
  return { ...r, scopeNames: parseJson<string[]>(r.scopeNames, []), receipt: parseJson<Record<string, unknown>>(r.receipt, {}) };
}

/** Consent receipts; withdrawing marks them, so the history stays. */
export function D1ConsentStore(d1: D1Database): ConsentStore {
  const db = database(d1);
  const t = consents;
  return {
    async create(r) {
      await unique("consent receipt", () => db.insert(t).values({ ...r, scopeNames: JSON.stringify(r.scopeNames), receipt: JSON.stringify(r.receipt) }).run());
    },
    async list(tenantId, communityId, userUrn, spId, opts = {}) {
      const rows = await db
        .select()
        .from(t)
        .where(
          and(
            eq(t.tenantId, tenantId),
            eq(t.communityId, communityId),
            eq(t.userUrn, userUrn),
            spId === null ? undefined : eq(t.spId, spId),
            opts.includeWithdrawn ? undefined : isNull(t.withdrawnAt),
          ),
        )
        .orderBy(desc(t.createdAt), t.id)
        .all();
      return rows.map(toConsent);
    },
    async withdraw(tenantId, communityId, userUrn, spId, at) {
      const r = await db
        .update(t)
        .set({ withdrawnAt: at })
        .where(and(eq(t.tenantId, tenantId), eq(t.communityId, communityId), eq(t.userUrn, userUrn), eq(t.spId, spId), isNull(t.withdrawnAt)))
        .returning({ id: t.id })
        .all();
      return r.length;
    },
    async withdrawReceipts(tenantId, communityId, userUrn, ids, at) {
      // UPDATE ... WHERE withdrawn_at IS NULL: of two concurrent withdrawals each receipt is
      // reported by exactly one. D1 binds at most 100 parameters per statement: 50 ids at a time.
      const out: string[] = [];
      for (let i = 0; i < ids.length; i += 50) {
        const r = await db
          .update(t)
          .set({ withdrawnAt: at })
          .where(and(eq(t.tenantId, tenantId), eq(t.communityId, communityId), eq(t.userUrn, userUrn), inArray(t.id, ids.slice(i, i + 50)), isNull(t.withdrawnAt)))
          .returning({ id: t.id })
          .all();
        out.push(...r.map((x) => x.id));
      }
      return out;
    },
  };
}
