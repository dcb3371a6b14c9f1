import { app } from "./app";
import type { Env } from "./env";
import { consumeDeadJobs, consumeJobs } from "./core/jobs/consumer";
import { DEAD_LETTER_QUEUE } from "./core/jobs/types";
import { servicesFor } from "./http/services";

export { TokenAuthority } from "./durable/token-authority";
export { RateLimiter } from "./durable/rate-limiter";
export { ReplayGuard } from "./durable/replay-guard";

/**
 * The Worker: Hono answers requests; the queue handler consumes the job queue and its
 * dead-letter queue (wrangler.toml, core/jobs/consumer.ts).
 */
export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
    const svc = servicesFor(env, (p) => ctx.waitUntil(p.catch((e: unknown) => console.error("deferred work failed", e instanceof Error ? e.message : e))));
    if (batch.queue === DEAD_LETTER_QUEUE) await consumeDeadJobs(batch, svc);
    else await consumeJobs(batch, svc);
  },
} satisfies ExportedHandler<Env>;
