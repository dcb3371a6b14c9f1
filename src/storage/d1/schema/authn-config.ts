import { sql } from "drizzle-orm";
import { integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { communities, tenants } from "./core";

/**
 * Authn API configuration owned by the login and utility endpoints (seed 004: Schemes,
 * Service Provider Catalog, IdP config). Times are epoch milliseconds; JSON columns hold
 * small values that are always read whole.
 */
export const authSchemes = sqliteTable(
  "auth_schemes",
  {
    /** 24 hex characters, the shape of the document's MongoDB `_id`. */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    tag: text("tag").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
    /** The scheme's database (first-factor) module, JSON object or null. */
    dbModule: text("db_module"),
    /** JSON array of module objects, each with a unique `id`. */
    modules: text("modules").notNull().default("[]"),
    /** The document's `__v`: bumped on every update. */
    version: integer("version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // Rule 1: one scheme per (tag, community).
    uniqueIndex("auth_schemes_community_tag").on(t.communityId, t.tag),
    // Rule 3: at most one default per community, decided by the database, not by a read.
    uniqueIndex("auth_schemes_one_default").on(t.communityId).where(sql`is_default = 1`),
  ],
);

/** Service Provider Catalog items, per tenant (the tenant of the calling license). */
export const spCatalogItems = sqliteTable(
  "sp_catalog_items",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    name: text("name").notNull(),
    logo: text("logo").notNull(),
    ssoUrl: text("sso_url").notNull(),
    template: text("template").notNull(),
    type: text("type"),
    description: text("description"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

/** The community's own SAML IdP configuration; private keys are stored sealed, never returned. */
export const idpConfigs = sqliteTable(
  "idp_configs",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    identifier: text("identifier").notNull().unique(),
    entityId: text("entity_id").notNull(),
    signingCert: text("signing_cert").notNull(),
    /** secret-box sealed (purpose "idp-config-key"). */
    signingKeySealed: text("signing_key_sealed").notNull(),
    encryptionCert: text("encryption_cert").notNull(),
    encryptionKeySealed: text("encryption_key_sealed").notNull(),
    authnRequestsSigned: integer("authn_requests_signed", { mode: "boolean" }).notNull(),
    ssoBindings: text("sso_bindings").notNull().default("[]"),
    sloBindings: text("slo_bindings").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.communityId] })],
);
