import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../http/types";

/**
 * The hosted login's cookies. Both `__Host-` (RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain,
 * so no sibling subdomain can set or shadow them), HttpOnly, SameSite=Lax (sent on the
 * top-level navigation from the client's site to /authorize; not on cross-site POSTs).
 */
export const SSO_COOKIE = "__Host-edge-auth-sso";
export const CSRF_COOKIE = "__Host-edge-auth-csrf";

const BASE = { secure: true, httpOnly: true, sameSite: "Lax", path: "/" } as const;

export function readCookie(c: Context<AppEnv>, name: string): string | undefined {
  const v = getCookie(c, name);
  return typeof v === "string" && v.length > 0 && v.length <= 128 ? v : undefined;
}

/** Session cookies: no Max-Age for the CSRF cookie (it lives with the browser session). */
export function writeCookie(c: Context<AppEnv>, name: string, value: string, maxAgeSeconds?: number): void {
  setCookie(c, name, value, { ...BASE, ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}) });
}

export function clearCookie(c: Context<AppEnv>, name: string): void {
  setCookie(c, name, "", { ...BASE, maxAge: 0 });
}
