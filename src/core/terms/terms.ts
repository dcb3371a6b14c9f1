import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import type { TenantSettings } from "../tenants/settings";
import { findOrganisation } from "../tenants/organisation";
import type { AccessClaims } from "../sessions/tokens";
import { requireOwnUserToken } from "../auth/roles";

/**
 * Terms and conditions. A tenant that sets `termsAndConditions.version` requires every user
 * to accept that version; until they do, their tokens carry `tc_pending: true` and
 * `tc_version` (the version to accept). Every acceptance is logged with user, organisation,
 * version, time, client IP and user agent.
 */
export const TC_PENDING_CLAIM = "tc_pending";
export const TC_VERSION_CLAIM = "tc_version";

/** The version the user still has to accept, or null when nothing is pending. */
export function pendingTermsVersion(settings: TenantSettings, user: Pick<User, "tcAcceptedVersion"> | null): string | null {
  const required = settings.termsAndConditions?.version;
  if (!required || !user) return null;
  return user.tcAcceptedVersion === required ? null : required;
}

/** Claims to put on a user's token: the pending flag and version, or nothing. */
export function termsClaims(settings: TenantSettings, user: Pick<User, "tcAcceptedVersion"> | null): Record<string, unknown> {
  const v = pendingTermsVersion(settings, user);
  return v ? { [TC_PENDING_CLAIM]: true, [TC_VERSION_CLAIM]: v } : {};
}

/** Replaces the terms claims among carried claims with the user's current state. */
export function refreshTermsClaims(settings: TenantSettings, carry: Record<string, unknown>, user: User | null): Record<string, unknown> {
  const { [TC_PENDING_CLAIM]: _p, [TC_VERSION_CLAIM]: _v, ...rest } = carry;
  return user ? { ...rest, ...termsClaims(settings, user) } : rest;
}

export interface TermsAcceptanceInput {
  /** The organisation accepted for (id or name); must be the user's own. Default: the user's. */
  corpId?: string | undefined;
  /** The document version; default the tenant's current one. */
  version?: string | undefined;
}

export interface TermsAccepted {
  userId: string;
  communityId: string;
  version: string;
  acceptedAt: number;
  /** True when the accepted version is the tenant's current one (nothing is pending any more). */
  current: boolean;
}

/**
 * Records the user's acceptance of a terms version (the log row) and, when it is the current
 * version (or the tenant has none configured), stores it on the user. A version other than the
 * current one is refused while the tenant has one configured.
 */
export async function acceptTerms(svc: Services, scope: Scope, claims: AccessClaims, input: TermsAcceptanceInput = {}): Promise<TermsAccepted> {
  // Acceptance is the user's own act: not through impersonation, not by an API client.
  requireOwnUserToken(claims);
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.disabled) throw new AuthError("invalid_token", "invalid token");
  if (input.corpId !== undefined && input.corpId !== "") {
    const org = await findOrganisation(svc, scope, input.corpId);
    if (!org || org.id !== user.communityId) throw new AuthError("forbidden", "terms can only be accepted for your own organisation");
  }
  const current = scope.settings.termsAndConditions?.version ?? null;
  const version = input.version ?? current;
  if (!version) throw new AuthError("invalid_request", "version: no terms and conditions version is configured; name one");
  if (version.length > 64) throw new AuthError("invalid_request", "version: too long");
  if (current && version !== current) throw new AuthError("invalid_request", `version: ${version} is not the current version`);
  const acceptedAt = Date.now();
  await svc.termsLog.record({
    tenantId: scope.tenant.id,
    userId: user.uid,
    communityId: user.communityId,
    version,
    acceptedAt,
    ip: scope.ip,
    userAgent: scope.userAgent ? scope.userAgent.slice(0, 512) : null,
  });
  await svc.users.update(scope.tenant.id, user.uid, { tcAcceptedVersion: version, tcAcceptedAt: acceptedAt });
  recordAudit(svc, scope, "terms_accepted", { userId: user.uid, detail: { version, communityId: user.communityId } });
  return { userId: user.uid, communityId: user.communityId, version, acceptedAt, current: current === null || version === current };
}
