import type { Context } from "hono";
import { AuthError } from "../core/errors";

/** The bearer token of an Authorization header (RFC 6750 §2.1), or throws invalid_token. */
export function bearerToken(c: Context): string {
  const h = c.req.header("authorization") ?? "";
  const m = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(h);
  if (!m) throw new AuthError("invalid_token", "missing or malformed bearer token");
  return m[1]!;
}
