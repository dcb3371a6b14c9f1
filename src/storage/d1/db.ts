import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

const dbs = new WeakMap<D1Database, Db>();

/** One drizzle wrapper per D1 binding per isolate. */
export function database(d1: D1Database): Db {
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
