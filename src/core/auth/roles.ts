import { AuthError } from "../errors";

/**
 * Role names with a meaning to the core, and their privilege order (Sentinel's role model).
 *
 * Level roles rank a user: SYSTEM_ADMIN > ADMIN > USER (role names compare case-insensitively,
 * so a user holding "admin" ranks as ADMIN). A user's level is the highest of its roles;
 * roles the core does not know rank 0.
 *
 * Capability roles grant one thing each and do not rank: LOGIN_AS may impersonate users of
 * its own organisation (POST /loginAs). SYSTEM_ADMIN holds every capability and may act on
 * any organisation of the tenant.
 *
 * CHANGE_PASSWORD is special: it is only ever held by a password-reset token (kind `reset`),
 * never by a user, and only /password accepts it (core/auth/reset-link.ts).
 */
export const ROLE = {
  SYSTEM_ADMIN: "SYSTEM_ADMIN",
  ADMIN: "ADMIN",
  USER: "USER",
  LOGIN_AS: "LOGIN_AS",
  CHANGE_PASSWORD: "CHANGE_PASSWORD",
} as const;

const LEVELS: Record<string, number> = {
  SYSTEM_ADMIN: 100,
  ADMIN: 50,
  USER: 10,
};

const CAPABILITIES = new Set<string>([ROLE.LOGIN_AS]);

const norm = (r: string) => r.toUpperCase();

/** The privilege level of a set of roles: the highest level among them (0 for none). */
export function privilegeLevel(roles: readonly string[]): number {
  let level = 0;
  for (const r of roles) level = Math.max(level, LEVELS[norm(r)] ?? 0);
  return level;
}

export function hasRole(roles: readonly string[], role: string): boolean {
  const want = norm(role);
  return roles.some((r) => norm(r) === want);
}

export function isSystemAdmin(roles: readonly string[]): boolean {
  return hasRole(roles, ROLE.SYSTEM_ADMIN);
}

/** Whether the roles grant a capability: held explicitly, or implied by SYSTEM_ADMIN. */
export function hasCapability(roles: readonly string[], capability: string): boolean {
  return isSystemAdmin(roles) || hasRole(roles, capability);
}

/**
 * True when `target` has more privilege than `caller`: a higher level, or a capability the
 * caller lacks. Impersonation and account administration never reach such a user.
 */
export function exceedsPrivilege(target: readonly string[], caller: readonly string[]): boolean {
  if (privilegeLevel(target) > privilegeLevel(caller)) return true;
  for (const r of target) if (CAPABILITIES.has(norm(r)) && !hasCapability(caller, r)) return true;
  return false;
}

/**
 * Throws `forbidden` unless the roles hold `role` (SYSTEM_ADMIN holds every capability) and
 * the token is not an impersonation: administration is never done on someone else's behalf.
 */
export function requireRole(claims: { roles: readonly string[]; act?: unknown }, role: string): void {
  if (claims.act) throw new AuthError("forbidden", "not allowed with an impersonation token");
  const ok = role === ROLE.SYSTEM_ADMIN ? isSystemAdmin(claims.roles) : hasCapability(claims.roles, role) || privilegeLevel(claims.roles) >= (LEVELS[norm(role)] ?? Infinity);
  if (!ok) throw new AuthError("forbidden", `the ${role} role is required`);
}

/** Throws `forbidden` for a token that acts for someone else or for a client, where only the user may act. */
export function requireOwnUserToken(claims: { sub: string; act?: unknown }): void {
  if (claims.act) throw new AuthError("forbidden", "not allowed with an impersonation token");
  if (claims.sub.startsWith("client:")) throw new AuthError("forbidden", "a user token is required");
}
