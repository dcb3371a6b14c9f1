import { stubNear } from "../placement/location-hint";
import type { HeldCheck, HeldRotateInput, HeldRotateResult, RotateInput, RotateResult, TokenAuthority, TokenStatus } from "../../durable/token-authority";
import { SharedActiveCache } from "../placement/shared-active-cache";
import { presentationFits, type HeldRecord, type Presentation } from "./refresh-tokens";

/** How long an isolate may trust a "session is active" answer (DESIGN.md: at most 1 s). */
const ACTIVE_CACHE_MS = 1000;
const ACTIVE_CACHE_MAX = 10_000;
/** Per isolate, in front of the data center's shared cache: key -> trusted until (epoch ms). */
const activeCache = new Map<string, number>();
/**
 * Held tokens' records by token digest, for checkHeld's cached "active" answers (whose keys
 * need the record's tenant, subject and family). Immutable, so never stale; bounded.
 */
const heldRecords = new Map<string, HeldRecord>();

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
    return stubNear(this.ns, `${tenantId}:${sub}`, near);
  }

  /**
   * Opens a family; `authenticatedAt` (epoch ms of the credential check) and `held` (the
   * session's record, for held-shape refresh tokens) see TokenAuthority.openFamily.
   * `near`: the login request's location hint (Scope.locationHint).
   */
  async open(tenantId: string, sub: string, familyId: string, firstHash: string | null, tokenExpiresAt: number, absoluteExpiresAt: number, authenticatedAt?: number, near?: DurableObjectLocationHint, held?: HeldRecord) {
    await this.stub(tenantId, sub, near).openFamily(familyId, firstHash, tokenExpiresAt, absoluteExpiresAt, Date.now(), authenticatedAt, held);
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
   * Never a location hint: the object exists wherever its first login placed it.
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
    // The presented token's "active" answers go with the rotation, as rotate()'s do: at once
    // when this isolate already knows the token's record, else as soon as the answer names it.
    const known = heldRecords.get(input.presentedHash);
    const knownKey = known ? tokenKey(known.record.tenantId, known.record.sub, known.record.familyId, input.presentedHash) : null;
    if (knownKey) activeCache.delete(knownKey);
    // Plain data over RPC: the answer is exactly the method's return type (the RPC wrapper type does not narrow).
    const [r] = (await Promise.all([stub.rotateHeld(input), knownKey ? this.shared.drop(knownKey) : undefined])) as [HeldRotateResult, unknown];
    if (r.status === "unknown" || r.status === "scope_exceeded") return r;
    const rec = r.held.record;
    const key = tokenKey(rec.tenantId, rec.sub, rec.familyId, input.presentedHash);
    activeCache.delete(key);
    if (r.status === "rotated" && key !== knownKey) await this.shared.drop(key);
    if (r.status === "reuse") {
      forget(rec.tenantId, rec.sub);
      await this.shared.revoked(subjectKey(rec.tenantId, rec.sub));
    }
    return r;
  }

  /**
   * checkToken() for a held token: the authority's answer and the record. An "active" answer
   * is cached like checkToken's (this isolate, then the data center's shared cache, same keys,
   * so revocations drop it the same way); the shared cache is consulted only when this isolate
   * knows the token's record (records are immutable, and never leave the isolate). The record
   * is checked against the presenter on every use, cached or not.
   */
  async checkHeld(authorityId: string, tokenHash: string, presentation: Presentation): Promise<HeldCheck> {
    const now = Date.now();
    const known = heldRecords.get(tokenHash);
    if (known) {
      const fits = presentationFits(known, presentation);
      const key = tokenKey(known.record.tenantId, known.record.sub, known.record.familyId, tokenHash);
      const until = activeCache.get(key);
      let active = until !== undefined && until > now;
      if (!active) {
        const shared = await this.shared.activeUntil(subjectKey(known.record.tenantId, known.record.sub), key, now);
        if (shared !== null) {
          remember(key, shared);
          active = true;
        }
      }
      if (active) {
        if (fits === "unknown") return { status: "unknown" };
        if (fits === "scope") return { status: "scope_exceeded" };
        return { status: "active", held: known };
      }
    }
    const stub = this.heldStub(authorityId);
    if (!stub) return { status: "unknown" };
    const askedAt = Date.now();
    const r = (await stub.checkHeld(tokenHash, presentation, askedAt)) as HeldCheck;
    if (r.status === "unknown" || r.status === "scope_exceeded") return r;
    const key = tokenKey(r.held.record.tenantId, r.held.record.sub, r.held.record.familyId, tokenHash);
    if (r.status === "active") {
      if (heldRecords.size >= ACTIVE_CACHE_MAX) heldRecords.clear();
      heldRecords.set(tokenHash, r.held);
      remember(key, askedAt + ACTIVE_CACHE_MS);
      await this.shared.active(key, askedAt);
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
    if (held) {
      forgetFamily(held.record.tenantId, held.record.sub, held.record.familyId);
      await this.shared.revoked(subjectKey(held.record.tenantId, held.record.sub));
    }
    return held;
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
