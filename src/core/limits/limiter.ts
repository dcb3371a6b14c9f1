import { stubNear } from "../placement/location-hint";
import type { LimitDecision, LockoutPolicy, RateLimiter } from "../../durable/rate-limiter";
import { AuthError } from "../errors";
import type { Scope } from "../context";

/**
 * Keys whose counter this isolate recently read as clean (no failures, not locked), until when.
 * `guard` (the non-reserving check, used where the secret is high-entropy: client secrets,
 * reset tokens, hook secrets, ktokens) may trust such an answer for CLEAN_CACHE_MS instead of
 * asking the Durable Object on every request; any failure recorded through this isolate
 * forgets the keys at once. So failures made through other isolates reach this one within a
 * second, which for a 256-bit secret changes nothing, and the guard stops being two Durable
 * Object round trips per token (from a distant location, each can cost tens of milliseconds).
 * `attempt` (passwords) never uses it: it reserves at the object every time.
 */
const CLEAN_CACHE_MS = 1000;
const CLEAN_CACHE_MAX = 10_000;
const cleanUntil = new Map<string, number>();

function isClean(key: string, now: number): boolean {
  const until = cleanUntil.get(key);
  if (until === undefined) return false;
  if (until > now) return true;
  cleanUntil.delete(key);
  return false;
}

function markClean(key: string, d: LimitDecision, now: number): void {
  if (!d.allowed || d.failures !== 0) return;
  if (cleanUntil.size >= CLEAN_CACHE_MAX) cleanUntil.clear();
  cleanUntil.set(key, now + CLEAN_CACHE_MS);
}

const CLEAN: LimitDecision = { allowed: true, retryAfter: 0, failures: 0 };

/**
 * Rate limits and progressive lockout on credential checks, keyed by tenant+subject and
 * tenant+IP, decided by the RateLimiter Durable Object (one object per key).
 */
export class Limiter {
  constructor(private readonly ns: DurableObjectNamespace<RateLimiter>) {}

  /**
   * The counter's object. `near` is the caller's location hint (Scope.locationHint): it only
   * matters when this call creates the object, which then lives near the requests it counts
   * instead of wherever it happened to be created (core/placement/location-hint.ts). Each key
   * still has exactly one object deciding it; only where that object runs changes.
   */
  private stub(key: string, near?: DurableObjectLocationHint) {
    return stubNear(this.ns, key, near);
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
      isClean(k.user, now) ? CLEAN : this.stub(k.user, scope.locationHint).check(userPolicy ?? Limiter.policy(scope, "user"), now),
      isClean(k.ip, now) ? CLEAN : this.stub(k.ip, scope.locationHint).check(Limiter.policy(scope, "ip"), now),
    ]);
    markClean(k.user, u, now);
    markClean(k.ip, i, now);
    const wait = Math.max(u.retryAfter, i.retryAfter);
    if (!u.allowed || !i.allowed) throw new AuthError("rate_limited", "too many failed attempts; try again later", { retryAfter: wait });
    return { failures: u.failures };
  }

  /**
   * Begins a credential check on `subject`: like `guard`, but both counters (the subject's and
   * the connecting IP's) also reserve this attempt, so that parallel attempts cannot exceed
   * either threshold between a check and its failure being recorded. Settle it with
   * `attemptFailed`, `attemptSucceeded` or `release`; an attempt never settled (a crashed
   * request) stops counting after the RateLimiter's reservation timeout.
   */
  async attempt(scope: Scope, kind: string, subject: string, userPolicy?: LockoutPolicy): Promise<void> {
    const k = Limiter.keys(scope, kind, subject);
    const now = Date.now();
    const [u, i] = await Promise.all([
      this.stub(k.user, scope.locationHint).begin(userPolicy ?? Limiter.policy(scope, "user"), now),
      this.stub(k.ip, scope.locationHint).begin(Limiter.policy(scope, "ip"), now),
    ]);
    if (!u.allowed || !i.allowed) {
      // Whichever side did reserve gives its reservation back.
      await Promise.all([u.allowed ? this.stub(k.user, scope.locationHint).release() : null, i.allowed ? this.stub(k.ip, scope.locationHint).release() : null]);
      throw new AuthError("rate_limited", "too many failed attempts; try again later", { retryAfter: Math.max(u.retryAfter, i.retryAfter) });
    }
  }

  /** Records the failure of a check begun with `attempt`, against both counters. */
  async attemptFailed(scope: Scope, kind: string, subject: string, userPolicy?: LockoutPolicy): Promise<LimitDecision> {
    const k = Limiter.keys(scope, kind, subject);
    cleanUntil.delete(k.user);
    cleanUntil.delete(k.ip);
    const now = Date.now();
    const [u] = await Promise.all([
      this.stub(k.user, scope.locationHint).fail(userPolicy ?? Limiter.policy(scope, "user"), now, true),
      this.stub(k.ip, scope.locationHint).fail(Limiter.policy(scope, "ip"), now, true),
    ]);
    return u;
  }

  /** Settles a check begun with `attempt` that neither failed nor succeeded. */
  async release(scope: Scope, kind: string, subject: string): Promise<void> {
    const k = Limiter.keys(scope, kind, subject);
    await Promise.all([this.stub(k.user, scope.locationHint).release(), this.stub(k.ip, scope.locationHint).release()]);
  }

  /**
   * Settles a check begun with `attempt` that succeeded: the subject's lock and count are
   * cleared (as `success` does), and the IP's reservation is given back (the IP counter keeps
   * counting other users' failures).
   */
  async attemptSucceeded(scope: Scope, kind: string, subject: string): Promise<void> {
    const k = Limiter.keys(scope, kind, subject);
    await Promise.all([this.stub(k.user, scope.locationHint).reset(), this.stub(k.ip, scope.locationHint).release()]);
  }

  /** Records a failed check against both counters (for checks begun with `guard`). */
  async failure(scope: Scope, kind: string, subject: string, userPolicy?: LockoutPolicy): Promise<LimitDecision> {
    const k = Limiter.keys(scope, kind, subject);
    cleanUntil.delete(k.user);
    cleanUntil.delete(k.ip);
    const now = Date.now();
    const [u] = await Promise.all([
      this.stub(k.user, scope.locationHint).fail(userPolicy ?? Limiter.policy(scope, "user"), now),
      this.stub(k.ip, scope.locationHint).fail(Limiter.policy(scope, "ip"), now),
    ]);
    return u;
  }

  /** A success releases the subject's lock (the IP counter keeps counting other users). */
  async success(scope: Scope, kind: string, subject: string): Promise<void> {
    await this.stub(Limiter.keys(scope, kind, subject).user, scope.locationHint).reset();
  }

  /** Failures recorded for a subject (tests, diagnostics). */
  async failures(scope: Scope, kind: string, subject: string): Promise<number> {
    return this.stub(Limiter.keys(scope, kind, subject).user, scope.locationHint).failures(scope.settings.lockout.windowSeconds * 1000, Date.now());
  }

  /**
   * A plain request limit (e.g. mails per address per hour); throws rate_limited past it.
   * `near`: the request's scope, so a new window's object is created near its caller.
   */
  async limit(key: string, limit: number, windowSeconds: number, near?: Pick<Scope, "locationHint">): Promise<void> {
    const d = await this.stub(`window:${key}`, near?.locationHint).hit(limit, windowSeconds * 1000, Date.now());
    if (!d.allowed) throw new AuthError("rate_limited", "too many requests; try again later", { retryAfter: d.retryAfter });
  }
}
