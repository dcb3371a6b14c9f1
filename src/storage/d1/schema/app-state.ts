import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Per-user saved state of a client application (CloudCheckr's `glass` and `lens` apps): the
 * token routes return it with `?app=`, and the app saves it with PUT /v1/auth/state.
 * One row per tenant, user and app; `state` is a JSON object read and written whole.
 */
export const appStates = sqliteTable(
  "app_states",
  {
    tenantId: text("tenant_id").notNull(),
    /** The user's uid (users.uid). */
    userUid: text("user_uid").notNull(),
    app: text("app").notNull(),
    state: text("state").notNull().default("{}"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userUid, t.app] })],
);
