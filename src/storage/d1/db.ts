import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

const dbs = new WeakMap<D1Database, Db>();
const perRequest = new WeakSet<D1Database>();

/**
 * Marks a D1 handle that lives for one request (a Sessions API session, storage/d1/replica.ts).
 * `database()` wraps it without the schema: drizzle's relational config of the whole schema
 * costs about 0.2 ms to build (measured in Node), too much to pay per request, and the stores
 * use only the query builder, never `db.query`.
 */
export function forOneRequest(d1: D1Database): D1Database {
  perRequest.add(d1);
  return d1;
}

/** One drizzle wrapper per D1 binding per isolate (per request for a handle marked forOneRequest). */
export function database(d1: D1Database): Db {
  // Without the schema, `db.query` (the relational API) is absent; nothing in storage/d1 uses it.
  if (perRequest.has(d1)) return drizzle(d1) as unknown as Db;
  let db = dbs.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    dbs.set(d1, db);
  }
  return db;
}

/** Parses a JSON column, falling back when a row holds something unexpected. */
export function parseJson<T>(s: string | null, fallback: T): T {
  if (s == null) return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

/** True for a SQLite UNIQUE constraint failure (a lost race or a duplicate). */
export function isUniqueViolation(e: unknown): boolean {
  const msg = e instanceof Error ? `${e.message} ${String((e as { cause?: unknown }).cause ?? "")}` : String(e);
  return /UNIQUE constraint failed/i.test(msg);
}
