import { and, eq, sql } from "drizzle-orm";
import type { SsoConnection, SsoConnectionStore } from "../ports";
import { database, parseJson } from "./db";
import { ssoConnectionDomains, ssoConnections } from "./schema";

type Row = typeof ssoConnections.$inferSelect;

const METHODS = new Set<string>(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]);

/** A stored method, or for rows older than the column what they did: Basic with a secret, none without. */
const authMethod = (r: Row): SsoConnection["tokenEndpointAuthMethod"] =>
  r.tokenEndpointAuthMethod && METHODS.has(r.tokenEndpointAuthMethod)
    ? (r.tokenEndpointAuthMethod as SsoConnection["tokenEndpointAuthMethod"])
    : r.clientSecretSealed
      ? "client_secret_basic"
      : "none";

const toConnection = (r: Row): SsoConnection => ({
  ...r,
  type: r.type === "saml" ? "saml" : "oidc",
  tokenEndpointAuthMethod: authMethod(r),
  clientPublicJwk: r.clientPublicJwk ? parseJson<Record<string, string> | null>(r.clientPublicJwk, null) : null,
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
        clientPublicJwk: c.clientPublicJwk ? JSON.stringify(c.clientPublicJwk) : null,
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
          .set({
            ...fields,
            domains: JSON.stringify(domains),
            redirectUris: JSON.stringify(c.redirectUris),
            defaultRoles: JSON.stringify(c.defaultRoles),
            clientPublicJwk: c.clientPublicJwk ? JSON.stringify(c.clientPublicJwk) : null,
          })
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
