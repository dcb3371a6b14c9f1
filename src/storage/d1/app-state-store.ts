import { and, eq } from "drizzle-orm";
import type { AppStateStore } from "../ports";
import { database, parseJson } from "./db";
import { appStates } from "./schema/app-state";

/** Per-user app state in D1 (table app_states), one row per tenant, user and app. */
export function D1AppStateStore(d1: D1Database): AppStateStore {
  const db = database(d1);
  return {
    async get(tenantId, userUid, app) {
      const r = await db
        .select()
        .from(appStates)
        .where(and(eq(appStates.tenantId, tenantId), eq(appStates.userUid, userUid), eq(appStates.app, app)))
        .get();
      if (!r) return null;
      return { tenantId: r.tenantId, userUid: r.userUid, app: r.app, state: parseJson<Record<string, unknown>>(r.state, {}), updatedAt: r.updatedAt };
    },
    async put(s) {
      const state = JSON.stringify(s.state);
      await db
        .insert(appStates)
        .values({ tenantId: s.tenantId, userUid: s.userUid, app: s.app, state, updatedAt: s.updatedAt })
        .onConflictDoUpdate({ target: [appStates.tenantId, appStates.userUid, appStates.app], set: { state, updatedAt: s.updatedAt } })
        .run();
    },
  };
}
