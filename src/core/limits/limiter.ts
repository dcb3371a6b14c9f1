import type { LimitDecision, LockoutPolicy, RateLimiter } from "../../durable/rate-limiter";
import { AuthError } from "../errors";
import type { Scope } from "../context";

/**
 * Rate limits and progressive lockout on credential checks, keyed by tenant+subject and
 * tenant+IP, decided by the RateLimiter Durable Object (one object per key).
 */
export class Limiter {
  constructor(private readonly ns: DurableObjectNamespace<RateLimiter>) {}

  private stub(key: string) {
    return this.ns.get(this.ns.idFromName(key));
  }

  static policy(scope: Scope, kind: "user" | "ip"): LockoutPolicy {
    const l = scope.settings.lockout;
    return {
      threshold: kind === "user" ? l.userThreshold : l.ipThreshold,
      windowMs: l.windowSeconds * 1000,
      baseDelayMs: l.baseDelaySeconds * 1000,
      maxDelayMs: l.maxDelaySeconds * 1000,
    };
  }

  /** The counter keys for a credential check on `subject` (a username, client id, ...). */
  static keys(scope: Scope, kind: string, subject: string): { user: string; ip: string } {
    return {
      user: `${scope.tenant.id}:${kind}:${subject.toLowerCase()}`,
      ip: `${scope.tenant.id}:ip:${scope.ip}`,
    };
  }

  /**
   * Throws rate_limited when either the subject or the IP is locked out; otherwise answers the
   * subject's failures in the window, so a caller can clear them after a success only when
   * there is something to clear (a success costs a Durable Object write).
   */
  async guard(scope: Scope, kind: string, subject: string, userPolicy?: LockoutPolicy): Promise<{ failures: number }> {
    const k = Limiter.keys(scope, kind, subject);
    const now = Date.now();
    const [u, i] = await Promise.all([
      this.stub(k.user).check(userPolicy ?? Limiter.policy(scope, "user"), now),
      this.stub(k.ip).check(Limiter.policy(scope, "ip"), now),
    ]);
    const wait = Math.max(u.retryAfter, i.retryAfter);
    if (!u.allowed || !i.allowed) throw new AuthError("rate_limited", "too many failed attempts; try again later", { retryAfter: wait });
    return { failures: u.failures };
  }

  /**
   * Begins a credential check on `subject`: like `guard`, but the subject's counter also
   * reserves this attempt, so that parallel attempts cannot exceed the threshold between a
   * check and its failure being recorded (the IP counter is checked, not reserved). Settle it
   * with `attemptFailed`, `success` or `release`.
   */
  async attempt(scope: Scope, kind: string, subject: string, userPolicy?: LockoutPolicy): Promise<void> {
    const k = Limiter.keys(scope, kind, subject);
    const now = Date.now();
    const [u, i] = await Promise.all([
      this.stub(k.user).begin(userPolicy ?? Limiter.policy(scope, "user"), now),
      this.stub(k.ip).check(Limiter.policy(scope, "ip"), now),
    ]);
    if (u.allowed && !i.allowed) await this.stub(k.user).release();
    if (!u.allowed || !i.allowed) {
      throw new AuthError("rate_limited", "too many failed attempts; try again later", { retryAfter: Math.max(u.retryAfter, i.retryAfter) });
    }
  }

  /** Records the failure of a check begun with `attempt`, against both counters. */
  async attemptFailed(scope: Scope, kind: string, subject: string, userPolicy?: LockoutPolicy): Promise<LimitDecision> {
    const k = Limiter.keys(scope, kind, subject);
    const now = Date.now();
    const [u] = await Promise.all([
      this.stub(k.user).fail(userPolicy ?? Limiter.policy(scope, "user"), now, true),
      this.stub(k.ip).fail(Limiter.policy(scope, "ip"), now),
    ]);
    return u;
  }

  /** Settles a check begun with `attempt` that neither failed nor succeeded. */
  async release(scope: Scope, kind: string, subject: string): Promise<void> {
    await this.stub(Limiter.keys(scope, kind, subject).user).release();
  }

  /** Records a failed check against both counters (for checks begun with `guard`). */
  async failure(scope: Scope, kind: string, subject: string, userPolicy?: LockoutPolicy): Promise<LimitDecision> {
    const k = Limiter.keys(scope, kind, subject);
    const now = Date.now();
    const [u] = await Promise.all([
      this.stub(k.user).fail(userPolicy ?? Limiter.policy(scope, "user"), now),
      this.stub(k.ip).fail(Limiter.policy(scope, "ip"), now),
    ]);
    return u;
  }

  /** A success releases the subject's lock (the IP counter keeps counting other users). */
  async success(scope: Scope, kind: string, subject: string): Promise<void> {
    await this.stub(Limiter.keys(scope, kind, subject).user).reset();
  }

  /** Failures recorded for a subject (tests, diagnostics). */
  async failures(scope: Scope, kind: string, subject: string): Promise<number> {
    return this.stub(Limiter.keys(scope, kind, subject).user).failures(scope.settings.lockout.windowSeconds * 1000, Date.now());
  }

  /** A plain request limit (e.g. mails per address per hour); throws rate_limited past it. */
  async limit(key: string, limit: number, windowSeconds: number): Promise<void> {
    const d = await this.stub(`window:${key}`).hit(limit, windowSeconds * 1000, Date.now());
    if (!d.allowed) throw new AuthError("rate_limited", "too many requests; try again later", { retryAfter: d.retryAfter });
  }
}
