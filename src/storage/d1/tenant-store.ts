import { and, asc, eq, or, sql } from "drizzle-orm";
import type { Community, DomainBinding, Tenant, TenantStore } from "../ports";
import { database, isUniqueViolation, parseJson } from "./db";
import { DuplicateKeyError } from "../ports-authn";
import { communities, domains, tenants } from "./schema";

type TenantRow = typeof tenants.$inferSelect;
type CommunityRow = typeof communities.$inferSelect;

const toTenant = (r: TenantRow): Tenant => ({ ...r, settings: parseJson(r.settings, {}) });
const toCommunity = (r: CommunityRow): Community => ({ ...r, settings: parseJson(r.settings, {}) });

export function D1TenantStore(d1: D1Database): TenantStore {
  const db = database(d1);
  return {
    async getTenant(id) {
      const r = await db.select().from(tenants).where(eq(tenants.id, id)).get();
      return r ? toTenant(r) : null;
    },
    async getCommunity(id) {
      const r = await db.select().from(communities).where(eq(communities.id, id)).get();
      return r ? toCommunity(r) : null;
    },
    async findCommunity(tenantId, idOrName) {
      const r = await db
        .select()
        .from(communities)
        .where(and(eq(communities.tenantId, tenantId), or(eq(communities.id, idOrName), eq(communities.name, idOrName))))
        .get();
      return r ? toCommunity(r) : null;
    },
    async listCommunities(tenantId) {
      const rows = await db.select().from(communities).where(eq(communities.tenantId, tenantId)).all();
      return rows.map(toCommunity);
    },
    async domain(hostname) {
      const r = await db.select().from(domains).where(eq(domains.hostname, hostname.toLowerCase())).get();
      return r ?? null;
    },
    async hostnames(tenantId) {
      // rowid is insertion order; a rebinding (upsert) keeps its row, so "first bound" is stable.
      const rows = await db.select({ hostname: domains.hostname }).from(domains).where(eq(domains.tenantId, tenantId)).orderBy(asc(sql`rowid`)).all();
      return rows.map((r) => r.hostname);
    },
    async createTenant(t) {
      const row: TenantRow = {
        id: t.id ?? crypto.randomUUID(),
        name: t.name,
        settings: JSON.stringify(t.settings ?? {}),
        createdAt: Date.now(),
      };
      await db.insert(tenants).values(row).run();
      return toTenant(row);
    },
    async createTenantWithCommunity(t, c, hostnames) {
      const now = Date.now();
      const tenantRow: TenantRow = { id: t.id ?? crypto.randomUUID(), name: t.name, settings: JSON.stringify(t.settings ?? {}), createdAt: now };
      const communityRow: CommunityRow = { id: c.id ?? crypto.randomUUID(), tenantId: tenantRow.id, name: c.name, settings: "{}", createdAt: now };
      // Plain inserts, no upsert: a hostname bound meanwhile fails the whole batch rather than
      // being taken from its tenant.
      const domainInserts = hostnames.map((h) => db.insert(domains).values({ hostname: h.toLowerCase(), tenantId: tenantRow.id, communityId: communityRow.id }));
      try {
        await db.batch([db.insert(tenants).values(tenantRow), db.insert(communities).values(communityRow), ...domainInserts]);
      } catch (e) {
        if (isUniqueViolation(e)) throw new DuplicateKeyError("tenant, community or hostname taken");
        throw e;
      }
      return { tenant: toTenant(tenantRow), community: toCommunity(communityRow) };
    },
    async updateTenantSettings(id, settings) {
      await db.update(tenants).set({ settings: JSON.stringify(settings) }).where(eq(tenants.id, id)).run();
    },
    async createCommunity(c) {
      const row: CommunityRow = {
        id: c.id ?? crypto.randomUUID(),
        tenantId: c.tenantId,
        name: c.name,
        settings: JSON.stringify(c.settings ?? {}),
        createdAt: Date.now(),
      };
      await db.insert(communities).values(row).run();
      return toCommunity(row);
    },
    async bindDomain(d: DomainBinding) {
      await db
        .insert(domains)
        .values({ ...d, hostname: d.hostname.toLowerCase() })
        .onConflictDoUpdate({ target: domains.hostname, set: { tenantId: d.tenantId, communityId: d.communityId } })
        .run();
    },
    async unbindDomain(hostname) {
      const r = await db.delete(domains).where(eq(domains.hostname, hostname.toLowerCase())).run();
      return (r.meta.changes ?? 0) > 0;
    },
  };
}
