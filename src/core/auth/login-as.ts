import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { actorOf, recordImpersonatedUse } from "../sessions/impersonation";
import { issueSession, type AccessClaims, type IssuedSession } from "../sessions/tokens";
import { findOrganisation } from "../tenants/organisation";
import { termsClaims } from "../terms/terms";
import { exceedsPrivilege, hasCapability, isSystemAdmin, ROLE } from "./roles";

export { actorOf, recordImpersonatedUse };

/**
 * Login-as (impersonation, Sentinel POST /loginAs). A caller holding LOGIN_AS gets a token for
 * another user of its own organisation; a SYSTEM_ADMIN for a user of any organisation of the
 * tenant. Never for a user with more privilege than the caller (core/auth/roles.ts), never for
 * oneself, never from a token that is itself an impersonation (no chains).
 *
 * The token names the actor in `act` (RFC 8693 §4.1: `act.sub` is the acting party) and its
 * session lasts at most `impersonationMaxAgeSeconds` (default one hour). Every request made
 * with it is audited with both identities (recordImpersonatedUse).
 */
const DEFAULT_MAX_AGE = 3600;

export interface LoginAsRequest {
  username: string;
  corpId?: string | undefined;
}


export async function loginAs(svc: Services, scope: Scope, caller: AccessClaims, req: LoginAsRequest): Promise<IssuedSession & { user: User }> {
  if (actorOf(caller)) throw new AuthError("forbidden", "an impersonation token cannot start another impersonation");
  if (caller.sub.startsWith("client:")) throw new AuthError("forbidden", "clients cannot impersonate users");
  const actor = await svc.users.byUid(scope.tenant.id, caller.sub);
  if (!actor || actor.disabled) throw new AuthError("invalid_token", "invalid token");
  // Current roles, not the token's: a role taken away takes effect at once.
  if (!hasCapability(actor.roles, ROLE.LOGIN_AS)) throw new AuthError("forbidden", "the LOGIN_AS role is required");

  // One answer for every refusal that depends on the target, so the route cannot be used to
  // learn which usernames exist in which organisation.
  const refused = () => new AuthError("forbidden", "you cannot log in as this user");
  const name = String(req.username ?? "").trim().toLowerCase();
  if (!name || name.length > 256) throw refused();
  const corpId = req.corpId ?? actor.communityId;
  const org = await findOrganisation(svc, scope, corpId);
  if (!org) throw refused();
  if (org.id !== actor.communityId && !isSystemAdmin(actor.roles)) throw refused();
  const target = await svc.users.byUsername(org.id, name);
  if (!target || target.disabled || target.uid === actor.uid || exceedsPrivilege(target.roles, actor.roles)) {
    recordAudit(svc, scope, "impersonation_refused", { userId: target?.uid ?? null, actorId: actor.uid, detail: { username: name, communityId: org.id } });
    throw refused();
  }

  const maxAge = Math.min(scope.settings.impersonationMaxAgeSeconds ?? DEFAULT_MAX_AGE, scope.settings.sessionMaxAgeSeconds);
  const impersonationScope: Scope = { ...scope, settings: { ...scope.settings, sessionMaxAgeSeconds: maxAge } };
  const session = await issueSession(
    svc,
    impersonationScope,
    { sub: target.uid, communityId: target.communityId, username: target.username, roles: target.roles, user: target },
    {
      refresh: false,
      idToken: false,
      act: { sub: actor.uid, username: actor.username },
      accessTtlSeconds: Math.min(scope.settings.accessTokenTtlSeconds, maxAge),
      extraClaims: { corpId: org.name, ...termsClaims(scope.settings, target) },
    },
  );
  recordAudit(svc, scope, "impersonation_started", {
    userId: target.uid,
    actorId: actor.uid,
    detail: { username: target.username, actorUsername: actor.username, sid: session.sessionId, communityId: target.communityId },
  });
  return { ...session, user: target };
}

