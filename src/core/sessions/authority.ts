import type { RotateInput, RotateResult, TokenAuthority, TokenStatus } from "../../durable/token-authority";
import { SharedActiveCache } from "../placement/shared-active-cache";

/** How long an isolate may trust a "session is active" answer (DESIGN.md: at most 1 s). */
const ACTIVE_CACHE_MS = 1000;
const ACTIVE_CACHE_MAX = 10_000;
/** Per isolate, in front of the data center's shared cache: key -> trusted until (epoch ms). */
const activeCache = new Map<string, number>();

function remember(key: string, until: number): void {
  if (activeCache.size >= ACTIVE_CACHE_MAX) activeCache.clear();
  activeCache.set(key, until);
}

/** Empties this isolate's "active" answers (tests: to see what the shared cache alone answers). */
export function forgetIsolateActiveCache(): void {
  activeCache.clear();
}

/**
 * The core's handle on the TokenAuthority Durable Object: one object per subject
 * (`<tenant>:<sub>`), holding all of that subject's session families.
 */
export class SessionAuthority {
  /**
   * `shared`: the data center's "active" answers (core/placement/shared-active-cache.ts),
   * consulted after this isolate's own and before the authority; revocations through this
   * isolate overrule it at once.
   */
  constructor(
    private readonly ns: DurableObjectNamespace<TokenAuthority>,
    private readonly shared: SharedActiveCache = new SharedActiveCache(),
  ) {}

  /**
   * The subject's authority. `near` (the login's Scope.locationHint) is given only by `open`:
   * the first login of a subject creates its authority, and a hint then places it in the
   * subject's home region (core/placement/location-hint.ts); every later call finds the object
   * wherever it lives, since a hint never moves an existing object. Still one authority per subject.
   */
  private stub(tenantId: string, sub: string, near?: DurableObjectLocationHint) {
    const id = this.ns.idFromName(`${tenantId}:${sub}`);
    return near ? this.ns.get(id, { locationHint: near }) : this.ns.get(id);
  }

  /**
   * Opens a family; `authenticatedAt` (epoch ms of the credential check) see TokenAuthority.openFamily.
   * `near`: the login request's location hint (Scope.locationHint).
   */
  async open(tenantId: string, sub: string, familyId: string, firstHash: string | null, tokenExpiresAt: number, absoluteExpiresAt: number, authenticatedAt?: number, near?: DurableObjectLocationHint) {
    await this.stub(tenantId, sub, near).openFamily(familyId, firstHash, tokenExpiresAt, absoluteExpiresAt, Date.now(), authenticatedAt);
  }

  async rotate(tenantId: string, sub: string, input: RotateInput): Promise<RotateResult> {
    const key = tokenKey(tenantId, sub, input.familyId, input.presentedHash);
    activeCache.delete(key);
    // The presented token stops being the family's current one: its shared answer goes too
    // (at the same time as the rotation, not before it: the answer must not wait for it).
    const [r] = await Promise.all([this.stub(tenantId, sub).rotate(input), this.shared.drop(key)]);
    if (r.status === "reuse") {
      // The authority revoked the whole family: seen at once here, like any revocation.
      forget(tenantId, sub);
      await this.shared.revoked(subjectKey(tenantId, sub));
    }
    return r;
  }

  /**
   * The state of a refresh token for a refresh that does not rotate: a read of the authority
   * (never a write), and an "active" answer is kept in the isolate for at most one second like
   * isActive's (DESIGN.md's revocation bound). Revocations through this isolate drop it at once.
   */
  async checkToken(tenantId: string, sub: string, familyId: string, tokenHash: string): Promise<TokenStatus> {
    const key = tokenKey(tenantId, sub, familyId, tokenHash);
    const until = activeCache.get(key);
    const now = Date.now();
    if (until !== undefined && until > now) return "active";
    const shared = await this.shared.activeUntil(subjectKey(tenantId, sub), key, now);
    if (shared !== null) {
      remember(key, shared);
      return "active";
    }
    const askedAt = Date.now();
    const status = await this.stub(tenantId, sub).checkToken(familyId, tokenHash, askedAt);
    if (status === "active") {
      remember(key, askedAt + ACTIVE_CACHE_MS);
      await this.shared.active(key, askedAt);
    } else {
      activeCache.delete(key);
    }
    return status;
  }

  /** `statelessUntil`: for a stateless session, its token's expiry (how long to remember the revocation). */
  async revokeFamily(tenantId: string, sub: string, familyId: string, reason: string, statelessUntil?: number): Promise<boolean> {
    forgetFamily(tenantId, sub, familyId);
    const r = await this.stub(tenantId, sub).revokeFamily(familyId, reason, Date.now(), statelessUntil);
    await this.shared.revoked(subjectKey(tenantId, sub));
    return r;
  }

  /** Revokes the family a refresh token (by its SHA-256) was issued to; false for a token it never issued. */
  async revokeByToken(tenantId: string, sub: string, familyId: string, tokenHash: string, reason: string): Promise<boolean> {
    forgetFamily(tenantId, sub, familyId);
    const r = await this.stub(tenantId, sub).revokeByToken(familyId, tokenHash, reason, Date.now());
    if (r) await this.shared.revoked(subjectKey(tenantId, sub));
    return r;
  }

  /** Ends every session of a subject but `keepFamily` (password change or reset, disabling). */
  async revokeAll(tenantId: string, sub: string, reason: string, keepFamily: string | null = null): Promise<number> {
    forget(tenantId, sub);
    const n = await this.stub(tenantId, sub).revokeAll(reason, Date.now(), keepFamily);
    await this.shared.revoked(subjectKey(tenantId, sub));
    return n;
  }

  /** Whether a session family is live; cached in the isolate for at most one second. */
  async isActive(tenantId: string, sub: string, familyId: string): Promise<boolean> {
    const key = `${tenantId}:${sub}:${familyId}`;
    const until = activeCache.get(key);
    const now = Date.now();
    if (until !== undefined && until > now) return true;
    // The data center's shared answer, kept here only until the instant it stops counting there.
    const shared = await this.shared.activeUntil(subjectKey(tenantId, sub), key, now);
    if (shared !== null) {
      remember(key, shared);
      return true;
    }
    const askedAt = Date.now();
    const active = await this.stub(tenantId, sub).isActive(familyId, askedAt);
    if (active) {
      remember(key, askedAt + ACTIVE_CACHE_MS);
      await this.shared.active(key, askedAt);
    } else {
      activeCache.delete(key);
    }
    return active;
  }

  /**
   * A live family's absolute expiry (epoch ms), or null; never cached. A stateless session's
   * is its credential check plus `statelessMaxAgeMs` (the tenant's session maximum age).
   */
  async activeUntil(tenantId: string, sub: string, familyId: string, statelessMaxAgeMs = 0): Promise<number | null> {
    return this.stub(tenantId, sub).activeUntil(familyId, Date.now(), statelessMaxAgeMs);
  }

  async describe(tenantId: string, sub: string, familyId: string) {
    return this.stub(tenantId, sub).describe(familyId);
  }
}

/** Cache key of one refresh token's "active" answer: the family's key, then `#` and the token's hash. */
function tokenKey(tenantId: string, sub: string, familyId: string, tokenHash: string): string {
  return `${tenantId}:${sub}:${familyId}#${tokenHash}`;
}

/** Drops the cached answers of one family and of each of its tokens. */
function forgetFamily(tenantId: string, sub: string, familyId: string): void {
  const key = `${tenantId}:${sub}:${familyId}`;
  activeCache.delete(key);
  const prefix = `${key}#`;
  for (const k of activeCache.keys()) if (k.startsWith(prefix)) activeCache.delete(k);
}

/** The shared cache's name for a subject (its revocations overrule all of its answers). */
function subjectKey(tenantId: string, sub: string): string {
  return `${tenantId}:${sub}`;
}

function forget(tenantId: string, sub: string): void {
  const prefix = `${tenantId}:${sub}:`;
  for (const k of activeCache.keys()) if (k.startsWith(prefix)) activeCache.delete(k);
}
