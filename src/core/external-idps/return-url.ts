/**
 * Where a browser may be sent back to after a SAML login or logout (CloudCheckr's
 * `return_url`, or its Referer): only under one of the tenant's allowed return URLs, compared
 * prefix-safely, so that the service is never an open redirect.
 *
 * - The candidate must be an absolute http(s) URL written as such (`https://` or `http://`
 *   literally at the start): `//evil.com`, `javascript:`, `\\evil.com` and relative paths are
 *   refused before any parsing could reinterpret them.
 * - No backslash, whitespace or control character anywhere; no userinfo (`https://good@evil`
 *   and `https://evil@good` alike); no encoded slash or backslash or dot-segment (`%2f`,
 *   `%5c`, `%2e`) in the path, which some servers decode after we compared.
 * - Same origin (scheme, host, port) as an allowed URL, and its path under the allowed path:
 *   equal to it, or continuing after a `/` (an allowed `https://app/glass` admits
 *   `/glass/x` but not `/glassevil`).
 * The answer is the parsed URL's serialization, never the raw input.
 */
const FORBIDDEN = /[\\\s\u0000-\u001f\u007f]/;

function parse(s: string): URL | null {
  if (s.length > 2048 || FORBIDDEN.test(s) || !/^https?:\/\/[^/]/i.test(s)) return null;
  try {
    const u = new URL(s);
    if ((u.protocol !== "https:" && u.protocol !== "http:") || u.username || u.password || !u.hostname) return null;
    return u;
  } catch {
    return null;
  }
}

function under(path: string, prefix: string): boolean {
  if (path === prefix) return true;
  const base = prefix.endsWith("/") ? prefix : `${prefix}/`;
  return path.startsWith(base);
}

/** The return URL to use, or null when `candidate` is not under one of `allowed`. */
export function allowedReturnUrl(candidate: string, allowed: readonly string[]): string | null {
  const u = parse(candidate);
  if (!u || /%(2f|5c|2e)/i.test(u.pathname)) return null;
  for (const a of allowed) {
    const base = parse(a);
    if (base && base.origin === u.origin && under(u.pathname, base.pathname)) return u.href;
  }
  return null;
}

/** Why `url` cannot be an allowed return URL (settings), or null. */
export function returnUrlSettingProblem(url: string): string | null {
  const u = parse(url);
  if (!u) return "must be an absolute http(s) URL without userinfo, backslashes or spaces";
  if (u.search || u.hash) return "must not have a query or fragment (it is a prefix)";
  return null;
}
