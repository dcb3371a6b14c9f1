import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { communities, tenants } from "./core";

/**
 * Hostnames bound through Cloudflare for SaaS (issue 12; src/core/tenants/custom-hostnames.ts):
 * one row per hostname from the bind until the unbind. A row is a pending binding until
 * Cloudflare reports the hostname and its certificate active; then `active_at` is set and the
 * `domains` row that maps the hostname to its tenant is written in the same batch. Hostnames
 * bound without Cloudflare for SaaS have a `domains` row only. Times are epoch milliseconds.
 */
export const customHostnames = sqliteTable(
  "custom_hostnames",
  {
    /** Lower case, as in `domains`. */
    hostname: text("hostname").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    /** Cloudflare's custom hostname id (what GET and DELETE take). */
    cfId: text("cf_id").notNull(),
    /** "http" or "txt": how the certificate is validated (ssl.method). */
    sslMethod: text("ssl_method").notNull(),
    /** Cloudflare's custom hostname `status` at the last check. */
    status: text("status").notNull(),
    /** Cloudflare's `ssl.status` at the last check. */
    sslStatus: text("ssl_status"),
    /** JSON array of `{purpose, type, name, value}`: the records the tenant publishes. */
    records: text("records").notNull(),
    /** JSON array of Cloudflare's verification and validation error messages. */
    errors: text("errors").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Last time Cloudflare was asked (the scheduled re-check takes the oldest first). */
    checkedAt: integer("checked_at").notNull(),
    /** When the hostname was mapped to its tenant (`domains`); null while pending. */
    activeAt: integer("active_at"),
  },
  (t) => [index("custom_hostnames_pending").on(t.activeAt, t.checkedAt)],
);
