import type { Scope, Services } from "../context";
import { recordAudit } from "../audit/audit";
import type { AccessClaims } from "./tokens";

/** The acting party of an impersonation token (RFC 8693 §4.1 `act`), or null. */
export function actorOf(claims: Pick<AccessClaims, "act">): { sub: string; username: string } | null {
  const act = claims.act;
  return act && typeof act.sub === "string" ? act : null;
}

/**
 * Audits one request made with an impersonation token, naming both identities. Every
 * verification of an access token calls it (core/sessions/tokens.ts verifyAccessToken), so no
 * surface can forget to; `request` adds the method and path when the surface passes them.
 */
export function recordImpersonatedUse(svc: Services, scope: Scope, claims: AccessClaims, request?: { method: string; path: string }): void {
  const act = actorOf(claims);
  if (!act) return;
  recordAudit(svc, scope, "impersonated_request", {
    userId: claims.sub,
    actorId: act.sub,
    detail: { username: claims.username, actorUsername: act.username, sid: claims.sid, ...(request ?? {}) },
  });
}
