import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { statelessBasis } from "../core/sessions/stateless";
import { presentationFits, type HeldRecord, type Presentation } from "../core/sessions/refresh-tokens";

/**
 * TokenAuthority: the single authority for refresh-token rotation, reuse detection and session
 * revocation. One object per subject (`<tenant>:<sub>`) holds every session family of that
 * subject, so that "end every session of this user" (password change, reset, disable) is one
 * atomic write, and verifying an access token is one call.
 *
 * Every method is synchronous over the object's SQLite storage between its entry and its
 * return: no `await` splits a check from its set, so concurrent requests cannot interleave
 * inside one (DESIGN.md, "Known traps").
 *
 * A family opened with its session record (core/sessions/refresh-tokens.ts, the "held" token
 * shape) keeps the record here until the family is pruned; the *Held methods find the family
 * by the presented token's digest, check the presenter against the record (presentationFits)
 * before anything else, and answer with the record, so a refresh needs no other storage.
 */
export type RotateResult =
  | { status: "rotated" }
  | { status: "retry"; successorSealed: string }
  | { status: "reuse" }
  | { status: "revoked" }
  | { status: "expired" }
  | { status: "unknown" };

/** What a non-rotating refresh learns of a presented token (TokenAuthority.checkToken). */
export type TokenStatus = "active" | "rotated" | "revoked" | "expired" | "unknown";

/** rotateHeld's answer: RotateResult, with the record once the presenter is known to be its own. */
export type HeldRotateResult =
  | { status: "unknown" }
  | { status: "scope_exceeded" }
  | ({ held: HeldRecord } & Exclude<RotateResult, { status: "unknown" }>);

/** checkHeld's answer: TokenStatus, with the record once the presenter is known to be its own. */
export type HeldCheck = { status: "unknown" } | { status: "scope_exceeded" } | { status: Exclude<TokenStatus, "unknown">; held: HeldRecord };

/** A held token's rotation: the family is the presented token's, the record decides who may. */
export interface HeldRotateInput extends Omit<RotateInput, "familyId"> {
  presentation: Presentation;
}

/** The family and token columns every rotation decides on (the token's are null when it is not found). */
type RotationRow = {
  absolute_expires_at: number;
  revoked_at: number | null;
  family_id: string | null;
  status: string | null;
  expires_at: number | null;
  rotated_at: number | null;
  successor_hash: string | null;
  successor_sealed: string | null;
};

export interface RotateInput {
  familyId: string;
  presentedHash: string;
  successorHash: string;
  /** The successor token sealed under a key only the presented token's holder can derive. */
  successorSealed: string;
  successorExpiresAt: number;
  now: number;
  graceMs: number;
}

const PRUNE_INTERVAL_MS = 60_000;
/** Revocation records of stateless sessions whose expiry is unknown are kept this long. */
const MAX_STATELESS_LIFETIME_MS = 400 * 86_400_000;


export class TokenAuthority extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private lastPrune = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS families (
      id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL,
      revoked_at INTEGER, reason TEXT)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS tokens (
      hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, status TEXT NOT NULL, expires_at INTEGER NOT NULL,
      rotated_at INTEGER, successor_hash TEXT, successor_sealed TEXT)`);
    // When every session of the subject last ended (revokeAll): a family whose credential was
    // checked before then is born revoked (see openFamily).
    this.sql.exec("CREATE TABLE IF NOT EXISTS subject (id INTEGER PRIMARY KEY CHECK (id = 1), not_before INTEGER NOT NULL)");
    // The session record of a held-shape family (JSON HeldRecord), immutable, pruned with the family.
    this.sql.exec("CREATE TABLE IF NOT EXISTS records (family_id TEXT PRIMARY KEY, held TEXT NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS revoked_ids (sid TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL, reason TEXT, expires_at INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS families_expiry ON families (absolute_expires_at)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS revoked_ids_expiry ON revoked_ids (expires_at)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS tokens_family ON tokens (family_id)");
  }

  private notBefore(): number {
    return this.sql.exec<{ not_before: number }>("SELECT not_before FROM subject WHERE id = 1").toArray()[0]?.not_before ?? 0;
  }

  /**
   * Opens a session family, with its first refresh token if the grant issues one.
   * `authenticatedAt`, when given, is when the credential was checked: a login that checked
   * the old password just before a reset or change ended every session must not open a live
   * session after it, so such a family is opened already revoked. `held`, when given, is the
   * session's record, kept with the family (the held token shape); written in the same
   * synchronous section as the family, so the first refresh, from anywhere, finds both.
   */
  openFamily(familyId: string, firstHash: string | null, tokenExpiresAt: number, absoluteExpiresAt: number, now: number, authenticatedAt?: number, held?: HeldRecord): void {
    this.prune(now);
    const stale = authenticatedAt !== undefined && authenticatedAt < this.notBefore();
    this.sql.exec(
      "INSERT OR IGNORE INTO families (id, created_at, absolute_expires_at, revoked_at, reason) VALUES (?, ?, ?, ?, ?)",
      familyId,
      now,
      absoluteExpiresAt,
      stale ? now : null,
      stale ? "credential_superseded" : null,
    );
    if (firstHash) {
      this.sql.exec(
        "INSERT OR IGNORE INTO tokens (hash, family_id, status, expires_at) VALUES (?, ?, 'active', ?)",
        firstHash,
        familyId,
        Math.min(tokenExpiresAt, absoluteExpiresAt),
      );
    }
    if (held) this.sql.exec("INSERT OR IGNORE INTO records (family_id, held) VALUES (?, ?)", familyId, JSON.stringify(held));
  }

  /**
   * Rotates a refresh token. A retry of the token just rotated, within the grace window and
   * while its successor is unused, gets the same successor; any other use of a rotated token
   * is reuse and revokes the whole family.
   */
  rotate(input: RotateInput): RotateResult {
    // One read for the family and the presented token (this is the hot path of every refresh).
    const row = this.sql
      .exec<RotationRow>(
        `SELECT f.absolute_expires_at, f.revoked_at, t.family_id, t.status, t.expires_at, t.rotated_at, t.successor_hash, t.successor_sealed
         FROM families f LEFT JOIN tokens t ON t.hash = ? WHERE f.id = ?`,
        input.presentedHash,
        input.familyId,
      )
      .toArray()[0];
    if (!row) return { status: "unknown" };
    return this.decideRotation(row, input);
  }

  /**
   * rotate() for a held token: the family is the one the presented token (by its digest) was
   * issued to, and a presenter the record does not fit changes nothing and learns nothing
   * ("unknown", as for a token never issued). Then exactly rotate()'s decision.
   */
  rotateHeld(input: HeldRotateInput): HeldRotateResult {
    const row = this.sql
      .exec<RotationRow & { held: string }>(
        `SELECT f.absolute_expires_at, f.revoked_at, t.family_id, t.status, t.expires_at, t.rotated_at, t.successor_hash, t.successor_sealed, r.held
         FROM tokens t JOIN families f ON f.id = t.family_id JOIN records r ON r.family_id = t.family_id WHERE t.hash = ?`,
        input.presentedHash,
      )
      .toArray()[0];
    if (!row || row.family_id === null) return { status: "unknown" };
    const held = JSON.parse(row.held) as HeldRecord;
    const fits = presentationFits(held, input.presentation);
    if (fits === "unknown") return { status: "unknown" };
    if (fits === "scope") return { status: "scope_exceeded" };
    const r = this.decideRotation(row, { ...input, familyId: row.family_id });
    return r.status === "unknown" ? r : { ...r, held };
  }

  /** The rotation decision on a family's and a token's row; check and writes in one synchronous section. */
  private decideRotation(row: RotationRow, input: RotateInput): RotateResult {
    const fam = row;
    if (fam.revoked_at !== null) return { status: "revoked" };
    if (fam.absolute_expires_at <= input.now) return { status: "expired" };
    if (row.family_id === null || row.family_id !== input.familyId || row.status === null || row.expires_at === null) return { status: "unknown" };
    const tok = { family_id: row.family_id, status: row.status, expires_at: row.expires_at, rotated_at: row.rotated_at, successor_hash: row.successor_hash, successor_sealed: row.successor_sealed };
    if (tok.status === "active") {
      if (tok.expires_at <= input.now) return { status: "expired" };
      this.sql.exec(
        "UPDATE tokens SET status = 'rotated', rotated_at = ?, successor_hash = ?, successor_sealed = ? WHERE hash = ?",
        input.now,
        input.successorHash,
        input.successorSealed,
        input.presentedHash,
      );
      this.sql.exec(
        "INSERT INTO tokens (hash, family_id, status, expires_at) VALUES (?, ?, 'active', ?)",
        input.successorHash,
        input.familyId,
        Math.min(input.successorExpiresAt, fam.absolute_expires_at),
      );
      return { status: "rotated" };
    }
    const successorActive =
      tok.successor_hash !== null &&
      this.sql.exec("SELECT 1 FROM tokens WHERE hash = ? AND status = 'active'", tok.successor_hash).toArray().length === 1;
    if (tok.rotated_at !== null && input.now - tok.rotated_at <= input.graceMs && successorActive && tok.successor_sealed) {
      return { status: "retry", successorSealed: tok.successor_sealed };
    }
    this.revokeFamily(input.familyId, "refresh_token_reuse", input.now);
    return { status: "reuse" };
  }

  /**
   * The state of one refresh token, read only: a refresh that does not rotate (the userpool
   * document's default) must write nothing, so it asks this instead of rotate(). A token is
   * usable when it is the family's current one ("active"), within its own expiry, and the
   * family is live. A token already rotated (rotation was on when it was used) is "rotated":
   * never usable again, whatever the tenant's setting is now.
   */
  checkToken(familyId: string, tokenHash: string, now: number): TokenStatus {
    const row = this.sql
      .exec<TokenRow>(
        `SELECT f.absolute_expires_at, f.revoked_at, t.family_id, t.status, t.expires_at
         FROM families f LEFT JOIN tokens t ON t.hash = ? WHERE f.id = ?`,
        tokenHash,
        familyId,
      )
      .toArray()[0];
    return tokenStatus(row, familyId, now);
  }

  /** checkToken() for a held token (read only): the record fits the presenter, or "unknown". */
  checkHeld(tokenHash: string, presentation: Presentation, now: number): HeldCheck {
    const found = this.findHeld(tokenHash);
    if (!found) return { status: "unknown" };
    const fits = presentationFits(found.held, presentation);
    if (fits === "unknown") return { status: "unknown" };
    if (fits === "scope") return { status: "scope_exceeded" };
    const status = tokenStatus(found.row, found.row.family_id, now);
    return status === "unknown" ? { status } : { status, held: found.held };
  }

  /**
   * revokeByToken() for a held token (RFC 7009): the record of the family it revoked now, or
   * null (unknown token, a presenter the record does not fit, or already revoked).
   */
  revokeHeld(tokenHash: string, presentation: Presentation, reason: string, now: number): HeldRecord | null {
    const found = this.findHeld(tokenHash);
    if (!found || presentationFits(found.held, presentation) !== "ok") return null;
    return this.revokeFamily(found.row.family_id, reason, now) ? found.held : null;
  }

  /** A held token's family, token state and record, by the token's digest. */
  private findHeld(tokenHash: string): { row: TokenRow & { family_id: string }; held: HeldRecord } | null {
    const row = this.sql
      .exec<TokenRow & { family_id: string; held: string }>(
        `SELECT f.absolute_expires_at, f.revoked_at, t.family_id, t.status, t.expires_at, r.held
         FROM tokens t JOIN families f ON f.id = t.family_id JOIN records r ON r.family_id = t.family_id WHERE t.hash = ?`,
        tokenHash,
      )
      .toArray()[0];
    return row ? { row, held: JSON.parse(row.held) as HeldRecord } : null;
  }

  /**
   * Revokes one family: its refresh tokens and every access token carrying its `sid`. A
   * stateless session is recorded as revoked until `statelessUntil` (its token's expiry; when
   * absent, the longest a token of ours can live), after which the record is pruned.
   */
  revokeFamily(familyId: string, reason: string, now: number, statelessUntil?: number): boolean {
    const basis = statelessBasis(familyId);
    if (basis !== null) {
      if (basis < this.notBefore()) return false;
      this.prune(now);
      const until = statelessUntil ?? now + MAX_STATELESS_LIFETIME_MS;
      return this.sql.exec("INSERT OR IGNORE INTO revoked_ids (sid, revoked_at, reason, expires_at) VALUES (?, ?, ?, ?)", familyId, now, reason, until).rowsWritten > 0;
    }
    const r = this.sql.exec("UPDATE families SET revoked_at = ?, reason = ? WHERE id = ? AND revoked_at IS NULL", now, reason, familyId);
    return r.rowsWritten > 0;
  }

  /**
   * Revokes a family on presentation of one of its refresh tokens (RFC 7009): only a token
   * this family was issued counts, current or rotated; anything else changes nothing.
   */
  revokeByToken(familyId: string, tokenHash: string, reason: string, now: number): boolean {
    const known = this.sql.exec("SELECT 1 FROM tokens WHERE hash = ? AND family_id = ?", tokenHash, familyId).toArray().length === 1;
    return known && this.revokeFamily(familyId, reason, now);
  }

  /** Revokes every family of this subject but `keep` (if given); returns how many were active. */
  revokeAll(reason: string, now: number, keep: string | null = null): number {
    this.sql.exec(
      "INSERT INTO subject (id, not_before) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET not_before = max(not_before, excluded.not_before)",
      now,
    );
    return this.sql.exec(
      "UPDATE families SET revoked_at = ?, reason = ? WHERE revoked_at IS NULL AND id IS NOT ?",
      now,
      reason,
      keep,
    ).rowsWritten;
  }

  /** A stateless session is live unless revoked by id or by the subject's notBefore. */
  private statelessActive(sid: string, basis: number): boolean {
    if (basis < this.notBefore()) return false;
    return this.sql.exec("SELECT 1 FROM revoked_ids WHERE sid = ?", sid).toArray().length === 0;
  }

  /** Whether a family is live (exists, not revoked, within its absolute lifetime). */
  isActive(familyId: string, now: number): boolean {
    const basis = statelessBasis(familyId);
    if (basis !== null) return this.statelessActive(familyId, basis);
    const fam = this.sql
      .exec<{ absolute_expires_at: number; revoked_at: number | null }>(
        "SELECT absolute_expires_at, revoked_at FROM families WHERE id = ?",
        familyId,
      )
      .toArray()[0];
    return !!fam && fam.revoked_at === null && fam.absolute_expires_at > now;
  }

  /**
   * A live family's absolute expiry (epoch ms), or null when it is revoked, expired or unknown.
   * A stateless session's absolute expiry is its credential check plus `statelessMaxAgeMs`.
   */
  activeUntil(familyId: string, now: number, statelessMaxAgeMs = 0): number | null {
    const basis = statelessBasis(familyId);
    if (basis !== null) {
      const until = basis + statelessMaxAgeMs;
      return until > now && this.statelessActive(familyId, basis) ? until : null;
    }
    const fam = this.sql
      .exec<{ absolute_expires_at: number; revoked_at: number | null }>(
        "SELECT absolute_expires_at, revoked_at FROM families WHERE id = ?",
        familyId,
      )
      .toArray()[0];
    return fam && fam.revoked_at === null && fam.absolute_expires_at > now ? fam.absolute_expires_at : null;
  }

  /** Family details, for tests and audits. */
  describe(familyId: string): { revokedAt: number | null; reason: string | null; tokens: number } | null {
    const basis = statelessBasis(familyId);
    if (basis !== null) {
      const r = this.sql.exec<{ revoked_at: number; reason: string | null }>("SELECT revoked_at, reason FROM revoked_ids WHERE sid = ?", familyId).toArray()[0];
      if (r) return { revokedAt: r.revoked_at, reason: r.reason, tokens: 0 };
      const nb = this.notBefore();
      return basis < nb ? { revokedAt: nb, reason: "not_before", tokens: 0 } : { revokedAt: null, reason: null, tokens: 0 };
    }
    const fam = this.sql
      .exec<{ revoked_at: number | null; reason: string | null }>("SELECT revoked_at, reason FROM families WHERE id = ?", familyId)
      .toArray()[0];
    if (!fam) return null;
    const n = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tokens WHERE family_id = ?", familyId).one().n;
    return { revokedAt: fam.revoked_at, reason: fam.reason, tokens: n };
  }

  /** Drops families a day past their absolute lifetime, so storage stays bounded. */
  private prune(now: number): void {
    // A subject that opens many families (a client issuing a token per call) must not pay a
    // scan per open: prune at most once a minute per object, through indexes.
    if (now - this.lastPrune < PRUNE_INTERVAL_MS) return;
    this.lastPrune = now;
    const cutoff = now - 86_400_000;
    this.sql.exec("DELETE FROM tokens WHERE family_id IN (SELECT id FROM families WHERE absolute_expires_at < ?)", cutoff);
    this.sql.exec("DELETE FROM records WHERE family_id IN (SELECT id FROM families WHERE absolute_expires_at < ?)", cutoff);
    this.sql.exec("DELETE FROM families WHERE absolute_expires_at < ?", cutoff);
    this.sql.exec("DELETE FROM revoked_ids WHERE expires_at < ?", now);
  }
}

/** The family and token columns a read-only check decides on (the token's are null when it is not found). */
type TokenRow = {
  absolute_expires_at: number;
  revoked_at: number | null;
  family_id: string | null;
  status: string | null;
  expires_at: number | null;
};

/** checkToken's decision (see there), shared by the held shape. */
function tokenStatus(row: TokenRow | undefined, familyId: string, now: number): TokenStatus {
  if (!row || row.family_id !== familyId || row.status === null || row.expires_at === null) return "unknown";
  if (row.revoked_at !== null) return "revoked";
  if (row.absolute_expires_at <= now || row.expires_at <= now) return "expired";
  return row.status === "active" ? "active" : "rotated";
}
