import type { MiddlewareHandler } from "hono";
import { setAnswerHeaders } from "./answer-headers";

const NO_STORE = [
  ["cache-control", "no-store"],
  ["pragma", "no-cache"],
] as const;

/** Responses that carry tokens or credentials must not be cached (RFC 6749 §5.1). */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  setAnswerHeaders(c, NO_STORE);
};
