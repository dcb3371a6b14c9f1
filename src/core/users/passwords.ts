import { burnPasswordCheck, hashPassword, verifyPassword } from "../../crypto/password";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { recordAudit } from "../audit/audit";
import { endAllSessions } from "../sessions/tokens";
import { checkPasswordPolicy } from "./password-policy";

/**
 * Checks a user's password (or burns the same time when there is no user or no password),
 * re-hashing after a success when the stored hash used older parameters.
 */
export async function passwordMatches(svc: Services, scope: Scope, user: User | null, password: string): Promise<boolean> {
  if (!user || !user.passwordHash) {
    await burnPasswordCheck(password, svc.config.passwordPepper);
    return false;
  }
  const stored = user.passwordHash;
  const r = await verifyPassword(password, stored, svc.config.passwordPepper);
  if (r.ok && r.needsRehash) {
    // Compare and set: a password changed or reset while this re-hash ran must stay changed.
    svc.defer(
      hashPassword(password, svc.config.passwordPepper).then((passwordHash) =>
        svc.users.replacePasswordHash(scope.tenant.id, user.uid, stored, passwordHash),
      ),
    );
  }
  return r.ok;
}

/**
 * Sets a new password after checking the tenant's rules: clears "must change password",
 * ends every session of the user (but `keepSessionId`, the caller's own on a change), releases
 * any lockout, and audits.
 */
export async function setUserPassword(
  svc: Services,
  scope: Scope,
  user: User,
  password: string,
  reason: string,
  keepSessionId: string | null = null,
): Promise<void> {
  checkPasswordPolicy(scope.settings, password, { username: user.username });
  const passwordHash = await hashPassword(password, svc.config.passwordPepper);
  await svc.users.update(scope.tenant.id, user.uid, { passwordHash, passwordChangedAt: Date.now(), mustChangePassword: false });
  await endAllSessions(svc, scope, user.uid, reason, keepSessionId);
  await Promise.all([svc.limiter.success(scope, "login", user.username), svc.limiter.success(scope, "reset", user.username)]);
  recordAudit(svc, scope, "password_changed", { userId: user.uid, detail: { reason } });
}

export { checkPasswordPolicy };
