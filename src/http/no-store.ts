import type { MiddlewareHandler } from "hono";

/** Responses that carry tokens or credentials must not be cached (RFC 6749 §5.1). */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  c.header("cache-control", "no-store");
  c.header("pragma", "no-cache");
};
