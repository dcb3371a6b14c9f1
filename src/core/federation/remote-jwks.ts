import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import type { Services } from "../context";
import { AuthError } from "../errors";

/**
 * Verification of ID tokens issued by external IdPs (Okta, OIDC connections): the issuer's
 * JWKS is fetched, cached per URI in the isolate, and fetched again at once when a token names
 * a kid the cached set lacks: a provider that has just rotated its signing key (OIDC Core
 * §10.1.1: the new key is published, then used) must not fail logins until the cache expires.
 * That refetch is rate limited per issuer (REFETCH_MS), and concurrent callers share one fetch,
 * so a flood of tokens with invented kids costs the IdP at most one request per interval.
 */
const CACHE_MS = 10 * 60_000;
/** At most one unknown-kid refetch per issuer per this interval (in the isolate). */
export const REFETCH_MS = 5_000;
const MAX_JWKS_BYTES = 256 * 1024;
/** An IdP that does not answer within this is treated as down (rather than hanging the login). */
const FETCH_TIMEOUT_MS = 5_000;
/** After a failed fetch, the URI is not tried again for this long (a down IdP is not hammered). */
const FAILURE_BACKOFF_MS = 5_000;
const ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"];

interface CachedJwks {
  at: number;
  jwks: JSONWebKeySet;
}
const jwksCache = new Map<string, CachedJwks>();
/** When each URI's last fetch failed. */
const failedAt = new Map<string, number>();
/** When each issuer's last unknown-kid refetch started. */
const refetchedAt = new Map<string, number>();
/** Fetches in flight per URI: concurrent callers wait for the same answer. */
const inflight = new Map<string, Promise<JSONWebKeySet>>();

async function fetchJwks(svc: Services, uri: string): Promise<JSONWebKeySet> {
  let res: Response;
  let text: string;
  try {
    res = await svc.fetch(uri, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    text = await res.text();
  } catch {
    throw new AuthError("upstream_error", "identity provider keys are unreachable");
  }
  if (!res.ok || text.length > MAX_JWKS_BYTES) throw new AuthError("upstream_error", `identity provider keys answered ${res.status}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AuthError("upstream_error", "identity provider keys are not JSON");
  }
  if (!body || typeof body !== "object" || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new AuthError("upstream_error", "identity provider keys are not a JWKS");
  }
  const jwks = body as JSONWebKeySet;
  if (jwksCache.size >= 1000) jwksCache.clear();
  jwksCache.set(uri, { at: Date.now(), jwks });
  return jwks;
}

/** One fetch per URI at a time, with the failure backoff; falls back to held keys while the IdP is down. */
function refresh(svc: Services, uri: string, hit: CachedJwks | undefined): Promise<JSONWebKeySet> {
  const running = inflight.get(uri);
  if (running) return running;
  const p = (async () => {
    // While the IdP is down we keep verifying with the keys we hold, if any (a token they do not
    // know still fails), rather than failing every login until it is back.
    const failed = failedAt.get(uri);
    if (failed !== undefined && Date.now() - failed < FAILURE_BACKOFF_MS) {
      if (hit) return hit.jwks;
      throw new AuthError("upstream_error", "identity provider keys are unreachable");
    }
    try {
      const jwks = await fetchJwks(svc, uri);
      failedAt.delete(uri);
      return jwks;
    } catch (e) {
      if (!(e instanceof AuthError) || e.code !== "upstream_error") throw e;
      if (failedAt.size >= 1000) failedAt.clear();
      failedAt.set(uri, Date.now());
      if (hit) return hit.jwks;
      throw e;
    }
  })().finally(() => inflight.delete(uri));
  inflight.set(uri, p);
  return p;
}

async function jwksFor(svc: Services, issuer: string, uri: string, kid: string | undefined): Promise<JSONWebKeySet> {
  const hit = jwksCache.get(uri);
  const fresh = hit !== undefined && Date.now() - hit.at < CACHE_MS;
  if (!hit || !fresh) return refresh(svc, uri, hit);
  const knowsKid = !kid || hit.jwks.keys.some((k) => k.kid === kid);
  if (knowsKid) return hit.jwks;
  // An unknown kid: a rotation, or a forgery. Refetch at once, but at most once per interval
  // per issuer; the mark is set before the fetch so that concurrent callers cannot all pass.
  const last = refetchedAt.get(issuer);
  if (last !== undefined && Date.now() - last < REFETCH_MS) return inflight.get(uri) ?? hit.jwks;
  if (refetchedAt.size >= 1000) refetchedAt.clear();
  refetchedAt.set(issuer, Date.now());
  return refresh(svc, uri, hit);
}

export interface ExternalTokenExpectations {
  issuer: string;
  /** The expected `aud`; with several, the token's aud must contain at least one of them. */
  audience: string | string[];
  jwksUri: string;
  /** Maximum age of `iat`, seconds. */
  maxAgeSeconds?: number;
  nonce?: string;
}

/**
 * Verifies an external ID token: signature against the issuer's JWKS (asymmetric algorithms
 * only), iss, aud, exp (required), iat (required, not in the future, not older than
 * maxAgeSeconds), and nonce when expected.
 */
export async function verifyExternalIdToken(svc: Services, token: string, exp: ExternalTokenExpectations): Promise<JWTPayload & { sub: string }> {
  if (typeof token !== "string" || token.length > 16_384 || token.split(".").length !== 3) {
    throw new AuthError("invalid_token", "malformed ID token");
  }
  let kid: string | undefined;
  let alg: unknown;
  try {
    const header = JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { kid?: unknown; alg?: unknown };
    kid = typeof header.kid === "string" ? header.kid : undefined;
    alg = header.alg;
  } catch {
    throw new AuthError("invalid_token", "malformed ID token");
  }
  // Refused on its face (alg none, HMAC, ...): no need to ask the IdP for its keys.
  if (typeof alg !== "string" || !ALGORITHMS.includes(alg)) throw new AuthError("invalid_token", "ID token algorithm not allowed");
  const jwks = await jwksFor(svc, exp.issuer, exp.jwksUri, kid);
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms: ALGORITHMS,
      issuer: exp.issuer,
      audience: exp.audience,
      requiredClaims: ["exp", "iat", "sub"],
      clockTolerance: 30,
      ...(exp.maxAgeSeconds ? { maxTokenAge: exp.maxAgeSeconds } : {}),
    });
    if (typeof payload.iat === "number" && payload.iat > Date.now() / 1000 + 60) throw new AuthError("invalid_token", "ID token issued in the future");
    if (exp.nonce !== undefined && payload.nonce !== exp.nonce) throw new AuthError("invalid_token", "ID token nonce mismatch");
    return payload as JWTPayload & { sub: string };
  } catch (e) {
    if (e instanceof AuthError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw new AuthError("invalid_token", "ID token expired");
    if (e instanceof joseErrors.JWTClaimValidationFailed) throw new AuthError("invalid_token", `ID token claim invalid: ${e.claim}`);
    if (e instanceof joseErrors.JWKSNoMatchingKey) throw new AuthError("invalid_token", "ID token signed by an unknown key");
    throw new AuthError("invalid_token", "invalid ID token");
  }
}

/** Drops cached JWKS (tests). */
export function forgetJwksCache(): void {
  jwksCache.clear();
  failedAt.clear();
  refetchedAt.clear();
  inflight.clear();
}
