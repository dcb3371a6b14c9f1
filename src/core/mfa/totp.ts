import { base32Decode, base32Encode, hotp, importOtpKey } from "../../crypto/otp";
import { sha256Hex, timingSafeEqualString } from "../../crypto/hash";
import { randomBytes } from "../../crypto/random";
import { open, seal } from "../../crypto/secret-box";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { tenantIssuer } from "../tenants/settings";

/**
 * TOTP (RFC 6238) as an authentication factor: HMAC-SHA1, 6 digits, 30-second steps, one step
 * of clock drift either way (RFC 6238 §5.2). The secret is sealed at rest (secret-box purpose
 * "totp-secret") in users.totp_secret_sealed. A code is accepted once: the OnceGuard claims
 * (user, time step), so a replay, or a racing second use, fails (RFC 6238 §5.2, "MUST NOT
 * accept the second attempt of the same OTP").
 */
export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
const DRIFT_STEPS = 1;
const SECRET_BYTES = 20;
const SEAL_PURPOSE = "totp-secret";
const PENDING_PREFIX = "totp-enrol";
const PENDING_TTL_SECONDS = 600;
const DUMMY_SECRET = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

interface PendingEnrolment {
  sealed: string;
  expiresAt: number;
}

export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
  algorithm: "SHA1";
  digits: number;
  period: number;
  expires_in: number;
}

const stepOf = (ms: number) => Math.floor(ms / 1000 / TOTP_PERIOD);

async function pendingKey(scope: Scope, user: User): Promise<string> {
  return sha256Hex(`${scope.tenant.id}\u0000${user.uid}`);
}

/** Finds the time step `code` belongs to within the drift window, or null. */
async function matchingStep(secretB32: string, code: string, now: number): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const key = await importOtpKey(base32Decode(secretB32));
  const current = stepOf(now);
  let found: number | null = null;
  // Every candidate is computed and compared, so the time taken does not say which one matched.
  for (let step = current - DRIFT_STEPS; step <= current + DRIFT_STEPS; step++) {
    if ((await timingSafeEqualString(await hotp(key, step, TOTP_DIGITS), code)) && found === null) found = step;
  }
  return found;
}

/** Claims (user, step) once; false when the code was already used. */
async function claimStep(svc: Services, scope: Scope, user: User, step: number): Promise<boolean> {
  const expiresAt = (step + DRIFT_STEPS + 2) * TOTP_PERIOD * 1000;
  return svc.once.claim(`totp:${scope.tenant.id}:${user.uid}`, String(step), expiresAt, scope.locationHint);
}

/**
 * Checks a TOTP code for a user with an enrolled secret and consumes it. False for users
 * without TOTP, wrong codes, and codes already used. The caller counts failures.
 */
export async function verifyTotp(svc: Services, scope: Scope, user: User | null, code: string, now = Date.now()): Promise<boolean> {
  if (typeof code !== "string") return false;
  if (!user || !user.totpSecretSealed) {
    // The same HMAC work as a real check, so the time taken does not tell enrolled users apart.
    await matchingStep(DUMMY_SECRET, code, now);
    return false;
  }
  let secret: string;
  try {
    secret = await open(svc.config.keyEncryptionSecret, SEAL_PURPOSE, user.totpSecretSealed);
  } catch {
    console.error("totp secret cannot be opened", scope.tenant.id, user.uid);
    return false;
  }
  const step = await matchingStep(secret, code, now);
  if (step === null) return false;
  return claimStep(svc, scope, user, step);
}

/**
 * Starts TOTP enrolment: a new secret, held sealed in KV until the user proves possession
 * with `confirmTotpEnrolment`. The user's current TOTP (if any) keeps working until then.
 */
export async function beginTotpEnrolment(svc: Services, scope: Scope, user: User): Promise<TotpEnrolment> {
  const secret = base32Encode(randomBytes(SECRET_BYTES));
  const record: PendingEnrolment = {
    sealed: await seal(svc.config.keyEncryptionSecret, SEAL_PURPOSE, secret),
    expiresAt: Date.now() + PENDING_TTL_SECONDS * 1000,
  };
  await svc.secrets.put(PENDING_PREFIX, await pendingKey(scope, user), record, PENDING_TTL_SECONDS);
  const issuer = scope.tenant.name || tenantIssuer(scope.tenant.id, scope.settings);
  const label = encodeURIComponent(`${issuer}:${user.username}`);
  const uri = `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD}`;
  return { secret, otpauth_uri: uri, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD, expires_in: PENDING_TTL_SECONDS };
}

/**
 * Completes enrolment with a code from the new secret: the secret becomes the user's TOTP
 * factor. Wrong codes count against the user's login limit like any credential check.
 */
export async function confirmTotpEnrolment(svc: Services, scope: Scope, user: User, code: string, now = Date.now()): Promise<void> {
  const key = await pendingKey(scope, user);
  const pending = await svc.secrets.get<PendingEnrolment>(PENDING_PREFIX, key);
  if (!pending || pending.expiresAt <= now) throw new AuthError("invalid_request", "no TOTP enrolment is pending; start one first");
  const secret = await open(svc.config.keyEncryptionSecret, SEAL_PURPOSE, pending.sealed);
  // Reserved like a login attempt (core/limits/limiter.ts `attempt`): parallel guesses count.
  await svc.limiter.attempt(scope, "login", user.username);
  let ok = false;
  try {
    const step = typeof code === "string" ? await matchingStep(secret, code, now) : null;
    ok = step !== null && (await claimStep(svc, scope, user, step));
  } finally {
    if (ok) await svc.limiter.release(scope, "login", user.username);
    else await svc.limiter.attemptFailed(scope, "login", user.username);
  }
  if (!ok) throw new AuthError("invalid_credentials", "invalid one-time password");
  await svc.users.update(scope.tenant.id, user.uid, { totpSecretSealed: pending.sealed });
  await svc.secrets.delete(PENDING_PREFIX, key);
  recordAudit(svc, scope, "totp_enrolled", { userId: user.uid });
}

/** The current code for a base32 secret (tests and the CLI's demo). */
export async function totpNow(secretB32: string, now = Date.now()): Promise<string> {
  return hotp(await importOtpKey(base32Decode(secretB32)), stepOf(now), TOTP_DIGITS);
}

/** Seals a base32 secret as users.totp_secret_sealed holds it (the dev seed's demo TOTP user). */
export function sealTotpSecret(svc: Services, secretB32: string): Promise<string> {
  return seal(svc.config.keyEncryptionSecret, SEAL_PURPOSE, secretB32);
}
