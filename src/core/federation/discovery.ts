import type { Services } from "../context";
import { AuthError } from "../errors";

/**
 * OpenID Provider discovery (OIDC Discovery 1.0). The document is fetched from
 * `<issuer>/.well-known/openid-configuration` (§4) or a configured URL, and its `issuer` must
 * equal the issuer we expect exactly (§4.3): a trailing slash is a different issuer, and ID
 * tokens will carry the document's, not ours.
 *
 * The isolate cache is keyed by the URL *and* the expected issuer: two configurations that read
 * the same document but expect different issuers never share an entry, so a cached answer can
 * never let a login start that its ID token would then fail.
 */
const CACHE_MS = 10 * 60_000;
const MAX_BYTES = 256 * 1024;
const FETCH_TIMEOUT_MS = 5_000;

export interface DiscoveredProvider {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  /** OIDC Core §5.3; absent when the provider publishes none. */
  userinfoEndpoint: string | null;
  /** OIDC Core §5.5: whether the `claims` request parameter is honoured (default false). */
  claimsParameterSupported: boolean;
}

const cache = new Map<string, { at: number; doc: DiscoveredProvider }>();

/** Drops cached discovery documents (tests). */
export function forgetDiscoveryCache(): void {
  cache.clear();
}

/** The discovery URL of an issuer (OIDC Discovery §4: the issuer with any trailing slash removed, plus the well-known path). */
export function discoveryUrlOf(issuer: string, configured?: string | null): string {
  return configured ?? `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

export async function readJsonObject(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (text.length > MAX_BYTES) throw new AuthError("upstream_error", `${what} answer is too large`);
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AuthError("upstream_error", `${what} did not answer JSON`);
}

/** The discovery document as published, whatever issuer it names (no cache). */
export async function fetchDiscovery(svc: Services, url: string): Promise<DiscoveredProvider> {
  let res: Response;
  try {
    res = await svc.fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch {
    throw new AuthError("upstream_error", "identity provider discovery is unreachable");
  }
  if (!res.ok) throw new AuthError("upstream_error", `identity provider discovery answered ${res.status}`);
  const doc = await readJsonObject(res, "identity provider discovery");
  const pick = (k: string) => {
    const v = doc[k];
    if (typeof v !== "string" || !v || v.length > 2048) throw new AuthError("upstream_error", `identity provider discovery has no ${k}`);
    return v;
  };
  const userinfo = doc.userinfo_endpoint;
  return {
    issuer: pick("issuer"),
    authorizationEndpoint: pick("authorization_endpoint"),
    tokenEndpoint: pick("token_endpoint"),
    jwksUri: pick("jwks_uri"),
    userinfoEndpoint: typeof userinfo === "string" && userinfo && userinfo.length <= 2048 ? userinfo : null,
    claimsParameterSupported: doc.claims_parameter_supported === true,
  };
}

/** The message both the configuration check and the login use for a contradicting document. */
export function otherIssuerMessage(expected: string, named: string): string {
  return `the discovery document names issuer "${named.slice(0, 256)}", not "${expected.slice(0, 256)}"`;
}

/**
 * The provider as discovered at `url`, which must name `issuer` (§4.3); cached per (url, issuer).
 * A contradicting document is `upstream_error` here (the login's problem is the provider's);
 * configuration refuses it earlier (sso-connections.ts, okta settings check).
 */
export async function discoverProvider(svc: Services, url: string, issuer: string): Promise<DiscoveredProvider> {
  const key = `${url}\n${issuer}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.doc;
  const doc = await fetchDiscovery(svc, url);
  if (doc.issuer !== issuer) throw new AuthError("upstream_error", otherIssuerMessage(issuer, doc.issuer));
  if (cache.size > 500) cache.clear();
  cache.set(key, { at: Date.now(), doc });
  return doc;
}
