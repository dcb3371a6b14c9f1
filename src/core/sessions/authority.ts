import type { HeldCheck, HeldRotateInput, HeldRotateResult, RotateInput, RotateResult, TokenAuthority, TokenStatus } from "../../durable/token-authority";
import { presentationFits, type HeldRecord, type Presentation } from "./refresh-tokens";

/** How long an isolate may trust a "session is active" answer (DESIGN.md: at most 1 s). */
const ACTIVE_CACHE_MS = 1000;
const ACTIVE_CACHE_MAX = 10_000;
const activeCache = new Map<string, number>();
/**
 * Held tokens' records by token digest, for checkHeld's cached "active" answers (whose key
 * needs the record's tenant, subject and family). Immutable, so never stale; bounded.
 */
const heldRecords = new Map<string, HeldRecord>();

/**
 * The core's handle on the TokenAuthority Durable Object: one object per subject
 * (`<tenant>:<sub>`), holding all of that subject's session families.
 */
export class SessionAuthority {
  constructor(private readonly ns: DurableObjectNamespace<TokenAuthority>) {}

  private stub(tenantId: string, sub: string) {
    return this.ns.get(this.ns.idFromName(`${tenantId}:${sub}`));
  }

  /**
   * Opens a family; `authenticatedAt` (epoch ms of the credential check) and `held` (the
   * session's record, for held-shape refresh tokens) see TokenAuthority.openFamily.
   */
  async open(tenantId: string, sub: string, familyId: string, firstHash: string | null, tokenExpiresAt: number, absoluteExpiresAt: number, authenticatedAt?: number, held?: HeldRecord) {
    await this.stub(tenantId, sub).openFamily(familyId, firstHash, tokenExpiresAt, absoluteExpiresAt, Date.now(), authenticatedAt, held);
  }

  /**
   * The subject's authority id as a held refresh token names it (refresh-tokens.ts): 64 hex,
   * derived one-way from `<tenant>:<sub>`, so the token does not name its user.
   */
  authorityId(tenantId: string, sub: string): string {
    return this.ns.idFromName(`${tenantId}:${sub}`).toString();
  }

  /**
   * The object a held token names, or null when the id is not one of this namespace's
   * (idFromString throws on those: a forged or foreign id is an unknown token, never a 5xx).
   */
  private heldStub(authorityId: string) {
    try {
      return this.ns.get(this.ns.idFromString(authorityId));
    } catch {
      return null;
    }
  }

  /** rotate() for a held token (TokenAuthority.rotateHeld): one call answers the record and the rotation. */
  async rotateHeld(authorityId: string, input: HeldRotateInput): Promise<HeldRotateResult> {
    const stub = this.heldStub(authorityId);
    if (!stub) return { status: "unknown" };
    // The presented token's cached "active" answer (checkHeld's) is dropped once the answer
    // names its family (it is not known before the call); other isolates' copies expire within
    // 1 s, exactly as for checkToken's (DESIGN.md's revocation bound).
    // Plain data over RPC: the answer is exactly the method's return type (the RPC wrapper type does not narrow).
    const r = (await stub.rotateHeld(input)) as HeldRotateResult;
    if (r.status !== "unknown" && r.status !== "scope_exceeded") {
      activeCache.delete(tokenKey(r.held.record.tenantId, r.held.record.sub, r.held.record.familyId, input.presentedHash));
      if (r.status === "reuse") forget(r.held.record.tenantId, r.held.record.sub);
    }
    return r;
  }

  /**
   * checkToken() for a held token: the authority's answer and the record. An "active" answer
   * is kept in the isolate for at most one second like checkToken's (same cache, same key, so
   * revocations through this isolate drop it at once); the record is immutable, and is checked
   * against the presenter on every use, cached or not.
   */
  async checkHeld(authorityId: string, tokenHash: string, presentation: Presentation): Promise<HeldCheck> {
    const now = Date.now();
    const cached = heldRecords.get(tokenHash);
    if (cached) {
      const until = activeCache.get(tokenKey(cached.record.tenantId, cached.record.sub, cached.record.familyId, tokenHash));
      if (until !== undefined && until > now) {
        const fits = presentationFits(cached, presentation);
        if (fits === "unknown") return { status: "unknown" };
        if (fits === "scope") return { status: "scope_exceeded" };
        return { status: "active", held: cached };
      }
    }
    const stub = this.heldStub(authorityId);
    if (!stub) return { status: "unknown" };
    const r = (await stub.checkHeld(tokenHash, presentation, now)) as HeldCheck;
    if (r.status === "unknown" || r.status === "scope_exceeded") return r;
    const key = tokenKey(r.held.record.tenantId, r.held.record.sub, r.held.record.familyId, tokenHash);
    if (r.status === "active") {
      if (activeCache.size >= ACTIVE_CACHE_MAX) activeCache.clear();
      if (heldRecords.size >= ACTIVE_CACHE_MAX) heldRecords.clear();
      activeCache.set(key, now + ACTIVE_CACHE_MS);
      heldRecords.set(tokenHash, r.held);
    } else {
      activeCache.delete(key);
    }
    return r;
  }

  /** revokeByToken() for a held token: the record of the family revoked now, or null. */
  async revokeHeld(authorityId: string, tokenHash: string, presentation: Presentation, reason: string): Promise<HeldRecord | null> {
    const stub = this.heldStub(authorityId);
    if (!stub) return null;
    const held: HeldRecord | null = await stub.revokeHeld(tokenHash, presentation, reason, Date.now());
    if (held) forgetFamily(held.record.tenantId, held.record.sub, held.record.familyId);
    return held;
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
