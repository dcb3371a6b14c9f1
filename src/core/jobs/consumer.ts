import { z } from "zod";
import type { Scope, Services } from "../context";
import { recordAudit } from "../audit/audit";
import { sendResetCode } from "../auth/reset";
import { sendResetLink } from "../auth/reset-link";
import { sendResetTokens } from "../auth/reset-token";
import { sendUsernameReminder } from "../auth/username-reminder";
import { sendDeliveredOtp } from "../mfa/delivered-otp";
import { registerAtVendor } from "../service-providers/vendors/registration";
import { parseTenantSettings } from "../tenants/settings";
import { JOB_VERSION, type Job } from "./types";

/**
 * The Queue consumer: runs each job of a batch in turn (one at a time, so a batch never
 * competes with requests for the isolate more than one job's worth), acks it when done and
 * retries it with a growing delay when it throws. The runtime moves a message that failed
 * `max_retries` + 1 times (wrangler.toml) to the dead-letter queue, consumed by
 * consumeDeadJobs below. Delivery is at least once: a retried reset job mints a fresh code or
 * token, which supersedes the one a half-finished attempt may have mailed.
 */

const str = (max: number) => z.string().max(max);
const origin = { v: z.literal(JOB_VERSION), tenantId: str(128), communityId: str(128), ip: str(64), userAgent: str(1024).nullable() };
const jobSchema = z.discriminatedUnion("kind", [
  z.object({ ...origin, kind: z.literal("reset_code"), username: str(512) }),
  z.object({ ...origin, kind: z.literal("reset_link"), username: str(512), corpId: str(256).nullable(), linkOrigin: str(2048).nullable() }),
  z.object({ ...origin, kind: z.literal("reset_token"), email: str(512) }),
  z.object({ ...origin, kind: z.literal("username_reminder"), email: str(512), corpId: str(256).nullable() }),
  z.object({ ...origin, kind: z.literal("sp_vendor_registration"), spId: str(64) }),
  z.object({ ...origin, kind: z.literal("otp_code"), username: str(512), channel: z.enum(["email", "sms"]), requestId: str(128), requestedAt: z.number().int().nonnegative() }),
]);

/** A message body as a Job, or null when it is not one (another version, a foreign producer). */
export function parseJob(body: unknown): Job | null {
  const r = jobSchema.safeParse(body);
  return r.success ? (r.data as Job) : null;
}

/** Seconds before attempt `attempts + 1`: base, 2x base, 4x base, ... capped at 5 minutes. */
export function retryDelaySeconds(baseSeconds: number, attempts: number): number {
  return Math.min(300, baseSeconds * 2 ** Math.max(0, attempts - 1));
}

/** The Scope the request had, rebuilt from storage; null when its tenant or community is gone. */
export async function jobScope(svc: Services, job: Job): Promise<Scope | null> {
  const [tenant, community] = await Promise.all([svc.tenants.getTenant(job.tenantId), svc.tenants.getCommunity(job.communityId)]);
  if (!tenant || !community || community.tenantId !== tenant.id) return null;
  return { tenant, settings: parseTenantSettings(tenant.settings, tenant.id), community, ip: job.ip, userAgent: job.userAgent };
}

/** Runs one job to the end; throws when it should be retried (a failed look-up or delivery). */
export async function runJob(svc: Services, job: Job): Promise<void> {
  const scope = await jobScope(svc, job);
  if (!scope) return;
  switch (job.kind) {
    case "reset_code":
      return sendResetCode(svc, scope, job.username);
    case "reset_link":
      return sendResetLink(svc, scope, job);
    case "reset_token":
      return sendResetTokens(svc, scope, job.email);
    case "username_reminder":
      return sendUsernameReminder(svc, scope, job);
    case "sp_vendor_registration":
      return registerAtVendor(svc, scope, job.spId);
    case "otp_code":
      return sendDeliveredOtp(svc, scope, job);
  }
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Consumer of the job queue. */
export async function consumeJobs(batch: MessageBatch<unknown>, svc: Services): Promise<void> {
  for (const msg of batch.messages) {
    const job = parseJob(msg.body);
    if (!job) {
      // Retrying cannot make it valid.
      console.error("dropped a malformed job message", msg.id);
      msg.ack();
      continue;
    }
    try {
      await runJob(svc, job);
      msg.ack();
    } catch (e) {
      // No message body in the log: it names an account.
      console.error(`job ${job.kind} failed (attempt ${msg.attempts}); retrying`, reason(e));
      msg.retry({ delaySeconds: retryDelaySeconds(svc.config.jobRetryBaseSeconds, msg.attempts) });
    }
  }
}

/**
 * Consumer of the dead-letter queue: a job that failed every attempt is recorded (an audit
 * event with its kind, never the body) and acknowledged, so an operator sees that mail was
 * lost without the queue holding it forever.
 */
export async function consumeDeadJobs(batch: MessageBatch<unknown>, svc: Services): Promise<void> {
  for (const msg of batch.messages) {
    const job = parseJob(msg.body);
    console.error(`job ${job?.kind ?? "(malformed)"} of tenant ${job?.tenantId ?? "?"} dead-lettered after its retries`);
    const scope = job ? await jobScope(svc, job).catch(() => null) : null;
    if (job && scope) recordAudit(svc, scope, "job_dead_lettered", { detail: { kind: job.kind, messageId: msg.id } });
    msg.ack();
  }
}
