import { Hono } from "hono";
import type { AppEnv } from "../../http/types";

/**
 * Development-only routes, mounted only when ENVIRONMENT is "development" (never in
 * production): the mail outbox, so a developer can read reset codes and links locally.
 */
export const dev = new Hono<AppEnv>();

dev.use("*", async (c, next) => {
  if (c.get("services").config.production) return c.json({ error: "not_found" }, 404);
  await next();
});

/** GET /dev/outbox?to=<email>&limit=<n>: newest first. */
dev.get("/outbox", async (c) => {
  const to = c.req.query("to");
  const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 20) || 20, 1), 200);
  const mail = await c.get("services").mailStore.list({ ...(to ? { to } : {}), limit });
  return c.json({ mail });
});
