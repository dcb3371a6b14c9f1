import { sha256Hex } from "../../crypto/hash";

/**
 * "This session is active" answers of the TokenAuthority, shared by every isolate of one data
 * center through the Workers Cache API (`caches.default`: per data center, never replicated
 * elsewhere; https://developers.cloudflare.com/workers/runtime-apis/cache/).
 *
 * What it saves: a subject's authority may sit across an ocean from a data center that
 * verifies its tokens. Each isolate already trusts an "active" answer for 1 s (DESIGN.md's
 * revocation bound), but a busy data center runs many isolates, and each one asked on its own
 * miss. With this cache, one crossing per second per session per data center answers them all.
 *
 * Why the 1 s bound still holds:
 * - An entry records `askedAt`, the time just BEFORE the authority was asked. The authority's
 *   answer reflects its state at some instant after that, so an "active" entry can only hide a
 *   revocation made after `askedAt`; it is trusted until `askedAt + TRUST_MS` (< 1 s), and an
 *   isolate that takes it from here keeps it no longer than that same instant (never a fresh
 *   second on top of it). So any revocation is seen everywhere within 1 s.
 * - TRUST_MS is 1 s minus WRITE_MARGIN_MS: the machines of one data center do not share a
 *   clock, and Date.now() in a Worker only advances at I/O; the margin covers both.
 * - Only "active" is ever stored. "Revoked", "rotated", "expired" and "unknown" always come
 *   from the authority, and a missing, stale or unreadable entry means: ask the authority.
 * - A revocation made through this data center writes a subject tombstone (`revoked`): every
 *   entry of that subject asked before it (plus the margin) is ignored from then on, so the
 *   revocation is seen at once here, not after a second. (A per-family delete would not reach
 *   `revokeAll`, whose families the caller does not know, nor a family's per-token entries.)
 *   An entry written after the tombstone by a request that was already in flight is still
 *   bounded by its own `askedAt`.
 * - Any error of the Cache API (or no Cache API at all: unit tests, a Worker on workers.dev,
 *   where cache operations do nothing) is a miss: the caller asks the authority, as before.
 *
 * Keys are URLs under a host that cannot be a route of ours (`.internal` is reserved for
 * private use, so no request can ever be served from, or poison, these entries), and they name
 * the session by a SHA-256 digest, never by the raw session id or token hash.
 */

const ORIGIN = "https://session-state.internal";
/** Clock difference between machines of one data center plus Date.now()'s coarseness. */
const WRITE_MARGIN_MS = 100;
/** How long after `askedAt` a shared "active" answer counts. */
export const SHARED_TRUST_MS = 1000 - WRITE_MARGIN_MS;
/**
 * The Cache API's own expiry (whole seconds): past the trust window plus the margin, so a
 * tombstone outlives every entry it must overrule; entries are judged by `askedAt` anyway.
 */
const MAX_AGE_SECONDS = 2;
const ASKED_AT = "x-asked-at";
const REVOKED_AT = "x-revoked-at";

function defaultCache(): Cache | null {
  try {
    return typeof caches === "undefined" ? null : caches.default;
  } catch {
    return null;
  }
}

async function entryUrl(answerKey: string): Promise<string> {
  return `${ORIGIN}/v1/active/${await sha256Hex(answerKey)}`;
}

async function tombstoneUrl(subjectKey: string): Promise<string> {
  return `${ORIGIN}/v1/revoked-subject/${await sha256Hex(subjectKey)}`;
}

function epochHeader(r: Response | undefined, name: string): number | null {
  if (!r) return null;
  const v = Number(r.headers.get(name));
  return Number.isSafeInteger(v) && v > 0 ? v : null;
}

function record(name: string, at: number): Response {
  return new Response(null, { headers: { "cache-control": `max-age=${MAX_AGE_SECONDS}`, [name]: String(at) } });
}

/**
 * The data center's shared "active" answers. `subjectKey` is `<tenant>:<sub>`; `answerKey`
 * names one answer of that subject (a family, or a family's token) and must include the
 * subject key, so that entries of different subjects can never be confused.
 */
export class SharedActiveCache {
  /** `cache`: the Cache to use (tests); by default `caches.default`, or none where it is missing. */
  constructor(private readonly source: () => Cache | null = defaultCache) {}

  private cache(): Cache | null {
    try {
      return this.source();
    } catch {
      return null;
    }
  }

  /**
   * Until when (epoch ms) a shared "active" answer may be trusted, or null: no entry, too old,
   * overruled by a revocation through this data center, or the cache failed.
   */
  async activeUntil(subjectKey: string, answerKey: string, now: number): Promise<number | null> {
    const c = this.cache();
    if (!c) return null;
    try {
      const [entry, tomb] = await Promise.all([c.match(await entryUrl(answerKey)), c.match(await tombstoneUrl(subjectKey))]);
      const askedAt = epochHeader(entry, ASKED_AT);
      if (askedAt === null) return null;
      const revokedAt = epochHeader(tomb, REVOKED_AT);
      if (revokedAt !== null && askedAt <= revokedAt) return null;
      const until = askedAt + SHARED_TRUST_MS;
      return until > now ? until : null;
    } catch {
      return null;
    }
  }

  /** Shares an "active" answer the authority gave to a request sent at `askedAt`. */
  async active(answerKey: string, askedAt: number): Promise<void> {
    const c = this.cache();
    if (!c) return;
    try {
      await c.put(await entryUrl(answerKey), record(ASKED_AT, askedAt));
    } catch {
      // Not shared: other isolates ask the authority themselves, as without this cache.
    }
  }

  /** Drops one answer (a refresh token that was just rotated away). */
  async drop(answerKey: string): Promise<void> {
    const c = this.cache();
    if (!c) return;
    try {
      await c.delete(await entryUrl(answerKey));
    } catch {
      // Bounded anyway: the entry stops counting SHARED_TRUST_MS after it was asked.
    }
  }

  /**
   * A revocation of (some of) the subject's sessions was made through this data center and has
   * been applied by the authority: every shared answer of the subject asked before now stops
   * counting here at once.
   */
  async revoked(subjectKey: string): Promise<void> {
    const c = this.cache();
    if (!c) return;
    try {
      await c.put(await tombstoneUrl(subjectKey), record(REVOKED_AT, Date.now() + WRITE_MARGIN_MS));
    } catch {
      // Bounded anyway: the 1 s of the entries' own trust window.
    }
  }
}
