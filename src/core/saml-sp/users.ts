import type { SamlAssertionIdentity } from "../../protocols/saml/response-reader";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { externalSubjectOf } from "../federation/provision";

/**
 * routingPolicy.usersInIdpStore = false (the document's default): the community's users live
 * in OUR store and the external IdP only authenticates them, so a login links to an existing
 * user and never creates one. The user is, in this order:
 * 1. the one already holding `<IdP entity ID>|<NameID>` as its external subject;
 * 2. the community's user whose username is the NameID (case-insensitive, as usernames are);
 * 3. the community's only user with the NameID (or the asserted email) as email.
 * A disabled user, or none, is null (the ACS answers as for any refused response).
 *
 * usersInIdpStore = true: the IdP is the user store: core/federation/provision.ts creates the
 * user on first login (`<IdP entity ID>|<NameID>`) and refreshes groups and email after, and
 * never takes over a local account holding the same username (acs.ts).
 *
 * Trust: an administrator who registers an external IdP for a community with
 * usersInIdpStore = false lets that IdP sign in any of the community's users by name. That is
 * the configuration's meaning; the IdP's key is pinned and every assertion is verified.
 */
export async function linkedUser(svc: Services, scope: Scope, identity: SamlAssertionIdentity): Promise<User | null> {
  const tenantId = scope.tenant.id;
  const communityId = scope.community.id;
  const usable = (u: User | null | undefined): User | null => (u && !u.disabled && u.tenantId === tenantId && u.communityId === communityId ? u : null);
  const linked = usable(await svc.users.byExternalSubject(tenantId, externalSubjectOf(identity.issuer, identity.nameId)));
  if (linked) return linked;
  const name = identity.nameId.trim().toLowerCase();
  const byName = usable(await svc.users.byUsername(communityId, name));
  if (byName) return byName;
  if (!name.includes("@")) return null;
  const byEmail = (await svc.users.byEmail(tenantId, name)).filter((u) => u.communityId === communityId);
  return byEmail.length === 1 ? usable(byEmail[0]) : null;
}
