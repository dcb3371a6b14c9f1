import type { MiddlewareHandler } from "hono";
import { setAnswerHeaders } from "./answer-headers";
import type { Services } from "../core/context";
import { hmacSha256B64Url, timingSafeEqualString } from "../crypto/hash";
import { isD1Bookmark, replication } from "../storage/d1/replica";
import type { AppEnv } from "./types";

/**
 * Read-your-writes across requests, opt-in, through D1 bookmarks
 * (https://developers.cloudflare.com/d1/best-practices/read-replication/, "Start a session
 * from previous context (bookmark)").
 *
 * A route wrapped by `d1Session` answers an `x-d1-bookmark` header: the bookmark its D1 session
 * ended at, signed. A client that sends it back on a later request gets a session opened from
 * it, which any read replica that has caught up with that bookmark may serve, and which sees
 * everything the earlier request wrote. A client that sends nothing (every client written from
 * the API documents) gets a `first-primary` session: the same answer as before this existed.
 *
 * The header is signed because a bookmark is a position the database must reach before a
 * replica answers: a forged far-future one would hold the read until D1 gave up. An absent,
 * malformed, forged or expired header is ignored (the session starts on the primary); it is
 * never an error.
 */
export const BOOKMARK_HEADER = "x-d1-bookmark";

/** Longest header value considered: bookmark (59) + "." + time (<= 8) + "." + MAC (43). */
const MAX_HEADER = 128;
/** `<bookmark>.<issued at, unix seconds base 36>.<HMAC-SHA256 base64url>`. */
const HEADER = /^([0-9a-f-]{59})\.([0-9a-z]{1,8})\.([A-Za-z0-9_-]{43})$/;
/**
 * A bookmark older than this is not used: by then the primary is as good an answer and a
 * replica's lag behind it no longer matters to the client; it also bounds what a database
 * restored from Time Travel (whose positions may sort before old bookmarks) could be asked to wait for.
 */
export const BOOKMARK_MAX_AGE_S = 600;

const label = (bookmark: string, issuedAt: string) => `x-d1-bookmark\u0000${bookmark}\u0000${issuedAt}`;

/** The signed header value for `bookmark`, issued now. */
export async function signBookmark(secret: string, bookmark: string, nowMs = Date.now()): Promise<string> {
  const issuedAt = Math.floor(nowMs / 1000).toString(36);
  return `${bookmark}.${issuedAt}.${await hmacSha256B64Url(secret, label(bookmark, issuedAt))}`;
}

/** The bookmark in a header value we signed less than BOOKMARK_MAX_AGE_S ago, else null. */
export async function verifiedBookmark(secret: string, value: string | undefined | null, nowMs = Date.now()): Promise<string | null> {
  if (!value || value.length > MAX_HEADER) return null;
  const m = HEADER.exec(value);
  if (!m) return null;
  const [, bookmark, issuedAt, mac] = m as unknown as [string, string, string, string];
  if (!isD1Bookmark(bookmark)) return null;
  const age = nowMs / 1000 - parseInt(issuedAt, 36);
  // A minute of clock skew between isolates in the future; never older than the maximum age.
  if (!(age > -60 && age <= BOOKMARK_MAX_AGE_S)) return null;
  const expected = await hmacSha256B64Url(secret, label(bookmark, issuedAt));
  return (await timingSafeEqualString(expected, mac)) ? bookmark : null;
}

/**
 * Route middleware: the stores that `build` returns read and write through one D1 session for
 * this request, and the answer carries the session's bookmark.
 *
 * - `read` routes (pure reads) open the session from the client's bookmark when it sent a valid
 *   one. Consistency: the request sees every write its client made before receiving that
 *   bookmark; a client that sends none reads the primary, as before.
 * - `write` routes ignore the client's bookmark and run every statement on the primary, as a
 *   plain binding query: a write that depends on something the route reads first never
 *   decides from a replica.
 */
export function d1Session(mode: "read" | "write", build: (db: D1Database, svc: Services) => Partial<Services>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const svc = c.get("services");
    const secret = svc.config.keyEncryptionSecret;
    const bookmark = mode === "read" ? await verifiedBookmark(secret, c.req.header(BOOKMARK_HEADER)) : null;
    const session = mode === "read" ? replication(c.env.DB).session(bookmark) : replication(c.env.DB).writeSession();
    c.set("services", { ...svc, ...build(session.db, svc) });
    await next();
    const reached = session.bookmark();
    if (reached !== null && isD1Bookmark(reached)) setAnswerHeaders(c, [[BOOKMARK_HEADER, await signBookmark(secret, reached)]]);
  };
}
