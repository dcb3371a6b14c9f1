import { burnPasswordCheck, hashPassword, verifyPassword } from "../../crypto/password";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";

/**
 * A PIN factor: hashed with the password hasher (peppered PBKDF2, crypto/password.ts), since a
 * PIN is a short knowledge factor whose only protection at rest is the hash and the pepper.
 * Online guessing is bounded by the per-user and per-IP login limits.
 */
export const PIN_PATTERN = /^\d{4,12}$/;

/** Sets (or replaces) a user's PIN: 4 to 12 digits. */
export async function setUserPin(svc: Services, scope: Scope, user: User, pin: string): Promise<void> {
  if (typeof pin !== "string" || !PIN_PATTERN.test(pin)) throw new AuthError("invalid_request", "pin must be 4 to 12 digits");
  const pinHash = await hashPassword(pin, svc.config.passwordPepper);
  await svc.users.update(scope.tenant.id, user.uid, { pinHash });
  recordAudit(svc, scope, "pin_set", { userId: user.uid });
}

/** Checks a PIN, burning the same work when there is no user or no PIN. */
export async function pinMatches(svc: Services, user: User | null, pin: string): Promise<boolean> {
  if (!user || !user.pinHash || pin.length > 64) {
    await burnPasswordCheck(pin.slice(0, 64), svc.config.passwordPepper);
    return false;
  }
  return (await verifyPassword(pin, user.pinHash, svc.config.passwordPepper)).ok;
}
