import { and, eq } from "drizzle-orm";
import type { SpCatalogItem, SpCatalogStore } from "../ports-authn";
import { database } from "./db";
import { spCatalogItems } from "./schema";

type Row = typeof spCatalogItems.$inferSelect;

function toItem(r: Row): SpCatalogItem {
  return {
    name: r.name,
    logo: r.logo,
    sso_url: r.ssoUrl,
    template: r.template,
    ...(r.type !== null ? { type: r.type } : {}),
    ...(r.description !== null ? { description: r.description } : {}),
  };
}

/** Service Provider Catalog items per tenant, keyed by name. */
export function D1SpCatalogStore(d1: D1Database): SpCatalogStore {
  const db = database(d1);
  return {
    async list(tenantId) {
      const rows = await db.select().from(spCatalogItems).where(eq(spCatalogItems.tenantId, tenantId)).orderBy(spCatalogItems.name).all();
      return rows.map(toItem);
    },
    async upsert(tenantId, item) {
      const values = {
        logo: item.logo,
        ssoUrl: item.sso_url,
        template: item.template,
        type: item.type ?? null,
        description: item.description ?? null,
        updatedAt: Date.now(),
      };
      await db
        .insert(spCatalogItems)
        .values({ tenantId, name: item.name, ...values })
        .onConflictDoUpdate({ target: [spCatalogItems.tenantId, spCatalogItems.name], set: values })
        .run();
    },
    async remove(tenantId, name) {
      const r = await db
        .delete(spCatalogItems)
        .where(and(eq(spCatalogItems.tenantId, tenantId), eq(spCatalogItems.name, name)))
        .returning({ name: spCatalogItems.name })
        .all();
      return r.length > 0;
    },
  };
}
