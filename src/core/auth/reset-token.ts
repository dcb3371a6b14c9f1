import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { FieldError } from "../field-error";
import { recordAudit } from "../audit/audit";
import { enqueueJob } from "../jobs/queue";
import { checkPasswordPolicy, setUserPassword } from "../users/passwords";

/**
 * Password reset with an emailed token, looked up by email address (CloudCheckr
 * `POST/PUT /v1/auth/resetpassword`). The token is an opaque 256-bit secret; KV holds only its
 * SHA-256 with the user it was issued to; the ReplayGuard decides single use; it lives
 * `resetCodeTtlSeconds` (1 h by default); a later password change (by any means) kills every
 * token issued before it. Requests answer identically whether or not the address exists.
 */
interface ResetTokenRecord {
  tenantId: string;
  uid: string;
  username: string;
  issuedAt: number;
  expiresAt: number;
}

export const RESET_TOKEN_PREFIX = "prt";
/**
 * The record outlives the token by a day so that a late attempt is told "expired" rather
 * than "unknown": a clearer message, and no secret is revealed (the caller holds the token).
 */
const EXPIRED_GRACE_SECONDS = 86_400;
/** At most this many users are mailed for one address (one token per user). */
const MAX_RECIPIENTS = 10;
const EMAIL_SHAPE = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export type ResetTokenFailure = "invalid_token" | "token_expired" | "token_used" | "token_user_mismatch";

/** Why a reset token was refused; a surface may report the reason (each is its own 4xx). */
export class ResetTokenError extends AuthError {
  readonly reason: ResetTokenFailure;

  constructor(reason: ResetTokenFailure, message: string) {
    super("invalid_grant", message);
    this.name = "ResetTokenError";
    this.reason = reason;
  }
}

/**
 * The reset mail: names the user and how to use the token (the CloudCheckr document's
 * PUT /v1/auth/resetpassword). It lives in core because the queue consumer, not the route,
 * sends it.
 */
export function resetTokenMail(m: { user: User; token: string; ttlSeconds: number }): { subject: string; text: string } {
  return {
    subject: "Your password reset token",
    text: [
      `A password reset was requested for the user "${m.user.username}".`,
      "",
      `Reset token: ${m.token}`,
      "",
      `It can be used once, within ${Math.round(m.ttlSeconds / 60)} minutes: send it with your username, a new password`,
      "and its confirmation to PUT /v1/auth/resetpassword. If you did not ask for this, ignore this message.",
    ].join("\n"),
  };
}

const onceScope = (tenantId: string) => `reset-token:${tenantId}`;

/** Issues a reset token for `user` and stores its digest. `now` is for tests of expiry. */
export async function mintResetToken(svc: Services, scope: Scope, user: User, opts: { now?: number } = {}): Promise<{ token: string; expiresAt: number }> {
  const now = opts.now ?? Date.now();
  const token = randomToken();
  const expiresAt = now + scope.settings.resetCodeTtlSeconds * 1000;
  const rec: ResetTokenRecord = { tenantId: scope.tenant.id, uid: user.uid, username: user.username, issuedAt: now, expiresAt };
  const keepSeconds = (expiresAt - Date.now()) / 1000 + EXPIRED_GRACE_SECONDS;
  await svc.secrets.put(RESET_TOKEN_PREFIX, await sha256Hex(token), rec, keepSeconds);
  return { token, expiresAt };
}

/**
 * The users an address reaches. Emails are not unique across a tenant's communities: users of
 * the request's community come first, and only when it has none are the tenant's other
 * communities searched. Disabled users are skipped; at most MAX_RECIPIENTS are returned.
 */
export async function findResetRecipients(svc: Services, scope: Scope, email: string): Promise<User[]> {
  const all = (await svc.users.byEmail(scope.tenant.id, email)).filter((u) => !u.disabled && u.email);
  const own = all.filter((u) => u.communityId === scope.community.id);
  return (own.length ? own : all).slice(0, MAX_RECIPIENTS);
}

/**
 * Reset by email (CloudCheckr POST /v1/auth/resetpassword): the address's shape is checked,
 * the request rate limited per address and per client IP whether or not the address exists,
 * then handed to the job queue; the look-up and the mail happen in the consumer
 * (sendResetTokens), so the answer and its timing are the same either way.
 */
export async function requestPasswordResetByEmail(svc: Services, scope: Scope, emailAddress: string): Promise<void> {
  const email = String(emailAddress ?? "").trim().toLowerCase();
  if (!EMAIL_SHAPE.test(email)) throw new FieldError("invalid_request", "email_address", "email_address must be an email address");
  await svc.limiter.limit(`${scope.tenant.id}:reset-mail-email:${email}`, scope.settings.mailPerHour, 3600, scope);
  await svc.limiter.limit(`${scope.tenant.id}:reset-mail-ip:${scope.ip}`, scope.settings.mailPerHour * 10, 3600, scope);
  await enqueueJob(svc, scope, { kind: "reset_token", email });
}

/** The job: mails a reset token to every user the address reaches (see findResetRecipients). */
export async function sendResetTokens(svc: Services, scope: Scope, email: string): Promise<void> {
  if (!EMAIL_SHAPE.test(email)) return;
  for (const user of await findResetRecipients(svc, scope, email)) {
    const { token } = await mintResetToken(svc, scope, user);
    const mail = resetTokenMail({ user, token, ttlSeconds: scope.settings.resetCodeTtlSeconds });
    await svc.mailer.send({ tenantId: scope.tenant.id, to: user.email!, subject: mail.subject, text: mail.text });
    recordAudit(svc, scope, "password_reset_requested", { userId: user.uid, detail: { via: "email_token" } });
  }
}

export interface TokenResetInput {
  token: string;
  username: string;
  password: string;
  passwordConfirmation: string;
}

/**
 * Sets a new password with an emailed token. Checks, in order: the confirmation matches, the
 * token is known, unused, unexpired and issued to `username`, and the password meets the
 * tenant's rules; only then is the token consumed (ReplayGuard: exactly one of any number of
 * racing requests wins), so a failed attempt never uses it up. Success ends every session of
 * the user (setUserPassword). Wrong tokens count against the username and the client IP.
 */
export async function resetPasswordWithToken(svc: Services, scope: Scope, input: TokenResetInput): Promise<User> {
  if (input.password !== input.passwordConfirmation) {
    throw new FieldError("invalid_request", "password_confirmation", "password confirmation does not match");
  }
  const name = String(input.username ?? "").toLowerCase();
  await svc.limiter.guard(scope, "reset-token", name);
  const fail = async (reason: ResetTokenFailure, message: string): Promise<never> => {
    await svc.limiter.failure(scope, "reset-token", name);
    throw new ResetTokenError(reason, message);
  };
  const token = String(input.token ?? "");
  if (token.length < 16 || token.length > 512) return fail("invalid_token", "invalid reset token");
  const digest = await sha256Hex(token);
  const rec = await svc.secrets.get<ResetTokenRecord>(RESET_TOKEN_PREFIX, digest);
  if (!rec || rec.tenantId !== scope.tenant.id) return fail("invalid_token", "invalid reset token");
  if (await svc.once.isClaimed(onceScope(scope.tenant.id), digest)) return fail("token_used", "this reset token has already been used");
  const now = Date.now();
  if (rec.expiresAt <= now) return fail("token_expired", "this reset token has expired; request a new one");
  const user = await svc.users.byUid(scope.tenant.id, rec.uid);
  if (!user || user.disabled) return fail("invalid_token", "invalid reset token");
  if (user.passwordChangedAt !== null && user.passwordChangedAt > rec.issuedAt) {
    return fail("token_expired", "the password has been changed since this reset token was issued; request a new one");
  }
  if (user.username !== name) return fail("token_user_mismatch", "this reset token was not issued to that username");
  checkPasswordPolicy(scope.settings, input.password, { username: user.username });
  if (!(await svc.once.claim(onceScope(scope.tenant.id), digest, rec.expiresAt))) {
    throw new ResetTokenError("token_used", "this reset token has already been used");
  }
  await setUserPassword(svc, scope, user, input.password, "password_reset");
  return user;
}
