import { signJwt } from "../../crypto/jwt";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { enqueueJob } from "../jobs/queue";
import { tenantAudience, verifyAccessToken, verifyTokenOfKind, type AccessClaims } from "../sessions/tokens";
import { tenantIssuer } from "../tenants/settings";
import { findOrganisation } from "../tenants/organisation";
import { checkPasswordPolicy, setUserPassword } from "../users/passwords";
import { ROLE } from "./roles";

/**
 * Password reset by emailed link (Sentinel POST /passwordReset, GET and POST /password).
 *
 * The link carries a JWT of kind `reset` (its own `typ`, so it never passes as an access
 * token, RFC 8725 §3.11) that holds only the CHANGE_PASSWORD role and purpose
 * `password_reset`. It is short-lived (tenant `resetLink.ttlSeconds`, default 15 minutes) and
 * single use: setting the password claims its `jti` in the ReplayGuard, after which it is dead;
 * a password change after it was issued also kills it. Setting the password ends every
 * session of the user.
 */
export const RESET_PURPOSE = "password_reset";
const DEFAULT_TTL = 15 * 60;
const ONCE_SCOPE = (tenantId: string) => `reset-link:${tenantId}`;

export function resetTokenTtl(scope: Scope): number {
  return scope.settings.resetLink?.ttlSeconds ?? DEFAULT_TTL;
}

/** Signs a reset token for the user: CHANGE_PASSWORD only, nothing else. */
export async function issueResetToken(svc: Services, scope: Scope, user: User): Promise<{ token: string; expiresIn: number }> {
  const ttl = resetTokenTtl(scope);
  const token = await signJwt(
    svc.keyring,
    { roles: [ROLE.CHANGE_PASSWORD], purpose: RESET_PURPOSE, username: user.username, tenant: scope.tenant.id, community: user.communityId },
    { kind: "reset", issuer: tenantIssuer(scope.tenant.id, scope.settings), audience: tenantAudience(scope.tenant.id), subject: user.uid, ttlSeconds: ttl },
  );
  return { token, expiresIn: ttl };
}

/** The link a reset mail carries: the tenant's page with `{token}` filled in, or `#token=` appended. */
export function resetLinkFor(scope: Scope, defaultPage: string | null, token: string): string | null {
  const page = scope.settings.resetLink?.url ?? defaultPage;
  if (!page) return null;
  const enc = encodeURIComponent(token);
  return page.includes("{token}") ? page.replace("{token}", enc) : `${page}#token=${enc}`;
}

/**
 * Reset link request (Sentinel POST /passwordReset): rate limited per username and per client
 * IP whether or not the user exists, then handed to the job queue; the organisation and user
 * look-ups and the mail happen in the consumer (sendResetLink), so the answer and its timing
 * are the same either way. `linkOrigin` comes from the tenant's bound hostnames
 * (core/tenants/public-origin.ts), never from the request's Host.
 */
export async function requestResetLink(svc: Services, scope: Scope, input: { username: string; corpId?: string | undefined; linkOrigin: string | null }): Promise<void> {
  const name = String(input.username ?? "").trim().toLowerCase();
  await svc.limiter.limit(`${scope.tenant.id}:reset-link:${name}`, scope.settings.mailPerHour, 3600, scope);
  await svc.limiter.limit(`${scope.tenant.id}:reset-link-ip:${scope.ip}`, scope.settings.mailPerHour * 20, 3600, scope);
  await enqueueJob(svc, scope, { kind: "reset_link", username: name.slice(0, 512), corpId: input.corpId ? input.corpId.slice(0, 256) : null, linkOrigin: input.linkOrigin });
}

/**
 * The job: mails a reset link to the user named `username` in the organisation `corpId`
 * (default: the request's), if that user exists, is enabled and has an email. The page is
 * the tenant's `resetLink.url`, else `<linkOrigin>/reset-password`; with neither (a tenant with
 * no bound hostname and no page configured) no link can be built and nothing is sent.
 */
export async function sendResetLink(svc: Services, scope: Scope, input: { username: string; corpId: string | null; linkOrigin: string | null }): Promise<void> {
  const name = input.username;
  if (!name || name.length > 256) return;
  const org = await findOrganisation(svc, scope, input.corpId);
  if (!org) return;
  const user = await svc.users.byUsername(org.id, name);
  if (!user || user.disabled || !user.email) return;
  const defaultPage = input.linkOrigin ? `${input.linkOrigin}/reset-password` : null;
  if (!scope.settings.resetLink?.url && !defaultPage) {
    console.error(`tenant ${scope.tenant.id} has no bound hostname and no resetLink.url: no reset link can be mailed`);
    return;
  }
  const { token, expiresIn } = await issueResetToken(svc, scope, user);
  const link = resetLinkFor(scope, defaultPage, token)!;
  await svc.mailer.send({
    tenantId: scope.tenant.id,
    to: user.email,
    subject: "Reset your password",
    text: `Open this link to choose a new password for ${user.username}:\n\n${link}\n\nThe link works once and expires in ${Math.round(expiresIn / 60)} minutes. If you did not ask for it, ignore this message.`,
  });
  recordAudit(svc, scope, "password_reset_requested", { userId: user.uid, detail: { via: "link" } });
}

export interface ResetGrant {
  user: User;
  jti: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Validates a reset token without using it. A valid token of any other kind (an access
 * token) is `forbidden`: only CHANGE_PASSWORD may change a forgotten password. A bad,
 * expired or used reset token is `invalid_token`.
 */
export async function inspectResetToken(svc: Services, scope: Scope, token: string, request?: { method: string; path: string }): Promise<ResetGrant> {
  let claims: Awaited<ReturnType<typeof verifyTokenOfKind>>;
  try {
    claims = await verifyTokenOfKind(svc, scope, token, "reset");
  } catch (e) {
    // verifyAccessToken audits even this refused use of an impersonation token.
    const other = e instanceof AuthError && e.code === "invalid_token" ? await otherValidToken(svc, scope, token, request) : null;
    if (other) {
      throw new AuthError("forbidden", "this operation requires a CHANGE_PASSWORD token");
    }
    throw e;
  }
  const roles = claims.roles;
  if (claims.purpose !== RESET_PURPOSE || !Array.isArray(roles) || roles.length !== 1 || roles[0] !== ROLE.CHANGE_PASSWORD) {
    throw new AuthError("forbidden", "this operation requires a CHANGE_PASSWORD token");
  }
  const jti = typeof claims.jti === "string" ? claims.jti : "";
  const exp = typeof claims.exp === "number" ? claims.exp : 0;
  const iat = typeof claims.iat === "number" ? claims.iat : 0;
  if (!jti || claims.tenant !== scope.tenant.id) throw new AuthError("invalid_token", "invalid token");
  if (await svc.once.isClaimed(ONCE_SCOPE(scope.tenant.id), jti)) throw new AuthError("invalid_token", "this reset link has already been used");
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.disabled) throw new AuthError("invalid_token", "invalid token");
  // A password set after the link was issued (by another link, a change, an admin) retires it.
  if (user.passwordChangedAt !== null && user.passwordChangedAt > (iat + 1) * 1000) {
    throw new AuthError("invalid_token", "this reset link is no longer valid");
  }
  return { user, jti, expiresAt: exp * 1000 };
}

async function otherValidToken(svc: Services, scope: Scope, token: string, request?: { method: string; path: string }): Promise<AccessClaims | null> {
  try {
    return await verifyAccessToken(svc, scope, token, request);
  } catch {
    return null;
  }
}

/**
 * Sets the new password with a reset token already inspected (`inspectResetToken`, e.g. by the
 * route's guard): the rules are checked before the token is used (a weak password costs
 * nothing), then the token's jti is claimed exactly once, which is what decides among racing
 * or replayed uses, the password set and every session of the user ended.
 */
export async function completeReset(svc: Services, scope: Scope, grant: ResetGrant, newPassword: string): Promise<User> {
  checkPasswordPolicy(scope.settings, newPassword, { username: grant.user.username });
  if (!(await svc.once.claim(ONCE_SCOPE(scope.tenant.id), grant.jti, grant.expiresAt + 60_000))) {
    throw new AuthError("invalid_token", "this reset link has already been used");
  }
  await setUserPassword(svc, scope, grant.user, newPassword, "password_reset_link");
  return grant.user;
}
