import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./types";
import { setAnswerHeaders } from "./answer-headers";

/** Tags each response with a request id (Cloudflare's ray id when present) for support. */
export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const id = c.req.header("cf-ray") ?? crypto.randomUUID();
  c.set("requestId", id);
  await next();
  setAnswerHeaders(c, [["x-request-id", id]]);
};
