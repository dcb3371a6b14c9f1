import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * RateLimiter: failure counters with progressive lockout, and fixed-window request limits.
 * One object per key (`<tenant>:user:<username>`, `<tenant>:ip:<ip>`, ...), so counters hold
 * across isolates and survive eviction. Each method is one synchronous read-modify-write.
 */
export interface LockoutPolicy {
  /** Failures within the window before the key locks. */
  threshold: number;
  /** How long failures are remembered: it sets how fast the wait grows, never how long a lock lasts. */
  windowMs: number;
  /** First lock's length; each further failure doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** Seconds until the key may try again (0 when allowed). */
  retryAfter: number;
  failures: number;
}

/**
 * The lock that the `failures`-th failure within the window imposes: none below the threshold,
 * then the base wait, doubling with each further failure, capped at the maximum. A lock lasts
 * this wait only, not the whole window (DESIGN.md "Security defaults"): otherwise the threshold
 * number of guesses would lock any known username (or a NAT's IP) for the window's 12 hours.
 */
export function lockoutWaitMs(policy: LockoutPolicy, failures: number): number {
  if (failures < policy.threshold) return 0;
  const exp = Math.min(failures - policy.threshold, 20);
  return Math.min(policy.baseDelayMs * 2 ** exp, policy.maxDelayMs);
}

/** Whole seconds for Retry-After (RFC 9110 §10.2.3), rounded up so a client never comes back early. */
const seconds = (ms: number) => (ms > 0 ? Math.ceil(ms / 1000) : 0);

/** How long a begun, unsettled credential check keeps counting against the threshold. */
const RESERVATION_MS = 30_000;

interface Row {
  failures: number;
  window_start: number;
  locked_until: number;
  [k: string]: SqlStorageValue;
}

export class RateLimiter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS counters (
      name TEXT PRIMARY KEY, failures INTEGER NOT NULL, window_start INTEGER NOT NULL, locked_until INTEGER NOT NULL)`);
    // Credential checks in flight (begun, not yet settled): see `begin`.
    this.sql.exec("CREATE TABLE IF NOT EXISTS reservations (at INTEGER NOT NULL)");
  }

  private inFlight(now: number): number {
    this.sql.exec("DELETE FROM reservations WHERE at <= ?", now - RESERVATION_MS);
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM reservations").one().n;
  }

  private settleOne(): void {
    this.sql.exec("DELETE FROM reservations WHERE rowid = (SELECT min(rowid) FROM reservations)");
  }

  /**
   * Begins a credential check. Refused while locked, answering the lock's true remaining wait.
   * Otherwise refused also while the checks already in flight could use up what the threshold
   * allows: below it, the failures left before it; past it (a lock whose wait has ended), one
   * check at a time, whose failure locks again for the next, longer wait. Without this rule N
   * parallel guesses all pass a plain `check` before any of them is counted, and the threshold
   * bounds nothing.
   *
   * A refusal for checks in flight is not a lock: those checks settle within moments (one
   * password hash), and then the key's true state is known, so Retry-After is 1 s. Answering
   * the wait their failure would impose instead would tell a user behind a busy NAT, whose
   * neighbour's login is the check in flight, to wait up to the maximum for nothing.
   *
   * A begun check is settled by `fail(..., true)`, `release` or `reset`; one never settled (a
   * crashed request) stops counting after RESERVATION_MS.
   */
  begin(policy: LockoutPolicy, now: number): LimitDecision {
    const state = this.check(policy, now);
    if (!state.allowed) return state;
    const room = state.failures >= policy.threshold ? 1 : policy.threshold - state.failures;
    if (this.inFlight(now) >= room) return { allowed: false, retryAfter: 1, failures: state.failures };
    this.sql.exec("INSERT INTO reservations (at) VALUES (?)", now);
    return state;
  }

  /** Settles a begun check that neither failed nor succeeded (e.g. refused for another reason). */
  release(): void {
    this.settleOne();
  }

  private read(name: string, windowMs: number, now: number): Row {
    const r = this.sql.exec<Row>("SELECT failures, window_start, locked_until FROM counters WHERE name = ?", name).toArray()[0];
    if (!r || now - r.window_start > windowMs) return { failures: 0, window_start: now, locked_until: r?.locked_until ?? 0 };
    return r;
  }

  private write(name: string, r: Row): void {
    this.sql.exec(
      "INSERT INTO counters (name, failures, window_start, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start, locked_until = excluded.locked_until",
      name,
      r.failures,
      r.window_start,
      r.locked_until,
    );
  }

  /** Whether a credential check may proceed now. */
  check(policy: LockoutPolicy, now: number): LimitDecision {
    const r = this.read("lockout", policy.windowMs, now);
    return this.decision(r, now);
  }

  private decision(r: Row, now: number): LimitDecision {
    const wait = r.locked_until - now;
    return { allowed: wait <= 0, retryAfter: seconds(wait), failures: r.failures };
  }

  /**
   * Records one failed credential check; locks progressively past the threshold. `begun`: the
   * check was started with `begin`, whose reservation this settles.
   */
  fail(policy: LockoutPolicy, now: number, begun = false): LimitDecision {
    if (begun) this.settleOne();
    const r = this.read("lockout", policy.windowMs, now);
    r.failures += 1;
    const wait = lockoutWaitMs(policy, r.failures);
    if (wait > 0) r.locked_until = now + wait;
    this.write("lockout", r);
    return this.decision(r, now);
  }

  /** A success (or a password reset) releases the lock and clears the count. */
  reset(): void {
    this.sql.exec("DELETE FROM counters WHERE name = 'lockout'");
    this.sql.exec("DELETE FROM reservations");
  }

  /** Fixed-window request limit: counts this hit and says whether it is within `limit`. */
  hit(limit: number, windowMs: number, now: number): LimitDecision {
    const r = this.read("window", windowMs, now);
    if (r.failures >= limit) {
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((r.window_start + windowMs - now) / 1000)), failures: r.failures };
    }
    r.failures += 1;
    r.locked_until = 0;
    this.write("window", r);
    return { allowed: true, retryAfter: 0, failures: r.failures };
  }

  /** The current failure count (tests, diagnostics). */
  failures(windowMs: number, now: number): number {
    return this.read("lockout", windowMs, now).failures;
  }
}
