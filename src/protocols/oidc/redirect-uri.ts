/**
 * Redirect URI rules of an OpenID Provider. RFC 6749 §3.1.2 and the OAuth security BCP
 * (RFC 9700 §4.1.3): a requested redirect URI must equal a registered one as a string, with
 * one exception, RFC 8252 §7.3: for a native app's loopback IP redirect (`http://127.0.0.1`
 * or `http://[::1]`), any port is allowed, because the app picks a free one at run time.
 * Nothing is normalised before comparing: case, a trailing slash, a default port, percent
 * encoding or userinfo make a different URI, so a lookalike never matches.
 */

/** The parts of a loopback redirect URI, or null when `uri` is not one. */
function loopback(uri: string): { host: string; port: string | null; rest: string } | null {
  // Exactly: http, "//", the IP literal (no userinfo), an optional decimal port, then path and
  // query. `localhost` is not a loopback IP literal (RFC 8252 §8.3): it gets exact matching.
  const m = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([0-9]{1,5}))?([/?][^#]*)?$/.exec(uri);
  if (!m) return null;
  const port = m[2] ?? null;
  if (port !== null && (Number(port) < 1 || Number(port) > 65535 || (port.length > 1 && port.startsWith("0")))) return null;
  return { host: m[1]!, port, rest: m[3] ?? "" };
}

/**
 * Whether a URI may be registered as a redirect URI: absolute, without a fragment
 * (RFC 6749 §3.1.2), https, or http only on a loopback IP or localhost (RFC 8252 §7.3, §8.3),
 * or a private-use scheme of a native app (RFC 8252 §7.1: reverse domain notation, with a dot).
 * Returns the reason it may not, or null when it may.
 */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > 2048) return "is longer than 2048 characters";
  if (/[\s<>"\\^`{|}]/.test(uri)) return "contains characters a URI may not";
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return "is not an absolute URI";
  }
  if (uri.includes("#")) return "has a fragment (RFC 6749 §3.1.2)";
  if (u.username || u.password) return "has userinfo";
  if (u.protocol === "https:") return u.hostname ? null : "has no host";
  if (u.protocol === "http:") {
    return u.hostname === "127.0.0.1" || u.hostname === "[::1]" || u.hostname === "localhost" ? null : "uses http on a host other than loopback (RFC 8252 §8.3)";
  }
  const scheme = u.protocol.slice(0, -1);
  if (!scheme.includes(".")) return "uses a custom scheme that is not in reverse domain notation (RFC 8252 §7.1)";
  if (/^(javascript|data|vbscript|file)$/i.test(scheme)) return "uses a forbidden scheme";
  return null;
}

/** Whether `requested` matches `registered` under the rules above. */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const reg = loopback(registered);
  if (!reg) return false;
  const req = loopback(requested);
  return req !== null && req.host === reg.host && req.rest === reg.rest;
}

/** The registered redirect URI that `requested` matches, or null. */
export function matchRedirectUri(registered: readonly string[], requested: string): string | null {
  for (const r of registered) if (redirectUriMatches(r, requested)) return r;
  return null;
}
