import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { communities, tenants } from "./core";

/**
 * The service as a SAML service provider (issue 9; seed 004 "External Idp"): the outside SAML
 * IdPs a community's users may sign in with. Times are epoch milliseconds. The document's
 * object is kept whole (`body`, without the SP private key); the columns beside it are what a
 * query must find by.
 */
export const externalIdps = sqliteTable(
  "external_idps",
  {
    /** 24 hex characters, the shape of the document's MongoDB `_id`. */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    /**
     * connection.idpEntityId: unique per community, because a SAML Response names its IdP only
     * by its Issuer and the ACS must find exactly one configuration (and its pinned key) for it.
     */
    idpEntityId: text("idp_entity_id").notNull(),
    /** The external IdP object as the document shows it, without `connection.spPrivateKey`. */
    body: text("body").notNull(),
    /** secret-box sealed JSON of write-only settings (`{ spPrivateKey }`); never returned. */
    sealedSecrets: text("sealed_secrets"),
    /** Bumped on every replacement (optimistic concurrency). */
    version: integer("version").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("external_idps_entity_id").on(t.communityId, t.idpEntityId),
    index("external_idps_tenant_community").on(t.tenantId, t.communityId),
  ],
);
