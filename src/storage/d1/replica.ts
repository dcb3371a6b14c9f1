/**
 * D1 read replication through the Sessions API
 * (https://developers.cloudflare.com/d1/best-practices/read-replication/).
 *
 * A plain `env.DB` query always goes to the primary. A query in a session
 * (`withSession(constraint | bookmark)`) may be served by a read replica that is at least as new
 * as the session's bookmark, and a session is sequentially consistent (monotonic reads, reads
 * see the session's own writes). Replica lag itself is not bounded by Cloudflare ("a read
 * replica may be arbitrarily out of date"), so only reads that tolerate an old answer may use
 * one (docs/architecture.md "Which reads may use a D1 replica").
 *
 * Handles over one binding, each shaped like a `D1Database` so that drizzle and the stores
 * take them unchanged:
 * - `primary`: every statement in its own `first-primary` session, which is exactly where a
 *   plain binding query goes; it also records the bookmark each statement leaves (the isolate's
 *   "floor"), so that this isolate's replica reads see its own writes.
 * - `replica`: every statement in its own session opened at the floor, or `first-unconstrained`
 *   before this isolate has written anything through `primary`.
 * - `session(bookmark)`: one session for one reading request, opened from a client's bookmark
 *   (or `first-primary` without one); `writeSession()`: a writing request, every statement on
 *   the primary. The `bookmark()` either reached is what the client sends back next time to read
 *   its own writes from any replica.
 *
 * Locally (wrangler dev, the vitest pool) there is one database and `getBookmark()` returns
 * strings like `00000000-0000000c-00000000-00000000000000000000000000000000` (the same
 * 8-8-8-32 hex shape as production bookmarks, docs "Time Travel" /d1/reference/time-travel/).
 */

import { forOneRequest } from "./db";

/** A D1 bookmark as D1 writes them: three 8-digit and one 32-digit lower-case hex groups. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** True for a string shaped like a D1 bookmark (only the shape: a forged one passes). */
export function isD1Bookmark(s: string): boolean {
  return s.length === 59 && BOOKMARK.test(s);
}

/** The newer of two bookmarks: D1 bookmarks sort lexicographically, oldest first (D1 glossary). */
export function newerBookmark(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b > a ? b : a;
}

/** The real statement behind each wrapper, for `batch` (D1 batches only its own statements). */
const inner = new WeakMap<object, D1PreparedStatement>();

function unwrap(s: D1PreparedStatement): D1PreparedStatement {
  return inner.get(s) ?? s;
}

/** A statement that reports its session's bookmark to `seen` after every execution. */
function recorded(stmt: D1PreparedStatement, session: D1DatabaseSession, seen: (b: string | null) => void): D1PreparedStatement {
  const after = <T>(p: Promise<T>): Promise<T> =>
    p.then((v) => {
      seen(session.getBookmark());
      return v;
    });
  const wrapper = {
    bind: (...values: unknown[]) => recorded(stmt.bind(...values), session, seen),
    first: (col?: string) => after(col === undefined ? stmt.first() : stmt.first(col)),
    run: () => after(stmt.run()),
    all: () => after(stmt.all()),
    raw: (options?: { columnNames?: boolean }) => after(options?.columnNames ? stmt.raw({ columnNames: true }) : stmt.raw()),
  };
  inner.set(wrapper, stmt);
  // The overloads of first() and raw() are implemented by the one function each above.
  return wrapper as unknown as D1PreparedStatement;
}

/** A `D1Database` whose statements each run in a session from `open()`; `seen` gets their bookmarks. */
function sessionPerStatement(d1: D1Database, open: () => D1DatabaseSession, seen: (b: string | null) => void): D1Database {
  const handle = {
    prepare: (query: string) => {
      const s = open();
      return recorded(s.prepare(query), s, seen);
    },
    batch: async <T = unknown>(statements: D1PreparedStatement[]) => {
      // One batch is one transaction in one session, whichever session prepared its statements.
      const s = open();
      const r = await s.batch<T>(statements.map(unwrap));
      seen(s.getBookmark());
      return r;
    },
    // exec and dump are never used by the stores (migrations run through wrangler); they keep
    // the binding's own behaviour, on the primary.
    exec: (query: string) => d1.exec(query),
    dump: () => d1.dump(),
    withSession: (c?: string) => d1.withSession(c),
  };
  return handle as unknown as D1Database;
}

/** One request's session: a `D1Database` for the stores, and the bookmark it ended at. */
export interface D1RequestSession {
  db: D1Database;
  /** The newest bookmark of this session's queries; null before the first query. */
  bookmark(): string | null;
}

/** The three handles of one D1 binding (see the top of this file); one per binding per isolate. */
export class D1Replication {
  /** Newest bookmark written through `primary` in this isolate. */
  private floor: string | null = null;
  readonly primary: D1Database;
  readonly replica: D1Database;

  constructor(private readonly d1: D1Database) {
    const note = (b: string | null) => {
      this.floor = newerBookmark(this.floor, b);
    };
    // Consistency: identical to a plain binding query (the primary), plus the floor.
    this.primary = sessionPerStatement(d1, () => d1.withSession("first-primary"), note);
    // Consistency: any replica at least as new as this isolate's last write through `primary`;
    // no order between two statements (each is its own session); a replica's newer bookmark
    // raises the floor too, so reads in this isolate never go back in time.
    this.replica = sessionPerStatement(d1, () => d1.withSession(this.floor ?? "first-unconstrained"), note);
  }

  /** The newest bookmark this isolate has seen (tests; diagnostics). */
  get bookmark(): string | null {
    return this.floor;
  }

  /**
   * A session for one request that only reads. With a bookmark (already verified by the caller)
   * it may read from any replica that has reached it; without one it starts on the primary
   * (`first-primary`). Either way every later query of the session sees the earlier ones.
   */
  session(bookmark: string | null): D1RequestSession {
    // Never older than what this isolate has already seen, so its own writes stay visible.
    const from = bookmark !== null && isD1Bookmark(bookmark) ? newerBookmark(bookmark, this.floor) : null;
    const s = this.d1.withSession(from ?? "first-primary");
    const note = (b: string | null) => {
      this.floor = newerBookmark(this.floor, b);
    };
    const handle = {
      prepare: (query: string) => recorded(s.prepare(query), s, note),
      batch: async <T = unknown>(statements: D1PreparedStatement[]) => {
        const r = await s.batch<T>(statements.map(unwrap));
        note(s.getBookmark());
        return r;
      },
      exec: (query: string) => this.d1.exec(query),
      dump: () => this.d1.dump(),
      withSession: (c?: string) => this.d1.withSession(c),
    };
    return { db: forOneRequest(handle as unknown as D1Database), bookmark: () => s.getBookmark() };
  }

  /**
   * A request that writes: every statement on the primary, as a plain binding query (a read
   * that a write depends on never comes from a replica, not even the second read of a
   * session), and `bookmark()` the newest its statements left, for the client's next read.
   */
  writeSession(): D1RequestSession {
    let newest: string | null = null;
    const db = sessionPerStatement(this.d1, () => this.d1.withSession("first-primary"), (b) => {
      newest = newerBookmark(newest, b);
      this.floor = newerBookmark(this.floor, b);
    });
    return { db: forOneRequest(db), bookmark: () => newest };
  }
}

const replications = new WeakMap<D1Database, D1Replication>();

/** The replication handles of a binding, built once per isolate. */
export function replication(d1: D1Database): D1Replication {
  let r = replications.get(d1);
  if (!r) {
    r = new D1Replication(d1);
    replications.set(d1, r);
  }
  return r;
}
