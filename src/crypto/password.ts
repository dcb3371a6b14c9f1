import { fromBase64Url, toBase64Url, utf8 } from "./encoding";
import { hmacSha256, timingSafeEqual } from "./hash";
import { randomBytes } from "./random";

/**
 * Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto, the strongest password hash the
 * Workers runtime offers natively. The deployed runtime refuses more than 100,000 iterations
 * per derivation (local workerd does not), so the cap is enforced here: a hash that asked for
 * more would verify under `wrangler dev` and fail every login in production.
 *
 * The password is first keyed with HMAC-SHA256 under a per-deployment pepper (a Worker secret,
 * never in D1): a leaked database alone cannot be attacked offline. See docs/security.md.
 *
 * Stored form (self-describing, versioned):
 *   $pbkdf2-sha256$v=1$i=<iterations>$<salt b64url>$<derived key b64url>
 * v=1 means "peppered"; a later version or a changed iteration count makes `needsRehash` true,
 * and the login path re-hashes with the current parameters.
 */
export const MAX_PBKDF2_ITERATIONS = 100_000;
export const CURRENT_ITERATIONS = MAX_PBKDF2_ITERATIONS;
const CURRENT_VERSION = 1;
const SALT_BYTES = 16;
const KEY_BITS = 256;
const PREFIX = "$pbkdf2-sha256$";

export interface PasswordHashParams {
  iterations: number;
}

export class PasswordHashError extends Error {}

async function derive(password: string, pepper: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new PasswordHashError(`PBKDF2 iterations must be 1..${MAX_PBKDF2_ITERATIONS}, got ${iterations}`);
  }
  const peppered = await hmacSha256(pepper, utf8(password));
  const base = await crypto.subtle.importKey("raw", peppered, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, KEY_BITS);
  return new Uint8Array(bits);
}

/** Hashes a password with the current parameters (or `params`, for tests and migrations). */
export async function hashPassword(password: string, pepper: string, params?: PasswordHashParams): Promise<string> {
  const iterations = params?.iterations ?? CURRENT_ITERATIONS;
  const salt = randomBytes(SALT_BYTES);
  const dk = await derive(password, pepper, salt, iterations);
  return `${PREFIX}v=${CURRENT_VERSION}$i=${iterations}$${toBase64Url(salt)}$${toBase64Url(dk)}`;
}

interface Parsed {
  version: number;
  iterations: number;
  salt: Uint8Array;
  dk: Uint8Array;
}

function parse(stored: string): Parsed | null {
  if (!stored.startsWith(PREFIX)) return null;
  const parts = stored.slice(PREFIX.length).split("$");
  if (parts.length !== 4) return null;
  const [v, i, salt, dk] = parts as [string, string, string, string];
  const vm = /^v=(\d+)$/.exec(v);
  const im = /^i=(\d+)$/.exec(i);
  if (!vm || !im) return null;
  try {
    return { version: Number(vm[1]), iterations: Number(im[1]), salt: fromBase64Url(salt), dk: fromBase64Url(dk) };
  } catch {
    return null;
  }
}

export interface VerifyResult {
  ok: boolean;
  /** True when the hash was made with parameters other than the current ones. */
  needsRehash: boolean;
}

/**
 * Verifies a password against a stored hash in constant time. An unparseable hash, or one
 * whose iteration count the runtime would refuse, never verifies.
 */
export async function verifyPassword(password: string, stored: string, pepper: string): Promise<VerifyResult> {
  const p = parse(stored);
  if (!p || p.version !== CURRENT_VERSION || p.iterations < 1 || p.iterations > MAX_PBKDF2_ITERATIONS) {
    // Spend the same derivation as a real check, so a broken stored hash is not a timing
    // oracle; and never throw: a corrupt row must answer "wrong password", not a 500.
    await derive(password, pepper, new Uint8Array(SALT_BYTES), CURRENT_ITERATIONS);
    return { ok: false, needsRehash: false };
  }
  const dk = await derive(password, pepper, p.salt, p.iterations);
  const ok = timingSafeEqual(dk, p.dk);
  return { ok, needsRehash: ok && p.iterations !== CURRENT_ITERATIONS };
}

let dummyHash: Promise<string> | null = null;

/**
 * Spends one derivation on a fixed hash, so that a login for a user who does not exist takes
 * as long as one for a user who does (no username enumeration by timing).
 */
export async function burnPasswordCheck(password: string, pepper: string): Promise<void> {
  dummyHash ??= hashPassword("dummy-password-for-timing", pepper);
  await verifyPassword(password, await dummyHash, pepper);
}
