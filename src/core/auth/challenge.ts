import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { checkPasswordPolicy, setUserPassword } from "../users/passwords";

/**
 * The NEW_PASSWORD_REQUIRED challenge: a login of a user who must change their password
 * returns an opaque, single-use session of a few minutes instead of tokens; answering it with
 * a new password completes the login.
 */
interface ChallengeRecord {
  tenantId: string;
  uid: string;
  username: string;
  expiresAt: number;
}

const PREFIX = "cs";

export async function startNewPasswordChallenge(svc: Services, scope: Scope, user: User): Promise<{ session: string; expiresIn: number }> {
  const session = randomToken();
  const ttl = scope.settings.challengeTtlSeconds;
  const rec: ChallengeRecord = { tenantId: scope.tenant.id, uid: user.uid, username: user.username, expiresAt: Date.now() + ttl * 1000 };
  await svc.secrets.put(PREFIX, await sha256Hex(session), rec, ttl);
  return { session, expiresIn: ttl };
}

/**
 * Completes the challenge: the session must be live, unused, of this tenant and this username;
 * the new password must satisfy the rules (checked before the session is consumed, so a weak
 * password costs the caller nothing). Returns the user, whose password is now set.
 */
export async function completeNewPasswordChallenge(svc: Services, scope: Scope, session: string, username: string, newPassword: string): Promise<User> {
  const invalid = () => new AuthError("invalid_grant", "invalid or expired session");
  if (typeof session !== "string" || session.length < 16 || session.length > 512) throw invalid();
  const digest = await sha256Hex(session);
  const rec = await svc.secrets.get<ChallengeRecord>(PREFIX, digest);
  if (!rec || rec.tenantId !== scope.tenant.id || rec.username !== username.toLowerCase() || rec.expiresAt <= Date.now()) throw invalid();
  const user = await svc.users.byUid(scope.tenant.id, rec.uid);
  if (!user || user.disabled || !user.mustChangePassword) throw invalid();
  checkPasswordPolicy(scope.settings, newPassword, { username: user.username });
  if (!(await svc.once.claim(`challenge:${scope.tenant.id}`, digest, rec.expiresAt))) throw invalid();
  await setUserPassword(svc, scope, user, newPassword, "new_password_required");
  svc.defer(svc.secrets.delete(PREFIX, digest));
  return { ...user, mustChangePassword: false };
}
