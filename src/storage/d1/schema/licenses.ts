import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Authn API licenses (seed 004). The key itself is never stored: only its SHA-256 (hex),
 * which is how a request's decrypted `licensekey` is looked up. `tenant_id` is null for
 * deployment-wide system licenses. `communities` is a JSON array of community ids the
 * license is authorized for ("*" authorizes every community of its tenant).
 */
export const licenses = sqliteTable(
  "licenses",
  {
    id: text("id").primaryKey(),
    keyHash: text("key_hash").notNull().unique(),
    tenantId: text("tenant_id"),
    authLevel: text("auth_level", { enum: ["system", "service", "service_ext", "app", "app_ext"] }).notNull(),
    communities: text("communities").notNull().default("[]"),
    name: text("name").notNull().default(""),
    /** Epoch milliseconds; null: never expires. */
    expiresAt: integer("expires_at"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("licenses_tenant").on(t.tenantId)],
);
