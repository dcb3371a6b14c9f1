import type { Scope, Services } from "../context";
import { JOB_VERSION, type Job, type JobPayload, type JobQueue } from "./types";

/** The Queue binding as a JobQueue (JSON bodies: a job is plain data). */
export function QueueJobs(binding: Queue<Job>): JobQueue {
  return {
    async send(job) {
      await binding.send(job, { contentType: "json" });
    },
  };
}

/**
 * Enqueues a job for the request's scope. Awaited by the route: a queue that refuses the
 * message fails the request the same way for every account, rather than dropping the mail
 * silently.
 */
export async function enqueueJob(svc: Services, scope: Scope, payload: JobPayload): Promise<void> {
  const job: Job = { v: JOB_VERSION, tenantId: scope.tenant.id, communityId: scope.community.id, ip: scope.ip, userAgent: scope.userAgent, ...payload };
  await svc.jobs.send(job);
}
