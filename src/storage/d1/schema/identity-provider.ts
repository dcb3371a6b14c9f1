import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { communities, tenants } from "./core";

/**
 * The service as an identity provider (issue 8; seed 004 groups Service Providers, Identity
 * Providers, User Consent). Times are epoch milliseconds. The document's objects are kept
 * whole in JSON columns (`body`); the columns beside them are what a query must find by.
 */

/** Applications that sign users in through a community: OIDC clients and SAML SPs. */
export const serviceProviders = sqliteTable(
  "service_providers",
  {
    /** 24 hex characters, the shape of the document's MongoDB `_id`. */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    /** "oidc" | "saml" (a featured type creates one of these; `featured` names which). */
    type: text("type").notNull(),
    featured: text("featured"),
    name: text("name").notNull(),
    /** oidc_config.client_id; unique per community (the issuer is per community). */
    clientId: text("client_id"),
    /** saml_config.entityId; unique per community. */
    entityId: text("entity_id"),
    /** crypto/hash.ts secret hash of the OIDC client secret; the secret is shown once. */
    secretHash: text("secret_hash"),
    /** secret-box sealed JSON of write-only settings (featured types' vendor credentials). */
    sealedSecrets: text("sealed_secrets"),
    /** The service provider object as the document shows it, without secrets. */
    body: text("body").notNull(),
    /** The document's `__v`: bumped on every update. */
    version: integer("version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("service_providers_client_id").on(t.communityId, t.clientId).where(sql`client_id IS NOT NULL`),
    uniqueIndex("service_providers_entity_id").on(t.communityId, t.entityId).where(sql`entity_id IS NOT NULL`),
    index("service_providers_tenant_community").on(t.tenantId, t.communityId),
  ],
);

/** A community's identity providers as configured through `PUT .../idp` (type oidc: scopes and claims). */
export const identityProviders = sqliteTable(
  "identity_providers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    type: text("type").notNull(),
    /** The IdP object as the document shows it (`oidc_config` with scopes and their claims). */
    body: text("body").notNull(),
    version: integer("version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("identity_providers_tenant_community").on(t.tenantId, t.communityId)],
);

/** Consent receipts (Kantara naming); a withdrawn receipt is kept, marked, and no longer counts. */
export const consents = sqliteTable(
  "consents",
  {
    /** The receipt's consentReceiptID. */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    userUrn: text("user_urn").notNull(),
    /** The service provider's id (service_providers.id). */
    spId: text("sp_id").notNull(),
    /** JSON array of the granted scope names (a copy of what the receipt says, for look-ups). */
    scopeNames: text("scope_names").notNull(),
    /** The signed receipt exactly as the document's consent object shows it. */
    receipt: text("receipt").notNull(),
    createdAt: integer("created_at").notNull(),
    withdrawnAt: integer("withdrawn_at"),
  },
  (t) => [index("consents_user_sp").on(t.tenantId, t.communityId, t.userUrn, t.spId)],
);
