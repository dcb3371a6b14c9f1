import { eq } from "drizzle-orm";
import type { ClientStore, OAuthClient } from "../ports";
import { database, parseJson } from "./db";
import { oauthClients } from "./schema";

type Row = typeof oauthClients.$inferSelect;

const toClient = (r: Row): OAuthClient => ({
  ...r,
  grants: parseJson<string[]>(r.grants, []),
  roles: parseJson<string[]>(r.roles, []),
});

export function D1ClientStore(d1: D1Database): ClientStore {
  const db = database(d1);
  return {
    async byId(clientId) {
      const r = await db.select().from(oauthClients).where(eq(oauthClients.clientId, clientId)).get();
      return r ? toClient(r) : null;
    },
    async create(c) {
      const row: Row = {
        ...c,
        grants: JSON.stringify(c.grants),
        roles: JSON.stringify(c.roles),
        createdAt: Date.now(),
      };
      await db.insert(oauthClients).values(row).run();
      return toClient(row);
    },
  };
}
