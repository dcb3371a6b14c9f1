/**
 * Background jobs: the work a route hands to the Queue instead of doing it itself (DESIGN.md
 * "Queues"). A route that must answer the same for existing and missing accounts only
 * validates, rate-limits and enqueues one of these; the consumer (core/jobs/consumer.ts) does
 * the look-up and sends the mail, so nothing in the request's answer or its timing depends on
 * whether the account exists.
 *
 * A job names what to look up, never what was found: its body holds what the caller typed
 * (a username, an address), the request's tenant, community and client, and the link origin
 * the request resolved from the tenant's configuration. It never holds a secret (codes and
 * tokens are minted by the consumer), so a message that ends in the dead-letter queue leaks
 * nothing.
 */

/** The queues, as named in wrangler.toml (the consumer tells them apart by name). */
export const JOB_QUEUE = "edge-auth-jobs";
export const DEAD_LETTER_QUEUE = "edge-auth-jobs-dlq";

/** Version of the message body; a consumer drops bodies of another version. */
export const JOB_VERSION = 1;

/** Where and for whom the request was made: enough to rebuild its Scope in the consumer. */
export interface JobOrigin {
  v: typeof JOB_VERSION;
  tenantId: string;
  communityId: string;
  ip: string;
  userAgent: string | null;
}

/** userpool POST /v1/forgot-password: mail a confirmation code (core/auth/reset.ts). */
export interface ResetCodeJob {
  kind: "reset_code";
  username: string;
}

/** Sentinel POST /passwordReset: mail a reset link (core/auth/reset-link.ts). */
export interface ResetLinkJob {
  kind: "reset_link";
  username: string;
  corpId: string | null;
  /** Origin of the link, from the tenant's bound hostnames (core/tenants/public-origin.ts); null when it has none. */
  linkOrigin: string | null;
}

/** CloudCheckr POST /v1/auth/resetpassword: mail a reset token (core/auth/reset-token.ts). */
export interface ResetTokenJob {
  kind: "reset_token";
  email: string;
}

/** Sentinel POST /usernameRequest: mail the usernames of an address (core/auth/username-reminder.ts). */
export interface UsernameReminderJob {
  kind: "username_reminder";
  email: string;
  corpId: string | null;
}

/** Authn PUT .../serviceprovider/{type}: register the service provider at its vendor (core/service-providers/vendors). */
export interface SpVendorRegistrationJob {
  kind: "sp_vendor_registration";
  spId: string;
}

/**
 * Authn POST .../otp/send (core/mfa/delivered-otp.ts): mint a one-time code for the request id
 * and send it by email or SMS, if the user exists and has that channel verified. The request id
 * is not a secret on its own (the code is minted by the consumer and never in the job).
 */
export interface OtpCodeJob {
  kind: "otp_code";
  username: string;
  channel: "email" | "sms";
  requestId: string;
  /** Epoch ms of the request: the code's life is counted from it, as its answer said. */
  requestedAt: number;
}

export type JobPayload = OtpCodeJob | ResetCodeJob | ResetLinkJob | ResetTokenJob | UsernameReminderJob | SpVendorRegistrationJob;
export type Job = JobOrigin & JobPayload;
export type JobKind = JobPayload["kind"];

export const JOB_KINDS: readonly JobKind[] = ["reset_code", "reset_link", "reset_token", "username_reminder", "sp_vendor_registration", "otp_code"];

/** The producer side, as core sees it (the Queue binding in production and tests). */
export interface JobQueue {
  send(job: Job): Promise<void>;
}
