import type { Context } from "hono";

/**
 * The connecting client's IP: Cloudflare's CF-Connecting-IP. X-Forwarded-For is client
 * supplied and never believed here (the Authn surface may believe it from a licensed service
 * caller, and decides that itself). Local runs without the header get "127.0.0.1".
 */
export function clientIp(c: Context): string {
  const ip = c.req.header("cf-connecting-ip");
  return ip && ip.length <= 64 ? ip : "127.0.0.1";
}
