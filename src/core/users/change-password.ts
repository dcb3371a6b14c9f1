import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import type { AccessClaims } from "../sessions/tokens";
import { passwordMatches, setUserPassword } from "./passwords";
import { checkPasswordPolicy } from "./password-policy";

/**
 * Changes the password of the token's user after checking the previous one (rate limited like
 * a login). The caller's own session survives; every other session of the user ends.
 */
export async function changePassword(svc: Services, scope: Scope, claims: AccessClaims, previous: string, proposed: string): Promise<void> {
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.disabled) throw new AuthError("invalid_token", "invalid token");
  await svc.limiter.attempt(scope, "login", user.username);
  if (!(await passwordMatches(svc, scope, user, previous))) {
    await svc.limiter.attemptFailed(scope, "login", user.username);
    throw new AuthError("invalid_credentials", "incorrect previous password");
  }
  // The previous password was proven: that is a successful credential check.
  await svc.limiter.attemptSucceeded(scope, "login", user.username);
  checkPasswordPolicy(scope.settings, proposed, { username: user.username });
  await setUserPassword(svc, scope, user, proposed, "password_change", claims.sid);
}
