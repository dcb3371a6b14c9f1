import { and, eq, sql } from "drizzle-orm";
import type { NewUser, User, UserPatch, UserStore } from "../ports";
import { database, parseJson } from "./db";
import { users } from "./schema";

type Row = typeof users.$inferSelect;

function toUser(r: Row): User {
  return {
    ...r,
    address: parseJson(r.address, null),
    roles: parseJson<string[]>(r.roles, []),
    groups: parseJson<string[]>(r.groups, []),
    typingProfile: parseJson(r.typingProfile, null),
  };
}

function toColumns(p: UserPatch): Partial<Row> {
  const { address, roles, groups, typingProfile, username, ...rest } = p;
  const out: Partial<Row> = { ...rest };
  if (username !== undefined) out.username = username.toLowerCase();
  if (address !== undefined) out.address = address === null ? null : JSON.stringify(address);
  if (roles !== undefined) out.roles = JSON.stringify(roles);
  if (groups !== undefined) out.groups = JSON.stringify(groups);
  if (typingProfile !== undefined) out.typingProfile = typingProfile === null ? null : JSON.stringify(typingProfile);
  return out;
}

export function D1UserStore(d1: D1Database): UserStore {
  const db = database(d1);
  const one = async (q: Promise<Row | undefined>) => {
    const r = await q;
    return r ? toUser(r) : null;
  };
  // The reads of every login, refresh, verification and federated sign-in, built once per store (drizzle's query
  // building was a millisecond of a passkey sign-in's CPU: docs/benchmarks.md "CPU per route").
  // Only over a plain binding: a prepared statement keeps the handle it was prepared on.
  // One shape: a user by a scope column (tenant or community) and one more column.
  const userBy = (scope: typeof users.tenantId | typeof users.communityId, column: typeof users.uid | typeof users.username | typeof users.email | typeof users.externalSubject) =>
    db
      .select()
      .from(users)
      .where(and(eq(scope, sql.placeholder("scope")), eq(column, sql.placeholder("value"))))
      .prepare();
  const byUidQuery = userBy(users.tenantId, users.uid);
  const byUsernameQuery = userBy(users.communityId, users.username);
  const byEmailQuery = userBy(users.tenantId, users.email);
  const byExternalSubjectQuery = userBy(users.tenantId, users.externalSubject);
  return {
    byUid: (tenantId, uid) => one(byUidQuery.get({ scope: tenantId, value: uid })),
    byId: (tenantId, id) => one(db.select().from(users).where(and(eq(users.tenantId, tenantId), eq(users.id, id))).get()),
    byUsername: (communityId, username) => one(byUsernameQuery.get({ scope: communityId, value: username.toLowerCase() })),
    async byUsernameInTenant(tenantId, username) {
      const rows = await db
        .select()
        .from(users)
        .where(and(eq(users.tenantId, tenantId), eq(users.username, username.toLowerCase())))
        .all();
      return rows.map(toUser);
    },
    async byEmail(tenantId, email) {
      const rows = await byEmailQuery.all({ scope: tenantId, value: email.toLowerCase() });
      return rows.map(toUser);
    },
    byExternalSubject: (tenantId, subject) => one(byExternalSubjectQuery.get({ scope: tenantId, value: subject })),
    async children(tenantId, parentUserId) {
      const rows = await db
        .select()
        .from(users)
        .where(and(eq(users.tenantId, tenantId), eq(users.parentUserId, parentUserId)))
        .all();
      return rows.map(toUser);
    },
    async create(u: NewUser) {
      const now = Date.now();
      const { uid, dguid, ...rest } = u;
      const values = {
        ...toColumns(rest),
        uid: uid ?? crypto.randomUUID(),
        dguid: dguid ?? crypto.randomUUID(),
        tenantId: u.tenantId,
        communityId: u.communityId,
        username: u.username.toLowerCase(),
        email: u.email ? u.email.toLowerCase() : null,
        createdAt: now,
        updatedAt: now,
      };
      const row = await db.insert(users).values(values).returning().get();
      return toUser(row);
    },
    async replacePasswordHash(tenantId, uid, expected, next) {
      const r = await db
        .update(users)
        .set({ passwordHash: next, updatedAt: Date.now() })
        .where(and(eq(users.tenantId, tenantId), eq(users.uid, uid), eq(users.passwordHash, expected)))
        .run();
      return r.meta.changes > 0;
    },
    async update(tenantId, uid, patch) {
      const cols = toColumns(patch);
      if (cols.email) cols.email = cols.email.toLowerCase();
      await db
        .update(users)
        .set({ ...cols, updatedAt: Date.now() })
        .where(and(eq(users.tenantId, tenantId), eq(users.uid, uid)))
        .run();
    },
  };
}
