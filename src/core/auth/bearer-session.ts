import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { issueSession, reissueAccessToken, type AccessClaims, type IssuedSession } from "../sessions/tokens";
import { pendingTermsVersion, refreshTermsClaims, termsClaims } from "../terms/terms";
import { AuthError } from "../errors";
import { findOrganisation, scopeInCommunity } from "../tenants/organisation";
import { passwordLogin } from "./login";
import { issueResetToken } from "./reset-link";

/**
 * A single bearer JWT as a user's whole session (Sentinel: no refresh token; GET
 * /refreshToken re-issues the access token within the session's maximum age). The token
 * names the user's organisation (`corpId`: the community's name) and, while the tenant's
 * terms are not accepted, says so (`tc_pending`, core/terms/terms.ts).
 */
export async function issueUserBearer(
  svc: Services,
  scope: Scope,
  user: User,
  opts: { amr?: string[]; clientId?: string; extraClaims?: Record<string, unknown>; authenticatedAt?: number } = {},
): Promise<IssuedSession> {
  const community = user.communityId === scope.community.id ? scope.community : await svc.tenants.getCommunity(user.communityId);
  return issueSession(
    svc,
    scope,
    { sub: user.uid, communityId: user.communityId, username: user.username, roles: user.roles, user, ...(opts.clientId ? { clientId: opts.clientId } : {}) },
    {
      refresh: false,
      idToken: false,
      // The token is the whole session: it never outlives the session's maximum age.
      accessTtlSeconds: Math.min(scope.settings.accessTokenTtlSeconds, scope.settings.sessionMaxAgeSeconds),
      ...(opts.amr ? { amr: opts.amr } : {}),
      ...(opts.authenticatedAt !== undefined ? { authenticatedAt: opts.authenticatedAt } : {}),
      extraClaims: { ...(opts.extraClaims ?? {}), corpId: community?.name ?? user.communityId, ...termsClaims(scope.settings, user) },
    },
  );
}

/**
 * A new token with a later expiry for a valid, unrevoked one, never past the session's
 * absolute lifetime; roles and the terms flag reflect the user as it is now.
 */
export async function refreshUserBearer(svc: Services, scope: Scope, claims: AccessClaims): Promise<IssuedSession & { user: User | null }> {
  return reissueAccessToken(svc, scope, claims, { adjustClaims: (carry, user) => refreshTermsClaims(scope.settings, carry, user) });
}

export type BearerLoginOutcome =
  | { kind: "token"; session: IssuedSession; user: User; termsPending: boolean }
  | { kind: "change_password"; token: string; expiresIn: number; user: User };

/**
 * Username + password in an organisation (`corpId`, default the request's) to a bearer token.
 * A user who must change the password gets no session: only a CHANGE_PASSWORD reset token
 * (core/auth/reset-link.ts), good for POST /password and nothing else. An unknown
 * organisation answers like a wrong password.
 */
export async function passwordBearerLogin(svc: Services, scope: Scope, input: { username: string; password: string; corpId?: string | undefined }): Promise<BearerLoginOutcome> {
  const org = await findOrganisation(svc, scope, input.corpId);
  if (!org) throw new AuthError("invalid_credentials", "incorrect username or password");
  const orgScope = scopeInCommunity(scope, org);
  const outcome = await passwordLogin(svc, orgScope, input.username, input.password);
  if (outcome.kind === "new_password_required") {
    const { token, expiresIn } = await issueResetToken(svc, orgScope, outcome.user);
    return { kind: "change_password", token, expiresIn, user: outcome.user };
  }
  const session = await issueUserBearer(svc, orgScope, outcome.user, { amr: ["pwd"], authenticatedAt: outcome.authenticatedAt });
  return { kind: "token", session, user: outcome.user, termsPending: pendingTermsVersion(scope.settings, outcome.user) !== null };
}
