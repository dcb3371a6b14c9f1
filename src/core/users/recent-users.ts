import type { User, UserStore } from "../../storage/ports";

/**
 * User rows at most RECENT_MS old, for the hot paths that re-read the subject of a session the
 * TokenAuthority already vouched for: refresh, access-token reissue, a client's API user. What
 * they need from the row is the current roles, names and the disabled flag; disabling a user
 * ends every session in the authority at once, so a row a second old can only lend a new token
 * roles that are a second stale (its predecessor carried older ones for up to 24 h anyway).
 *
 * Never used for credential checks: logins, resets and password changes read D1 directly.
 *
 * The cache is per isolate. Writes made through a store wrapped by withRecentUserEviction evict
 * the row in this isolate at once; other isolates see a change within RECENT_MS. In production
 * a D1 read from an edge location can cost tens of milliseconds; this is what keeps it off the
 * refresh path (DESIGN.md "Performance budgets").
 */
export const RECENT_MS = 1000;
const MAX_ENTRIES = 5000;

interface Entry {
  at: number;
  user: User | null;
}

const byUid = new Map<string, Entry>();
const byId = new Map<string, Entry>();

const uidKey = (tenantId: string, uid: string) => `${tenantId}\u0000${uid}`;
const idKey = (tenantId: string, id: number) => `${tenantId}\u0000${id}`;

function remember(map: Map<string, Entry>, key: string, user: User | null, at: number): void {
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, { at, user });
}

function fresh(map: Map<string, Entry>, key: string): Entry | undefined {
  const e = map.get(key);
  if (e && Date.now() - e.at < RECENT_MS) return e;
  if (e) map.delete(key);
  return undefined;
}

/**
 * A user row and when it was read (epoch ms, taken before the read). A caller that issues a
 * token on the strength of the row passes `readAt` as the session's authenticatedAt, so a user
 * disabled after the read gets a session that is born revoked.
 */
export interface RecentUser {
  user: User | null;
  readAt: number;
}

async function recent(map: Map<string, Entry>, key: string, read: () => Promise<User | null>): Promise<RecentUser> {
  const hit = fresh(map, key);
  if (hit) return { user: hit.user, readAt: hit.at };
  const readAt = Date.now();
  const user = await read();
  remember(map, key, user, readAt);
  return { user, readAt };
}

/** The user with this uid, from a read at most RECENT_MS old. */
export function recentUserByUid(users: UserStore, tenantId: string, uid: string): Promise<RecentUser> {
  return recent(byUid, uidKey(tenantId, uid), () => users.byUid(tenantId, uid));
}

/** The user with this numeric id, from a read at most RECENT_MS old. */
export function recentUserById(users: UserStore, tenantId: string, id: number): Promise<RecentUser> {
  return recent(byId, idKey(tenantId, id), () => users.byId(tenantId, id));
}

/** Drops a user's cached rows in this isolate (both keys: the id is found through the uid entry). */
export function forgetRecentUser(tenantId: string, uid: string): void {
  const key = uidKey(tenantId, uid);
  const e = byUid.get(key);
  byUid.delete(key);
  if (e?.user) byId.delete(idKey(tenantId, e.user.id));
  // A row cached only by id has no uid entry to lead to it: scan the (small, bounded) id map.
  for (const [k, v] of byId) if (v.user && v.user.tenantId === tenantId && v.user.uid === uid) byId.delete(k);
}

/** Forgets everything (tests). */
export function forgetRecentUsers(): void {
  byUid.clear();
  byId.clear();
}

/**
 * Wraps a UserStore so that every write through it evicts the written user from this
 * isolate's recent-user cache: a change made here is seen here at once.
 */
export function withRecentUserEviction(store: UserStore): UserStore {
  return {
    ...store,
    async update(tenantId, uid, patch) {
      try {
        await store.update(tenantId, uid, patch);
      } finally {
        forgetRecentUser(tenantId, uid);
      }
    },
    async replacePasswordHash(tenantId, uid, expected, next) {
      try {
        return await store.replacePasswordHash(tenantId, uid, expected, next);
      } finally {
        forgetRecentUser(tenantId, uid);
      }
    },
  };
}
