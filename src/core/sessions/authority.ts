import type { RotateInput, RotateResult, TokenAuthority, TokenStatus } from "../../durable/token-authority";

/** How long an isolate may trust a "session is active" answer (DESIGN.md: at most 1 s). */
const ACTIVE_CACHE_MS = 1000;
const ACTIVE_CACHE_MAX = 10_000;
const activeCache = new Map<string, number>();

/**
 * The core's handle on the TokenAuthority Durable Object: one object per subject
 * (`<tenant>:<sub>`), holding all of that subject's session families.
 */
export class SessionAuthority {
  constructor(private readonly ns: DurableObjectNamespace<TokenAuthority>) {}

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
    activeCache.delete(tokenKey(tenantId, sub, input.familyId, input.presentedHash));
    const r = await this.stub(tenantId, sub).rotate(input);
    if (r.status === "reuse") forget(tenantId, sub);
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
    const status = await this.stub(tenantId, sub).checkToken(familyId, tokenHash, now);
    if (status === "active") {
      if (activeCache.size >= ACTIVE_CACHE_MAX) activeCache.clear();
      activeCache.set(key, now + ACTIVE_CACHE_MS);
    } else {
      activeCache.delete(key);
    }
    return status;
  }

  /** `statelessUntil`: for a stateless session, its token's expiry (how long to remember the revocation). */
  async revokeFamily(tenantId: string, sub: string, familyId: string, reason: string, statelessUntil?: number): Promise<boolean> {
    forgetFamily(tenantId, sub, familyId);
    return this.stub(tenantId, sub).revokeFamily(familyId, reason, Date.now(), statelessUntil);
  }

  /** Revokes the family a refresh token (by its SHA-256) was issued to; false for a token it never issued. */
  async revokeByToken(tenantId: string, sub: string, familyId: string, tokenHash: string, reason: string): Promise<boolean> {
    forgetFamily(tenantId, sub, familyId);
    return this.stub(tenantId, sub).revokeByToken(familyId, tokenHash, reason, Date.now());
  }

  /** Ends every session of a subject but `keepFamily` (password change or reset, disabling). */
  async revokeAll(tenantId: string, sub: string, reason: string, keepFamily: string | null = null): Promise<number> {
    forget(tenantId, sub);
    return this.stub(tenantId, sub).revokeAll(reason, Date.now(), keepFamily);
  }

  /** Whether a session family is live; cached in the isolate for at most one second. */
  async isActive(tenantId: string, sub: string, familyId: string): Promise<boolean> {
    const key = `${tenantId}:${sub}:${familyId}`;
    const until = activeCache.get(key);
    const now = Date.now();
    if (until !== undefined && until > now) return true;
    const active = await this.stub(tenantId, sub).isActive(familyId, now);
    if (active) {
      if (activeCache.size >= ACTIVE_CACHE_MAX) activeCache.clear();
      activeCache.set(key, now + ACTIVE_CACHE_MS);
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

function forget(tenantId: string, sub: string): void {
  const prefix = `${tenantId}:${sub}:`;
  for (const k of activeCache.keys()) if (k.startsWith(prefix)) activeCache.delete(k);
}
