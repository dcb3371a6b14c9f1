import type { AuditEvent, AuditLog } from "../../storage/ports";
import type { Scope, Services } from "../context";

/**
 * Records an audit event (logins, failures, resets, revocations, impersonation, admin
 * changes) after the response, so auditing never slows or fails the request itself.
 *
 * Events are batched per isolate: the first event of a batch schedules a flush FLUSH_DELAY_MS
 * later inside that request's waitUntil, and every event recorded meanwhile joins it, so a busy
 * isolate writes one D1 batch per window instead of one row per request (a D1 write costs more
 * than a whole token verification; docs/benchmarks.md). The flush is owned by a request's
 * waitUntil, so the runtime keeps the isolate alive until it is written.
 */
const FLUSH_DELAY_MS = 25;
const MAX_BATCH = 200;

interface Queue {
  events: (AuditEvent & { at: number })[];
  scheduled: boolean;
}
const queues = new WeakMap<AuditLog, Queue>();

export function recordAudit(
  svc: Services,
  scope: Scope,
  type: string,
  e: { userId?: string | null; actorId?: string | null; detail?: Record<string, unknown> } = {},
): void {
  let q = queues.get(svc.audit);
  if (!q) {
    q = { events: [], scheduled: false };
    queues.set(svc.audit, q);
  }
  q.events.push({ tenantId: scope.tenant.id, type, ip: scope.ip, userAgent: scope.userAgent, ...e, at: Date.now() });
  if (q.scheduled && q.events.length < MAX_BATCH) return;
  q.scheduled = true;
  const queue = q;
  const log = svc.audit;
  svc.defer(
    (async () => {
      if (queue.events.length < MAX_BATCH) await new Promise((r) => setTimeout(r, FLUSH_DELAY_MS));
      const batch = queue.events.splice(0, queue.events.length);
      queue.scheduled = false;
      await log.recordMany(batch);
    })().catch((err: unknown) => console.error("audit write failed", err instanceof Error ? err.message : err)),
  );
}
