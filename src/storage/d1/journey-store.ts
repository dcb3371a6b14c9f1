import { and, count, eq } from "drizzle-orm";
import type { JourneyDecision, JourneyRules, JourneyVersion } from "../../core/journeys/model";
import type { JourneyRecord, JourneyStore } from "../ports-journeys";
import { database, parseJson } from "./db";
import { authJourneys } from "./schema";

type Row = typeof authJourneys.$inferSelect;

interface Body {
  rules: JourneyRules;
  decision: JourneyDecision;
  priority: number;
}

const toRecord = (r: Row): JourneyRecord => {
  const b = parseJson<Body>(r.body, { rules: {}, decision: { action: "deny_access", authenticationMethods: [] }, priority: 0 });
  return {
    id: r.id,
    tenantId: r.tenantId,
    communityId: r.communityId,
    version: r.version === 2 ? 2 : 1,
    name: r.name,
    enabled: r.enabled,
    category: r.category,
    priority: b.priority,
    rules: b.rules,
    decision: b.decision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    revision: r.revision,
  };
};

const bodyOf = (r: JourneyRecord): string => JSON.stringify({ rules: r.rules, decision: r.decision, priority: r.priority } satisfies Body);

/**
 * Authentication journeys of both API versions (issue 10). `reads` serves `snapshot` only (the
 * policy compile cache's load, core/journeys/policy.ts): give it a replica handle
 * (storage/d1/replica.ts) and `d1` that replication's `primary`, so that a write in this isolate
 * raises the bookmark the replica reads start from.
 */
export function D1JourneyStore(d1: D1Database, reads: D1Database = d1): JourneyStore {
  const db = database(d1);
  const replicaDb = database(reads);
  const t = authJourneys;
  const inCommunity = (tenantId: string, communityId: string) => and(eq(t.tenantId, tenantId), eq(t.communityId, communityId));
  const ofVersion = (tenantId: string, communityId: string, version: JourneyVersion) => and(inCommunity(tenantId, communityId), eq(t.version, version));
  return {
    async get(tenantId, communityId, version, id) {
      const r = await db.select().from(t).where(and(ofVersion(tenantId, communityId, version), eq(t.id, id))).get();
      return r ? toRecord(r) : null;
    },
    async list(tenantId, communityId, version) {
      const rows = await db.select().from(t).where(ofVersion(tenantId, communityId, version)).orderBy(t.createdAt, t.id).all();
      return rows.map(toRecord);
    },
    async snapshot(tenantId, communityId) {
      // Consistency: a replica at least as new as this isolate's own journey writes (so the
      // writer's next evaluation sees its change, as cache.ts promises); another isolate's
      // write arrives after the cache's 10 s plus the replica's lag, which D1 does not bound.
      const rows = await replicaDb.select().from(t).where(inCommunity(tenantId, communityId)).orderBy(t.createdAt, t.id).all();
      return rows.map(toRecord);
    },
    async count(tenantId, communityId, version) {
      const r = await db.select({ n: count() }).from(t).where(ofVersion(tenantId, communityId, version)).get();
      return r?.n ?? 0;
    },
    async create(r) {
      await db
        .insert(t)
        .values({ id: r.id, tenantId: r.tenantId, communityId: r.communityId, version: r.version, name: r.name, enabled: r.enabled, category: r.category, body: bodyOf(r), revision: 0, createdAt: r.createdAt, updatedAt: r.updatedAt })
        .run();
    },
    async replace(r, expectedRevision) {
      const done = await db
        .update(t)
        .set({ name: r.name, enabled: r.enabled, category: r.category, body: bodyOf(r), updatedAt: r.updatedAt, revision: expectedRevision + 1 })
        .where(and(ofVersion(r.tenantId, r.communityId, r.version), eq(t.id, r.id), eq(t.revision, expectedRevision)))
        .returning({ id: t.id })
        .all();
      return done.length > 0;
    },
    async remove(tenantId, communityId, version, id) {
      const r = await db.delete(t).where(and(ofVersion(tenantId, communityId, version), eq(t.id, id))).returning({ id: t.id }).all();
      return r.length > 0;
    },
  };
}
