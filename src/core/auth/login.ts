import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { passwordMatches } from "../users/passwords";

/**
 * `authenticatedAt`: epoch ms just before the user's stored credential was read; pass it to
 * issueSession (IssueOptions.authenticatedAt) so a reset racing this login ends its session too.
 */
export type LoginOutcome =
  | { kind: "authenticated"; user: User; authenticatedAt: number }
  | { kind: "new_password_required"; user: User; authenticatedAt: number };

const MAX_CREDENTIAL_LENGTH = 1024;

/**
 * Username + password login in the scope's community. Rate limited per user and per IP with
 * progressive lockout; answers `invalid_credentials` alike for unknown users, users without a
 * password and wrong passwords, after the same amount of hashing work.
 */
export async function passwordLogin(svc: Services, scope: Scope, username: string, password: string): Promise<LoginOutcome> {
  if (!username || !password || username.length > 256 || password.length > MAX_CREDENTIAL_LENGTH) {
    throw new AuthError("invalid_credentials", "incorrect username or password");
  }
  const name = username.toLowerCase();
  // `attempt`, not `guard`: parallel guesses must not slip past the threshold uncounted.
  // The user read does not depend on the limiter's answer, so both go out at once; a refused
  // attempt simply discards the read. authenticatedAt precedes the credential read.
  const authenticatedAt = Date.now();
  const [, user] = await Promise.all([svc.limiter.attempt(scope, "login", name), svc.users.byUsername(scope.community.id, name)]);
  const ok = await passwordMatches(svc, scope, user, password);
  if (!ok || !user) {
    await svc.limiter.attemptFailed(scope, "login", name);
    recordAudit(svc, scope, "login_failed", { userId: user?.uid ?? null, detail: { username: name } });
    throw new AuthError("invalid_credentials", "incorrect username or password");
  }
  if (user.disabled) {
    await svc.limiter.release(scope, "login", name);
    recordAudit(svc, scope, "login_refused_disabled", { userId: user.uid });
    throw new AuthError("user_disabled", "user is disabled");
  }
  // Releasing the lock need not delay the answer: it settles after the response.
  svc.defer(svc.limiter.attemptSucceeded(scope, "login", name));
  if (user.mustChangePassword) {
    recordAudit(svc, scope, "login_challenge", { userId: user.uid, detail: { challenge: "NEW_PASSWORD_REQUIRED" } });
    return { kind: "new_password_required", user, authenticatedAt };
  }
  recordAudit(svc, scope, "login", { userId: user.uid, detail: { method: "password" } });
  return { kind: "authenticated", user, authenticatedAt };
}
