import type { LockoutPolicy } from "../../durable/rate-limiter";
import { sha256Hex, timingSafeEqualString } from "../../crypto/hash";
import { randomCode, randomBytes } from "../../crypto/random";
import { toBase64Url } from "../../crypto/encoding";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { enqueueJob } from "../jobs/queue";
import type { OtpCodeJob } from "../jobs/types";
import { sendSms } from "./sms";

/**
 * One-time codes sent by email or SMS (issue 11, "OTP delivery"), a login factor of the Authn
 * API and of the hosted login (amr `email_otp` / `sms`, core/journeys/factors.ts).
 *
 * - Request (`requestDeliveredOtp`, the route's side): validates, rate-limits per username and
 *   per IP, mints a request id and enqueues an `otp_code` job. Nothing depends on the user
 *   existing or having the channel, so the answer `{request_id, expires_in}` and its timing
 *   are the same for everyone (DESIGN.md "Queues").
 * - Delivery (`sendDeliveredOtp`, the queue consumer): looks the user up, and only for a user
 *   with that channel verified mints a 6-digit code bound to the request id and the user, and
 *   stores it as a SHA-256 digest in KV (never the code), then sends it.
 * - Verification (`verifyDeliveredOtp`): attempt-limited per request id (and per IP) through
 *   the RateLimiter; the right code is then claimed once in the ReplayGuard, so of any number of
 *   racing uses exactly one wins. Unknown request ids, other users' ids, expired and wrong
 *   codes all answer `invalid_credentials` after the same reads and the same hashing.
 */
export type OtpChannel = "email" | "sms";

const RECORD_PREFIX = "otpd";
const CODE_DIGITS = 6;
/** 128 random bits, base64url: 22 characters. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const CODE_PATTERN = /^\d{6}$/;

interface OtpRecord {
  uid: string;
  channel: OtpChannel;
  /** sha256(tenant, request id, uid, code). */
  codeDigest: string;
  expiresAt: number;
}

const requestDigest = (tenantId: string, requestId: string) => sha256Hex(`otp-request\u0000${tenantId}\u0000${requestId}`);
const codeDigest = (tenantId: string, requestId: string, uid: string, code: string) => sha256Hex(`otp-code\u0000${tenantId}\u0000${requestId}\u0000${uid}\u0000${code}`);

/** Wrong codes per request id: `maxAttempts` in the code's life, then locked until it expires. */
function attemptPolicy(scope: Scope): LockoutPolicy {
  const life = scope.settings.otpDelivery.ttlSeconds * 1000;
  return { threshold: scope.settings.otpDelivery.maxAttempts, windowMs: life, baseDelayMs: life, maxDelayMs: life };
}

/**
 * POST .../otp/send: the same answer whatever the username and channel. Rate limited per
 * username (the tenant's mailPerHour, shared by both channels) and per IP (ten times that),
 * before anything is enqueued; a refused request is refused alike for every username.
 */
export async function requestDeliveredOtp(svc: Services, scope: Scope, username: string, channel: OtpChannel): Promise<{ requestId: string; expiresIn: number }> {
  const name = username.trim().toLowerCase().slice(0, 256);
  if (!name) throw new AuthError("invalid_request", "username is required");
  const perHour = scope.settings.mailPerHour;
  await svc.limiter.limit(`${scope.tenant.id}:otp-send:${name}`, perHour, 3600, scope);
  await svc.limiter.limit(`${scope.tenant.id}:otp-send-ip:${scope.ip}`, perHour * 10, 3600, scope);
  const requestId = toBase64Url(randomBytes(16));
  await enqueueJob(svc, scope, { kind: "otp_code", username: name, channel, requestId, requestedAt: Date.now() });
  return { requestId, expiresIn: scope.settings.otpDelivery.ttlSeconds };
}

/** Where a code for `user` goes on `channel`, or null when the user has no verified address there. */
function destination(scope: Scope, user: User, channel: OtpChannel): string | null {
  if (channel === "email") return user.email && user.emailVerified ? user.email : null;
  return user.phone && user.phoneVerified && scope.settings.otpDelivery.sms ? user.phone : null;
}

/**
 * The job: mints and sends the code, if the user exists, is enabled and has the channel
 * verified; otherwise does nothing (the request id then matches no code). Throws when storage
 * or delivery fails, so the queue retries; a retry mints a new code for the same request id,
 * which replaces the record of the earlier attempt.
 */
export async function sendDeliveredOtp(svc: Services, scope: Scope, job: Pick<OtpCodeJob, "username" | "channel" | "requestId" | "requestedAt">): Promise<void> {
  const expiresAt = job.requestedAt + scope.settings.otpDelivery.ttlSeconds * 1000;
  const left = expiresAt - Date.now();
  if (left <= 0 || !REQUEST_ID_PATTERN.test(job.requestId)) return;
  const user = await svc.users.byUsername(scope.community.id, job.username.toLowerCase());
  if (!user || user.communityId !== scope.community.id || user.disabled) return;
  const to = destination(scope, user, job.channel);
  if (!to) return;
  const code = randomCode(CODE_DIGITS);
  const rec: OtpRecord = { uid: user.uid, channel: job.channel, codeDigest: await codeDigest(scope.tenant.id, job.requestId, user.uid, code), expiresAt };
  await svc.secrets.put(RECORD_PREFIX, await requestDigest(scope.tenant.id, job.requestId), rec, Math.ceil(left / 1000));
  const minutes = Math.max(1, Math.round(scope.settings.otpDelivery.ttlSeconds / 60));
  const text = `Your sign-in code is ${code}. It expires in ${minutes} minute${minutes === 1 ? "" : "s"}. If you did not ask for it, ignore this message.`;
  if (job.channel === "email") await svc.mailer.send({ tenantId: scope.tenant.id, to, subject: "Your sign-in code", text });
  else await sendSms(scope.settings.otpDelivery.sms!, svc.fetch, { to, text, code });
  recordAudit(svc, scope, "otp_sent", { userId: user.uid, detail: { channel: job.channel } });
}

export interface VerifiedOtp {
  user: User;
  channel: OtpChannel;
  /** The amr value this factor adds (core/journeys/factors.ts: email_otp -> email_otp, sms_otp -> sms). */
  amr: "email_otp" | "sms";
  /** Epoch ms just before the code was read (issueProof's authenticatedAt). */
  authenticatedAt: number;
}

/**
 * Checks and consumes the code of a request id. `username`, when given, must name the user the
 * code was sent to; `forUid` (a step-up) likewise. Every refusal is `invalid_credentials`
 * (after the same KV read and hashing), except a lock (`rate_limited`) and a disabled user
 * with the right code (`user_disabled`, as authenticate answers).
 */
export async function verifyDeliveredOtp(svc: Services, scope: Scope, q: { requestId: string; code: string; username?: string; forUid?: string }): Promise<VerifiedOtp> {
  if (!REQUEST_ID_PATTERN.test(q.requestId)) throw new AuthError("invalid_request", "request_id is not one this service issued");
  if (!CODE_PATTERN.test(q.code)) throw new AuthError("invalid_request", `code must be ${CODE_DIGITS} digits`);
  const authenticatedAt = Date.now();
  const reqDigest = await requestDigest(scope.tenant.id, q.requestId);
  const policy = attemptPolicy(scope);
  // Reserved before the record is read: parallel guesses cannot pass the limit uncounted.
  await svc.limiter.attempt(scope, "otp", reqDigest, policy);
  let settled = false;
  try {
    const rec = await svc.secrets.get<OtpRecord>(RECORD_PREFIX, reqDigest);
    const user = rec ? await svc.users.byUid(scope.tenant.id, rec.uid) : null;
    // The same hashing and comparison whether or not there is a record.
    const expected = await codeDigest(scope.tenant.id, q.requestId, rec?.uid ?? "-", q.code);
    const matches = await timingSafeEqualString(expected, rec?.codeDigest ?? "0".repeat(64));
    const named = q.username === undefined || (user !== null && user.username.toLowerCase() === q.username.trim().toLowerCase());
    const sameUser = q.forUid === undefined || (user !== null && user.uid === q.forUid);
    const ok =
      rec !== null && user !== null && matches && named && sameUser && rec.expiresAt > authenticatedAt && user.communityId === scope.community.id &&
      // Claimed last, and only for a right code: a wrong guess never spends the request.
      (await svc.once.claim(`otp:${scope.tenant.id}`, reqDigest, rec.expiresAt));
    if (!ok || !rec || !user) {
      settled = true;
      await svc.limiter.attemptFailed(scope, "otp", reqDigest, policy);
      recordAudit(svc, scope, "login_failed", { userId: user?.uid ?? null, detail: { methods: [rec?.channel === "sms" ? "sms" : "email_otp"], otpRequest: true } });
      throw new AuthError("invalid_credentials", "invalid credentials");
    }
    settled = true;
    await svc.limiter.attemptSucceeded(scope, "otp", reqDigest);
    svc.defer(svc.secrets.delete(RECORD_PREFIX, reqDigest));
    if (user.disabled) {
      recordAudit(svc, scope, "login_refused_disabled", { userId: user.uid });
      throw new AuthError("user_disabled", "user is disabled");
    }
    return { user, channel: rec.channel, amr: rec.channel === "sms" ? "sms" : "email_otp", authenticatedAt };
  } finally {
    if (!settled) await svc.limiter.release(scope, "otp", reqDigest);
  }
}
