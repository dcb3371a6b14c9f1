import type { SsoConnection, User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { issueUserBearer } from "../auth/bearer-session";
import { scopeInCommunity } from "../tenants/organisation";
import { externalSubjectOf, provisionFederatedUser, type FederatedIdentity } from "./provision";

/**
 * The protocol-independent end of an SSO login: whatever verified the IdP's assertion (the
 * OIDC callback now, a SAML ACS later) hands the identity here. The user is created on first
 * login (with the connection's default roles) in the connection's organisation, our bearer
 * token is issued, and the browser goes to the app's redirect URI with the token in the
 * fragment (never in the query, so it stays out of server logs and Referer headers).
 */
export interface SsoReturn {
  /** The app redirect URI chosen at initiation (one of the connection's). */
  appRedirectUri: string;
  /** The app's own opaque state, echoed back. */
  appState?: string | undefined;
}

/** The app redirect with `#key=value&...` (application/x-www-form-urlencoded, as RFC 6749 §4.2.2 does). */
export function redirectWithFragment(uri: string, params: Record<string, string | number | undefined>): string {
  const f = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) f.set(k, String(v));
  return `${uri.split("#")[0]}#${f.toString()}`;
}

/** Where the browser goes when the login failed after the transaction was known. */
export function ssoErrorRedirect(ret: SsoReturn, error: string, description: string): string {
  return redirectWithFragment(ret.appRedirectUri, { error, error_description: description, state: ret.appState });
}

export async function finishSsoLogin(
  svc: Services,
  scope: Scope,
  connection: SsoConnection,
  identity: FederatedIdentity,
  ret: SsoReturn,
): Promise<{ redirect: string; user: User }> {
  const community = await svc.tenants.getCommunity(connection.communityId);
  if (!community || community.tenantId !== scope.tenant.id) throw new AuthError("not_configured", "the connection's organisation no longer exists");
  const orgScope = scopeInCommunity(scope, community);
  // Default roles are given once, at creation; later logins keep what administrators set.
  const known = await svc.users.byExternalSubject(scope.tenant.id, externalSubjectOf(identity.issuer, identity.sub));
  const { user, created } = await provisionFederatedUser(svc, orgScope, { ...identity, ...(known ? {} : { roles: connection.defaultRoles }) }, { communityId: community.id });
  const session = await issueUserBearer(svc, orgScope, user, { extraClaims: { sso: connection.id } });
  recordAudit(svc, scope, "login", { userId: user.uid, detail: { method: "sso", connectionId: connection.id, created } });
  return {
    user,
    redirect: redirectWithFragment(ret.appRedirectUri, { token: session.accessToken, token_type: "Bearer", expires_in: session.expiresIn, state: ret.appState }),
  };
}
