import { AssertionError, unverifiedIssuer, verifyClientAssertion } from "../../crypto/client-assertion";
import { sha256Hex, timingSafeEqualString } from "../../crypto/hash";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { findOidcClient, type OidcClient, type TokenEndpointAuthMethod } from "./clients";
import { clientKeys } from "./client-jwks";

/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3,
 * OIDC Core §9): client_secret_basic, client_secret_post, private_key_jwt (RFC 7523 §2.2) and
 * `none` for public clients. A client uses exactly the method it registered; anything else,
 * an unknown client and a wrong secret all answer the same `invalid_client`. Every failure
 * counts towards the lockout of the client id and of the caller's IP, as core/clients does.
 */
export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** The limiter's key kind (core/limits): one counter per client id, beside the IP's. */
const LIMIT_KIND = "oidc-client";
/** Longest lifetime accepted for an assertion's jti record (RFC 7523 §3 item 4 asks for a short exp). */
const MAX_ASSERTION_TTL_S = 600;

/** What the request carried, as the endpoint parsed it. */
export interface ClientCredentials {
  /** From `Authorization: Basic` (already form-decoded), or null. */
  basic: { id: string; secret: string } | null;
  clientId: string | null;
  clientSecret: string | null;
  clientAssertionType: string | null;
  clientAssertion: string | null;
}

export interface AuthenticatedClient {
  client: OidcClient;
  method: TokenEndpointAuthMethod;
}

export interface ProviderEndpoints {
  issuer: string;
  /** The endpoint addressed (an assertion's aud may be it or the issuer). */
  endpoint: string;
}

const invalid = (why = "client authentication failed") => new AuthError("invalid_client", why);

function presentedMethod(c: ClientCredentials): TokenEndpointAuthMethod {
  const used = [c.basic !== null, c.clientSecret !== null, c.clientAssertion !== null || c.clientAssertionType !== null].filter(Boolean).length;
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
  if (used > 1) throw new AuthError("invalid_request", "more than one client authentication method");
  if (c.basic) return "client_secret_basic";
  if (c.clientSecret !== null) return "client_secret_post";
  if (c.clientAssertion !== null || c.clientAssertionType !== null) return "private_key_jwt";
  return "none";
}

/** Counts a failed check against the client id and the IP, audits it, and answers invalid_client. */
async function failed(svc: Services, scope: Scope, clientId: string, reason: string): Promise<never> {
  await svc.limiter.failure(scope, LIMIT_KIND, clientId);
  recordAudit(svc, scope, "oidc_client_auth_failed", { detail: { clientId: clientId.slice(0, 255), reason } });
  throw invalid();
}

/** Authenticates the calling client of this community; throws invalid_client (or invalid_request, rate_limited). */
export async function authenticateClient(svc: Services, scope: Scope, creds: ClientCredentials, at: ProviderEndpoints): Promise<AuthenticatedClient> {
  const method = presentedMethod(creds);
  let clientId: string | null;
  if (method === "client_secret_basic") clientId = creds.basic!.id;
  else if (method === "private_key_jwt") clientId = creds.clientId ?? (creds.clientAssertion ? unverifiedIssuer(creds.clientAssertion) : null);
  else clientId = creds.clientId;
  // client_id in the body beside Basic must name the same client (RFC 6749 §2.3.1 allows it).
  if (method === "client_secret_basic" && creds.clientId !== null && creds.clientId !== clientId) throw invalid();
  if (!clientId || clientId.length > 255) throw invalid();

  // The lockout check and the client's row at once (two round trips otherwise); a locked-out
  // caller learns nothing from the row, which is only read.
  const lookup = findOidcClient(svc, scope, clientId);
  lookup.catch(() => undefined);
  const { failures } = await svc.limiter.guard(scope, LIMIT_KIND, clientId);
  const client = await lookup;

  if (method === "client_secret_basic" || method === "client_secret_post") {
    const secret = method === "client_secret_basic" ? creds.basic!.secret : creds.clientSecret!;
    // Hash and compare even for an unknown client, so timing does not tell it apart.
    const expected = client?.secretHash ?? "0".repeat(64);
    const matches = secret.length <= 1024 && (await timingSafeEqualString(await sha256Hex(secret), expected));
    if (!client || !client.secretHash || client.tokenEndpointAuthMethod !== method || !matches) return failed(svc, scope, clientId, "secret");
  } else if (method === "private_key_jwt") {
    if (!client || client.tokenEndpointAuthMethod !== "private_key_jwt") return failed(svc, scope, clientId, "assertion");
    if (creds.clientAssertionType !== JWT_BEARER_ASSERTION || !creds.clientAssertion) throw new AuthError("invalid_request", `client_assertion_type must be ${JWT_BEARER_ASSERTION} with a client_assertion`);
    await verifyAssertion(svc, scope, client, creds.clientAssertion, at);
  } else {
    // `none`: only a client registered as public (OIDC Core §9); PKCE is enforced by the grant.
    if (!client || !client.public) return failed(svc, scope, clientId, "none");
  }
  // A success clears earlier failures, only when there are any (a write).
  if (failures > 0) svc.defer(svc.limiter.success(scope, LIMIT_KIND, clientId));
  return { client, method };
}

/** RFC 7523 §3: iss = sub = client_id, aud names us, exp, and the jti never seen before. */
async function verifyAssertion(svc: Services, scope: Scope, client: OidcClient, assertion: string, at: ProviderEndpoints): Promise<void> {
  const keys = await clientKeys(svc, client);
  if (!keys) return failed(svc, scope, client.clientId, "no keys");
  const expect = { clientId: client.clientId, audiences: [at.endpoint, at.issuer] };
  let claims: Awaited<ReturnType<typeof verifyClientAssertion>>;
  try {
    claims = await verifyClientAssertion(assertion, keys, expect);
  } catch (e) {
    if (!(e instanceof AssertionError)) throw e;
    // A key we do not hold may be the client's new one: one refetch of its jwks_uri (rate limited).
    const fresh = e.unknownKey ? await clientKeys(svc, client, true) : null;
    if (!fresh) return failed(svc, scope, client.clientId, e.message);
    try {
      claims = await verifyClientAssertion(assertion, fresh, expect);
    } catch (e2) {
      if (e2 instanceof AssertionError) return failed(svc, scope, client.clientId, e2.message);
      throw e2;
    }
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.jti !== "string" || !claims.jti || claims.jti.length > 256) return failed(svc, scope, client.clientId, "jti");
  if (claims.exp - now > MAX_ASSERTION_TTL_S) return failed(svc, scope, client.clientId, "exp too far");
  // §3 item 7: the jti is single use, decided once by the ReplayGuard (until the assertion expires).
  const first = await svc.once.claim(`opjti:${scope.tenant.id}:${scope.community.id}:${client.clientId}`, await sha256Hex(claims.jti), (claims.exp + 60) * 1000);
  if (!first) return failed(svc, scope, client.clientId, "jti replay");
}
