import { and, eq, sql } from "drizzle-orm";
import type { SsoConnection, SsoConnectionStore } from "../ports";
import { database, parseJson } from "./db";
import { ssoConnectionDomains, ssoConnections } from "./schema";

type Row = typeof ssoConnections.$inferSelect;

const toConnection = (r: Row): SsoConnection => ({
  ...r,
  type: r.type === "saml" ? "saml" : "oidc",
  domains: parseJson<string[]>(r.domains, []),
  redirectUris: parseJson<string[]>(r.redirectUris, []),
  defaultRoles: parseJson<string[]>(r.defaultRoles, []),
});

/** SSO connections and their domain index; a connection and its domains are written (and removed) in one batch. */
export function D1SsoConnectionStore(d1: D1Database): SsoConnectionStore {
  const db = database(d1);
  const store: SsoConnectionStore = {
    async byDomain(tenantId, domain) {
      const r = await db
        .select({ c: ssoConnections })
        .from(ssoConnectionDomains)
        .innerJoin(ssoConnections, eq(ssoConnections.id, ssoConnectionDomains.connectionId))
        .where(and(eq(ssoConnectionDomains.tenantId, tenantId), eq(ssoConnectionDomains.domain, domain.toLowerCase())))
        .get();
      return r && r.c.tenantId === tenantId ? toConnection(r.c) : null;
    },
    async byId(tenantId, id) {
      const r = await db.select().from(ssoConnections).where(and(eq(ssoConnections.tenantId, tenantId), eq(ssoConnections.id, id))).get();
      return r ? toConnection(r) : null;
    },
    async list(tenantId) {
      const rows = await db.select().from(ssoConnections).where(eq(ssoConnections.tenantId, tenantId)).all();
      return rows.map(toConnection);
    },
    async create(c) {
      const domains = c.domains.map((d) => d.toLowerCase());
      const row: Row = {
        ...c,
        domains: JSON.stringify(domains),
        redirectUris: JSON.stringify(c.redirectUris),
        defaultRoles: JSON.stringify(c.defaultRoles),
        createdAt: Date.now(),
      };
      // One batch is one transaction in D1: a taken domain leaves no half-created connection.
      await db.batch([
        db.insert(ssoConnections).values(row),
        ...domains.map((domain) => db.insert(ssoConnectionDomains).values({ tenantId: c.tenantId, domain, connectionId: c.id })),
      ]);
      return toConnection(row);
    },
    async update(c) {
      const { id, tenantId, ...fields } = c;
      const domains = c.domains.map((d) => d.toLowerCase());
      const mine = and(eq(ssoConnections.tenantId, tenantId), eq(ssoConnections.id, id));
      // One batch, one transaction: the row and its domain index change together, a domain
      // taken by another connection (the unique index) rolls all of it back, and a domain is
      // only inserted while the connection exists, so a concurrent delete leaves no orphan
      // index row that would hold the domain forever.
      const [updated] = await db.batch([
        db
          .update(ssoConnections)
          .set({ ...fields, domains: JSON.stringify(domains), redirectUris: JSON.stringify(c.redirectUris), defaultRoles: JSON.stringify(c.defaultRoles) })
          .where(mine),
        db.delete(ssoConnectionDomains).where(and(eq(ssoConnectionDomains.tenantId, tenantId), eq(ssoConnectionDomains.connectionId, id))),
        ...domains.map((domain) =>
          db.insert(ssoConnectionDomains).select(sql`select ${tenantId}, ${domain}, ${id} where exists (select 1 from ${ssoConnections} where ${mine})`),
        ),
      ]);
      if (updated.meta.changes === 0) return null;
      return store.byId(tenantId, id);
    },
    async delete(tenantId, id) {
      const [, removed] = await db.batch([
        db.delete(ssoConnectionDomains).where(and(eq(ssoConnectionDomains.tenantId, tenantId), eq(ssoConnectionDomains.connectionId, id))),
        db.delete(ssoConnections).where(and(eq(ssoConnections.tenantId, tenantId), eq(ssoConnections.id, id))),
      ]);
      return removed.meta.changes > 0;
    },
  };
  return store;
}
