import { AuthError } from "../errors";
import type { TenantSettings } from "../tenants/settings";
import { COMMON_PASSWORDS } from "./common-passwords";

/**
 * Password rules (NIST SP 800-63B §5.1.1.2): a length range (8 to 128 by default), any
 * characters, no composition rules, and a blocklist of common passwords plus the tenant's own.
 * Length is counted in Unicode code points, as the NIST text asks.
 */
export function checkPasswordPolicy(settings: TenantSettings, password: unknown, ctx: { username?: string } = {}): asserts password is string {
  if (typeof password !== "string") throw new AuthError("password_policy", "password must be a string");
  const rules = settings.password;
  const length = [...password].length;
  if (length < rules.minLength) throw new AuthError("password_policy", `password must be at least ${rules.minLength} characters`);
  if (length > rules.maxLength) throw new AuthError("password_policy", `password must be at most ${rules.maxLength} characters`);
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower) || rules.blocklist.some((b) => b.toLowerCase() === lower)) {
    throw new AuthError("password_policy", "password is too common; choose another");
  }
  if (ctx.username && lower === ctx.username.toLowerCase()) {
    throw new AuthError("password_policy", "password must not be the username");
  }
}
