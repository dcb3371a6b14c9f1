import type { Scope, Services } from "../context";

/**
 * Records an audit event (logins, failures, resets, revocations, impersonation, admin
 * changes) after the response, so auditing never slows or fails the request itself.
 */
export function recordAudit(
  svc: Services,
  scope: Scope,
  type: string,
  e: { userId?: string | null; actorId?: string | null; detail?: Record<string, unknown> } = {},
): void {
  svc.defer(
    svc.audit
      .record({ tenantId: scope.tenant.id, type, ip: scope.ip, userAgent: scope.userAgent, ...e })
      .catch((err: unknown) => console.error("audit write failed", type, err instanceof Error ? err.message : err)),
  );
}
