import { redirectUriProblem } from "../../protocols/oidc/redirect-uri";

/**
 * URL rules of service provider registrations. Redirect URIs follow protocols/oidc
 * (RFC 6749 §3.1.2, RFC 8252 §7.3/§8.3, RFC 9700 §4.1.3) plus "no wildcard": matching is
 * exact, so a `*` could only ever be a registration mistake or a pattern someone hopes we
 * expand. Endpoints we post to or fetch from (a SAML ACS, a jwks_uri, a logo) must be https,
 * or http on a loopback host for development, never carry userinfo or a fragment.
 */

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Why `uri` may not be registered as an OIDC redirect URI (or post-logout one), or null. */
export function redirectProblem(uri: string): string | null {
  if (uri.includes("*")) return "has a wildcard (redirect URIs are matched exactly)";
  return redirectUriProblem(uri);
}

/** Why `uri` may not be an https endpoint (http only on loopback), or null. */
export function endpointProblem(uri: string): string | null {
  if (uri.length > 2048) return "is longer than 2048 characters";
  if (/[\s<>"\\^`{|}*]/.test(uri)) return "contains characters a URL may not";
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return "is not an absolute URL";
  }
  if (uri.includes("#")) return "has a fragment";
  if (u.username || u.password) return "has userinfo";
  if (u.protocol === "https:") return u.hostname ? null : "has no host";
  if (u.protocol === "http:" && LOOPBACK.has(u.hostname)) return null;
  return "must be https (http only on a loopback host)";
}

/** Why `uri` is not an absolute http(s) link (an application's start page), or null. */
export function linkProblem(uri: string): string | null {
  if (uri.length > 2048) return "is longer than 2048 characters";
  try {
    const u = new URL(uri);
    if (u.protocol !== "https:" && u.protocol !== "http:") return "must be an http(s) URL";
    if (u.username || u.password) return "has userinfo";
    return null;
  } catch {
    return "is not an absolute URL";
  }
}
