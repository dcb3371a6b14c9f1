import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { checkPasswordPolicy, setUserPassword } from "./passwords";
import type { AccessClaims } from "../sessions/tokens";
import { requireOwnUserToken } from "../auth/roles";

/**
 * Associated accounts: users whose parentUserId names another user (the account holder).
 * Sentinel POST /setAssociatedAccountPassword lets the holder enable one of its associated
 * accounts and replace its default password. Only the holder's own associated accounts can be
 * reached; any other username (unknown, someone else's, the holder itself) answers the same
 * `not_found`.
 */
export async function setAssociatedAccountPassword(
  svc: Services,
  scope: Scope,
  claims: AccessClaims,
  input: { username: string; password: string },
): Promise<User> {
  // Setting a password is the holder's own act: not through impersonation, not by a client.
  requireOwnUserToken(claims);
  const holder = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!holder || holder.disabled) throw new AuthError("invalid_token", "invalid token");
  const name = String(input.username ?? "").trim().toLowerCase();
  const account = name ? (await svc.users.children(scope.tenant.id, holder.id)).find((u) => u.username === name) : undefined;
  if (!account || account.uid === holder.uid) throw new AuthError("not_found", "no associated account with this username");
  checkPasswordPolicy(scope.settings, input.password, { username: account.username });
  if (account.disabled || account.status !== "active") {
    await svc.users.update(scope.tenant.id, account.uid, { disabled: false, status: "active" });
  }
  await setUserPassword(svc, scope, { ...account, disabled: false, status: "active" }, input.password, "associated_account_enabled");
  recordAudit(svc, scope, "associated_account_enabled", { userId: account.uid, actorId: holder.uid, detail: { username: account.username } });
  return { ...account, disabled: false, status: "active", mustChangePassword: false };
}
