import type { Context } from "hono";
import type { AuthError } from "../../core/errors";
import { DEFAULT_STATUS } from "../../http/errors";

/** userpool errors are `{message, status}` with the HTTP status repeated in the body. */
export function renderUserpoolError(c: Context, e: AuthError): Response {
  const status = e.code === "invalid_grant" || e.code === "password_policy" ? 400 : DEFAULT_STATUS[e.code];
  return c.json({ message: e.message, status }, status as 400);
}
