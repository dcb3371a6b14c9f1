import type { User, UserPatch } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";

/**
 * Just-in-time provisioning of users who log in through an external IdP (Okta, an OIDC or
 * SAML connection). The federated identity is `<issuer>|<sub>` (OIDC Core §2: `sub` is only
 * unique per issuer), stored as the user's externalSubject, which is unique per tenant.
 *
 * Shared by every surface with a federated login (croit's Okta login, Sentinel's OIDC SSO):
 * the surface verifies the IdP's token, maps its claims, and calls provisionFederatedUser.
 */
export interface FederatedIdentity {
  /** The IdP's issuer identifier (`iss`). */
  issuer: string;
  /** The IdP's subject (`sub`), unique within the issuer. */
  sub: string;
  email?: string | null;
  /** Whether the IdP vouches for the email (OIDC `email_verified`). */
  emailVerified?: boolean;
  /** Preferred username; falls back to the email, then to `sub`. */
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  /**
   * Roles to hold after this login. When given, they replace the user's roles on every login
   * (the IdP is the authority for them); when omitted, roles are left as they are.
   */
  roles?: string[];
  /** The IdP's groups, kept on the user for reference; replaced like roles when given. */
  groups?: string[];
}

export interface ProvisionOptions {
  /** Community a new user joins; default: the request's community. Must be the tenant's. */
  communityId?: string;
}

export interface ProvisionedUser {
  user: User;
  /** True when this login created the user. */
  created: boolean;
}

const MAX_USERNAME = 256;

/** The identity's key in users.externalSubject. */
export function externalSubjectOf(issuer: string, sub: string): string {
  return `${issuer}|${sub}`;
}

function chooseUsername(id: FederatedIdentity): string {
  const candidates = [id.username, id.email, id.sub];
  for (const c of candidates) {
    const v = typeof c === "string" ? c.trim().toLowerCase() : "";
    if (v && v.length <= MAX_USERNAME) return v;
  }
  throw new AuthError("invalid_request", "the identity has no usable username");
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Finds the user of a federated identity, creating it on first login, and refreshes what the
 * IdP is authoritative for (roles, groups, email) on later logins.
 *
 * - A disabled user is refused (`user_disabled`).
 * - A local user who already holds the username is never taken over: linking an IdP identity
 *   to an existing password account by name would let whoever controls the IdP entry log in as
 *   that account. That case answers `conflict`; an administrator links accounts explicitly.
 * - Two concurrent first logins race on the unique (tenant, externalSubject) index: the loser
 *   re-reads and returns the winner's user.
 */
export async function provisionFederatedUser(
  svc: Services,
  scope: Scope,
  identity: FederatedIdentity,
  opts: ProvisionOptions = {},
): Promise<ProvisionedUser> {
  if (!identity.issuer || !identity.sub || identity.issuer.length > 1024 || identity.sub.length > 1024) {
    throw new AuthError("invalid_request", "the identity has no issuer or subject");
  }
  const tenantId = scope.tenant.id;
  const subject = externalSubjectOf(identity.issuer, identity.sub);
  const existing = await svc.users.byExternalSubject(tenantId, subject);
  if (existing) return { user: await refresh(svc, scope, existing, identity), created: false };

  const communityId = opts.communityId ?? scope.community.id;
  if (communityId !== scope.community.id) {
    const community = await svc.tenants.getCommunity(communityId);
    if (!community || community.tenantId !== tenantId) throw new AuthError("not_configured", "the federated users' community is not one of this tenant's");
  }
  const username = chooseUsername(identity);
  const holder = await svc.users.byUsername(communityId, username);
  if (holder) throw new AuthError("conflict", "a local user already holds this username");

  const email = identity.email ? identity.email.trim().toLowerCase() : null;
  let user: User;
  try {
    user = await svc.users.create({
      tenantId,
      communityId,
      username,
      email: email && email.length <= MAX_USERNAME ? email : null,
      emailVerified: identity.emailVerified === true,
      firstName: identity.firstName ?? null,
      lastName: identity.lastName ?? null,
      roles: identity.roles ?? [],
      groups: identity.groups ?? [],
      passwordHash: null,
      passwordChangedAt: null,
      externalSubject: subject,
    });
  } catch (e) {
    // A concurrent first login of the same identity won the insert: use its user.
    const winner = await svc.users.byExternalSubject(tenantId, subject);
    if (winner) return { user: await refresh(svc, scope, winner, identity), created: false };
    if (await svc.users.byUsername(communityId, username)) throw new AuthError("conflict", "a local user already holds this username");
    throw e;
  }
  recordAudit(svc, scope, "federated_user_created", { userId: user.uid, detail: { issuer: identity.issuer, username } });
  return { user, created: true };
}

async function refresh(svc: Services, scope: Scope, user: User, id: FederatedIdentity): Promise<User> {
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  const patch: UserPatch = {};
  if (id.roles && !sameList(id.roles, user.roles)) patch.roles = id.roles;
  if (id.groups && !sameList(id.groups, user.groups)) patch.groups = id.groups;
  const email = id.email ? id.email.trim().toLowerCase() : null;
  if (email && email.length <= MAX_USERNAME && email !== user.email) {
    patch.email = email;
    patch.emailVerified = id.emailVerified === true;
  }
  if (Object.keys(patch).length === 0) return user;
  await svc.users.update(scope.tenant.id, user.uid, patch);
  if (patch.roles) recordAudit(svc, scope, "federated_roles_updated", { userId: user.uid, detail: { roles: patch.roles } });
  return { ...user, ...patch };
}
