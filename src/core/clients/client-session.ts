import type { OAuthClient, User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { issueSession, type IssuedSession } from "../sessions/tokens";
import { recentUserById } from "../users/recent-users";

/** A client_credentials session and who it acts as. */
export interface ClientSession {
  session: IssuedSession;
  /** The client's API user, when the client has one; null for the client's own identity. */
  user: User | null;
  roles: string[];
}

/**
 * Issues the access token of the client credentials grant (RFC 6749 §4.4.3: no refresh
 * token) for a client already authenticated by authenticateClient. A client with an API user
 * (userId) acts as that user: subject, username and roles are the user's. Otherwise the
 * subject is `client:<client_id>` with the client's roles.
 *
 * The session is stateless (core/sessions/stateless.ts): issuing writes nothing to the
 * TokenAuthority, logout records the id, and ending the subject's sessions ends it.
 *
 * A client whose API user is missing or disabled is refused with `forbidden` (the client is
 * authentic but may not obtain tokens).
 */
export async function issueClientSession(svc: Services, scope: Scope, client: OAuthClient): Promise<ClientSession> {
  if (client.userId !== null) {
    // A second-old row is enough to see a disabled API user (see recent-users.ts).
    const { user, readAt } = await recentUserById(svc.users, scope.tenant.id, client.userId);
    if (!user || user.disabled) {
      recordAudit(svc, scope, "client_token_refused", { detail: { clientId: client.clientId, reason: "api user missing or disabled" } });
      throw new AuthError("forbidden", "the client's user is disabled");
    }
    const session = await issueSession(
      svc,
      scope,
      { sub: user.uid, communityId: user.communityId, username: user.username, roles: user.roles, user, clientId: client.clientId },
      // readAt as the credential time: a user disabled after the (cached) read gets a token
      // that is born revoked, because disabling sets the subject's notBefore.
      { refresh: false, idToken: false, stateless: true, authenticatedAt: readAt },
    );
    recordAudit(svc, scope, "client_token", { userId: user.uid, actorId: `client:${client.clientId}` });
    return { session, user, roles: user.roles };
  }
  const session = await issueSession(
    svc,
    scope,
    { sub: `client:${client.clientId}`, communityId: client.communityId, username: client.clientId, roles: client.roles, clientId: client.clientId },
    { refresh: false, idToken: false, stateless: true },
  );
  recordAudit(svc, scope, "client_token", { actorId: `client:${client.clientId}` });
  return { session, user: null, roles: client.roles };
}
