import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { communities, tenants } from "./core";

/**
 * Authentication journeys (issue 10; seed 004 "Authentication Journey" and "Authentication
 * Journey V2"): the adaptive policy's rules. v1 and v2 journeys share the table and stay apart
 * by `version`, as the document keeps them in two collections. Times are epoch milliseconds.
 * The normalised journey (rules, decision, priority) is kept whole in `body`; the columns beside
 * it are what a query filters by. A community's journeys are read in one SELECT when its policy
 * is compiled, so an evaluation never sees half of an update.
 */
export const authJourneys = sqliteTable(
  "auth_journeys",
  {
    /** A uuid (the document's `id`). */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id),
    communityId: text("community_id").notNull().references(() => communities.id),
    /** 1 or 2: which API version wrote it (and which evaluate and fetch see it). */
    version: integer("version").notNull(),
    name: text("name").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    /** v2 only (e.g. `adaptive_auth_fallback_policy_v2`); null for v1. */
    category: text("category"),
    /** The normalised journey: `{ rules, decision, priority }` (core/journeys/model.ts). */
    body: text("body").notNull(),
    /** Bumped on every replacement (optimistic concurrency). */
    revision: integer("revision").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("auth_journeys_community").on(t.tenantId, t.communityId, t.version)],
);
