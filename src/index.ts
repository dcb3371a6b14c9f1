import { app } from "./app";
import type { Env } from "./env";
import { consumeDeadJobs, consumeJobs } from "./core/jobs/consumer";
import { DEAD_LETTER_QUEUE } from "./core/jobs/types";
import { servicesFor } from "./http/services";
import { forgetTenantCache } from "./http/tenant";
import { recheckPendingHostnames } from "./core/tenants/custom-hostnames";

export { TokenAuthority } from "./durable/token-authority";
export { RateLimiter } from "./durable/rate-limiter";
export { ReplayGuard } from "./durable/replay-guard";

/**
 * The Worker: Hono answers requests; the queue handler consumes the job queue and its
 * dead-letter queue (wrangler.toml, core/jobs/consumer.ts); the Cron Trigger re-checks
 * hostnames pending at Cloudflare for SaaS (core/tenants/custom-hostnames.ts).
 */
export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
    const svc = servicesFor(env, (p) => ctx.waitUntil(p.catch((e: unknown) => console.error("deferred work failed", e instanceof Error ? e.message : e))));
    if (batch.queue === DEAD_LETTER_QUEUE) await consumeDeadJobs(batch, svc);
    else await consumeJobs(batch, svc);
  },
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    const svc = servicesFor(env, (p) => ctx.waitUntil(p.catch((e: unknown) => console.error("deferred work failed", e instanceof Error ? e.message : e))));
    const r = await recheckPendingHostnames(svc);
    // This isolate maps the promoted hostnames at once; others within their 10 s cache.
    if (r.promoted.length > 0) forgetTenantCache();
  },
} satisfies ExportedHandler<Env>;
