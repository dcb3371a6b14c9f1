import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { verifyDeliveredOtp } from "../mfa/delivered-otp";
import { useRecoveryCode } from "../mfa/recovery-codes";
import type { AuthenticatedUser } from "./authenticate";
import { verifyStepUp, type StepUpClaims } from "./pending-login";
import { accumulateAmr, verifyProof } from "./proofs";
import type { User } from "../../storage/ports";

/**
 * Authn logins with a delivered one-time code or a TOTP recovery code (issue 11). Each answers
 * what authenticateWithFactors answers (the user, the accumulated amr, the step-up it started
 * from), so the surface ends them exactly like authenticate: the policy, then the proof or
 * need_mfa (api/authn/authenticate.ts `finishAuthnLogin`).
 */

/** The amr a recovery code adds: `otp` (it stands in for TOTP) and the marker `recovery`. */
export const RECOVERY_AMR = ["otp", "recovery"] as const;

/** The step-up token is checked first, so a bad one neither spends a code nor counts. */
async function stepUpFrom(svc: Services, scope: Scope, jwt: string | undefined): Promise<StepUpClaims | null> {
  return jwt ? verifyStepUp(svc, scope, jwt) : null;
}

/** POST .../otp/verify: a code sent by otp/send, for the request id it was sent under. */
export async function loginWithDeliveredOtp(
  svc: Services,
  scope: Scope,
  q: { requestId: string; code: string; username?: string; priorProof?: string },
): Promise<AuthenticatedUser> {
  const prior = await stepUpFrom(svc, scope, q.priorProof);
  const v = await verifyDeliveredOtp(svc, scope, {
    requestId: q.requestId,
    code: q.code,
    ...(q.username !== undefined ? { username: q.username } : {}),
    ...(prior ? { forUid: prior.sub } : {}),
  });
  const methods = [v.amr];
  const amr = accumulateAmr(prior?.amr ?? [], methods);
  recordAudit(svc, scope, "login", { userId: v.user.uid, detail: { methods, amr, stepUp: prior !== null } });
  return { user: v.user, amr, methods, authenticatedAt: v.authenticatedAt, prior };
}

/**
 * POST .../authenticate_with_recovery_code: a username and one of the user's recovery codes.
 * Counted on the user's "login" counter with every other credential check, so recovery codes
 * buy an attacker no extra guesses; unknown users and users without codes answer the same.
 */
export async function loginWithRecoveryCode(svc: Services, scope: Scope, q: { username: string; code: string; priorProof?: string }): Promise<AuthenticatedUser> {
  const name = q.username.trim().toLowerCase();
  if (!name) throw new AuthError("invalid_request", "username is required");
  if (!q.code.trim()) throw new AuthError("invalid_request", "code is required");
  const prior = await stepUpFrom(svc, scope, q.priorProof);
  const authenticatedAt = Date.now();
  const lookup = svc.users.byUsername(scope.community.id, name);
  lookup.catch(() => undefined);
  await svc.limiter.attempt(scope, "login", name);
  let settled = false;
  try {
    const user = await lookup;
    if (prior && (!user || prior.sub !== user.uid)) throw new AuthError("invalid_token", "the proof of authentication is for another user");
    const ok = await useRecoveryCode(svc, scope, user, q.code);
    if (!user || !ok) {
      settled = true;
      await svc.limiter.attemptFailed(scope, "login", name);
      recordAudit(svc, scope, "login_failed", { userId: user?.uid ?? null, detail: { username: name, methods: [...RECOVERY_AMR] } });
      throw new AuthError("invalid_credentials", "invalid credentials");
    }
    if (user.disabled) {
      recordAudit(svc, scope, "login_refused_disabled", { userId: user.uid });
      throw new AuthError("user_disabled", "user is disabled");
    }
    settled = true;
    svc.defer(svc.limiter.attemptSucceeded(scope, "login", name));
    const methods = [...RECOVERY_AMR];
    const amr = accumulateAmr(prior?.amr ?? [], methods);
    recordAudit(svc, scope, "login", { userId: user.uid, detail: { methods, amr, stepUp: prior !== null } });
    return { user, amr, methods, authenticatedAt, prior };
  } finally {
    if (!settled) svc.defer(svc.limiter.release(scope, "login", name));
  }
}

/** The user a valid proof of this community names (reading the count of recovery codes needs no more). */
export async function proofUser(svc: Services, scope: Scope, proof: string): Promise<User> {
  const claims = await verifyProof(svc, scope, proof);
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.communityId !== scope.community.id) throw new AuthError("invalid_token", "invalid proof of authentication");
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  return user;
}
