import type { LockoutPolicy } from "../../durable/rate-limiter";
import { sha256Hex } from "../../crypto/hash";
import { randomCode } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { enqueueJob } from "../jobs/queue";
import { checkPasswordPolicy, setUserPassword } from "../users/passwords";

/**
 * Forgot-password with an emailed confirmation code: the code is single-use (ReplayGuard),
 * short-lived, stored only as a SHA-256 digest, attempt-limited per user, superseded by a
 * newer code, and never logged. Requests answer identically whether or not the user exists.
 */
interface CodeRecord {
  tenantId: string;
  uid: string;
  expiresAt: number;
  /** Epoch ms; a code issued before the password last changed is void (absent on old records). */
  issuedAt?: number;
}

const CODE_PREFIX = "rc";
const LATEST_PREFIX = "rcl";
/** Unambiguous letters and digits (57): 8 of them is about 2^46. */
const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

function attemptPolicy(scope: Scope): LockoutPolicy {
  const ttl = scope.settings.resetCodeTtlSeconds * 1000;
  return { threshold: scope.settings.resetCodeMaxAttempts, windowMs: ttl, baseDelayMs: ttl, maxDelayMs: ttl };
}

const codeDigest = (tenantId: string, uid: string, code: string) => sha256Hex(`${tenantId}:${uid}:${code}`);
const latestDigest = (tenantId: string, uid: string) => sha256Hex(`${tenantId}:${uid}`);

/** Finds the user a reset request names (username in the scope's community). */
async function findUser(svc: Services, scope: Scope, username: string): Promise<User | null> {
  if (!username || username.length > 256) return null;
  return svc.users.byUsername(scope.community.id, username.toLowerCase());
}

/**
 * Forgot-password (userpool POST /v1/forgot-password): rate limited per username whether or
 * not it exists, then handed to the job queue. Nothing here depends on the user existing, so
 * the answer and its timing are the same either way; sendResetCode runs in the consumer.
 */
export async function requestResetCode(svc: Services, scope: Scope, username: string): Promise<void> {
  const name = String(username ?? "").toLowerCase();
  await svc.limiter.limit(`${scope.tenant.id}:reset-mail:${name}`, scope.settings.mailPerHour, 3600, scope);
  await enqueueJob(svc, scope, { kind: "reset_code", username: name.slice(0, 512) });
}

/**
 * The job: emails a confirmation code to the user, if the user exists, is enabled and has an
 * email. Throws when storage or delivery fails, so the queue retries it.
 */
export async function sendResetCode(svc: Services, scope: Scope, username: string): Promise<void> {
  const user = await findUser(svc, scope, username);
  if (!user || user.disabled || !user.email) return;
  const code = randomCode(8, CODE_ALPHABET);
  const ttl = scope.settings.resetCodeTtlSeconds;
  const digest = await codeDigest(scope.tenant.id, user.uid, code);
  const rec: CodeRecord = { tenantId: scope.tenant.id, uid: user.uid, expiresAt: Date.now() + ttl * 1000, issuedAt: Date.now() };
  await Promise.all([
    svc.secrets.put(CODE_PREFIX, digest, rec, ttl),
    svc.secrets.put(LATEST_PREFIX, await latestDigest(scope.tenant.id, user.uid), { digest }, ttl),
    // A fresh code gets a fresh set of attempts.
    svc.limiter.success(scope, "reset", user.username),
  ]);
  await svc.mailer.send({
    tenantId: scope.tenant.id,
    to: user.email,
    subject: "Your password reset code",
    text: `Your password reset code is ${code}\n\nIt expires in ${Math.round(ttl / 60)} minutes. If you did not ask for it, ignore this message.`,
  });
  recordAudit(svc, scope, "password_reset_requested", { userId: user.uid });
}

/**
 * Sets a new password with a confirmation code. Wrong codes count against the user; past the
 * tenant's limit every code is refused until a new one is requested.
 */
export async function confirmResetCode(svc: Services, scope: Scope, username: string, code: string, newPassword: string): Promise<void> {
  const invalid = () => new AuthError("invalid_grant", "invalid or expired confirmation code");
  const name = String(username ?? "").toLowerCase();
  const policy = attemptPolicy(scope);
  // `attempt`, not `guard`: parallel guesses must not slip past the attempt limit uncounted.
  await svc.limiter.attempt(scope, "reset", name, policy);
  const user = await findUser(svc, scope, name);
  // The same reads whether or not the user exists, so the answer's timing does not tell.
  const uid = user?.uid ?? "no-such-user";
  const digest = await codeDigest(scope.tenant.id, uid, String(code ?? ""));
  const [rec, latest] = await Promise.all([
    code ? svc.secrets.get<CodeRecord>(CODE_PREFIX, digest) : Promise.resolve(null),
    svc.secrets.get<{ digest: string }>(LATEST_PREFIX, await latestDigest(scope.tenant.id, uid)),
  ]);
  // A password change or reset after the code was sent voids it (the user acted another way).
  const superseded = !!rec && rec.issuedAt !== undefined && (user?.passwordChangedAt ?? 0) > rec.issuedAt;
  if (!user || !rec || rec.uid !== user.uid || rec.expiresAt <= Date.now() || latest?.digest !== digest || user.disabled || superseded) {
    await svc.limiter.attemptFailed(scope, "reset", name, policy);
    throw invalid();
  }
  try {
    checkPasswordPolicy(scope.settings, newPassword, { username: user.username });
  } catch (e) {
    // A weak password is not a wrong code: it neither counts nor consumes the code.
    await svc.limiter.release(scope, "reset", name);
    throw e;
  }
  if (!(await svc.once.claim(`reset:${scope.tenant.id}`, digest, rec.expiresAt))) {
    await svc.limiter.release(scope, "reset", name);
    throw invalid();
  }
  await setUserPassword(svc, scope, user, newPassword, "password_reset");
  svc.defer(svc.secrets.delete(CODE_PREFIX, digest));
}
