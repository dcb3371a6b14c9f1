import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * ReplayGuard: "has this id been used?" decided exactly once. Used for Authn request ids
 * (one object per caller public key) and for single-use secrets: reset codes, challenge
 * sessions, ktokens (one object per scope). `claim` is one synchronous check-and-insert.
 */
export class ReplayGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private claims = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
  }

  /** True the first time `id` is claimed before it expires; false on every later claim. */
  claim(id: string, expiresAt: number, now: number): boolean {
    if (++this.claims % 100 === 0) this.sql.exec("DELETE FROM seen WHERE expires_at < ?", now);
    const existing = this.sql.exec<{ expires_at: number }>("SELECT expires_at FROM seen WHERE id = ?", id).toArray()[0];
    if (existing && existing.expires_at >= now) return false;
    this.sql.exec("INSERT OR REPLACE INTO seen (id, expires_at) VALUES (?, ?)", id, expiresAt);
    return true;
  }

  /** Whether `id` has been claimed and not yet expired. */
  isClaimed(id: string, now: number): boolean {
    return this.sql.exec("SELECT 1 FROM seen WHERE id = ? AND expires_at >= ?", id, now).toArray().length === 1;
  }
}
