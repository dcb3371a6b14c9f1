import type { Context } from "hono";
import type { RequestAddress } from "../core/tenants/public-origin";

/**
 * What core/tenants/public-origin.ts needs to know of the request. The hostname is only ever
 * compared with the tenant's bound hostnames there; it is never written into a URL unless it
 * is one of them.
 */
export function requestAddress(c: Context): RequestAddress {
  const url = new URL(c.req.url);
  const host = c.req.header("host") ?? url.host;
  return { hostname: host.replace(/:\d+$/, "").toLowerCase(), protocol: url.protocol, port: url.port };
}
