import type { OAuthClient, User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { issueSession, type IssuedSession } from "../sessions/tokens";

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
 * A client whose API user is missing or disabled is refused with `forbidden` (the client is
 * authentic but may not obtain tokens).
 */
export async function issueClientSession(svc: Services, scope: Scope, client: OAuthClient): Promise<ClientSession> {
  if (client.userId !== null) {
    const user = await svc.users.byId(scope.tenant.id, client.userId);
    if (!user || user.disabled) {
      recordAudit(svc, scope, "client_token_refused", { detail: { clientId: client.clientId, reason: "api user missing or disabled" } });
      throw new AuthError("forbidden", "the client's user is disabled");
    }
    const session = await issueSession(
      svc,
      scope,
      { sub: user.uid, communityId: user.communityId, username: user.username, roles: user.roles, user, clientId: client.clientId },
      { refresh: false, idToken: false },
    );
    recordAudit(svc, scope, "client_token", { userId: user.uid, actorId: `client:${client.clientId}` });
    return { session, user, roles: user.roles };
  }
  const session = await issueSession(
    svc,
    scope,
    { sub: `client:${client.clientId}`, communityId: client.communityId, username: client.clientId, roles: client.roles, clientId: client.clientId },
    { refresh: false, idToken: false },
  );
  recordAudit(svc, scope, "client_token", { actorId: `client:${client.clientId}` });
  return { session, user: null, roles: client.roles };
}
