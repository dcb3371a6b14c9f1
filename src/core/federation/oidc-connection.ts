import { sha256, sha256Hex } from "../../crypto/hash";
import { toBase64Url, utf8 } from "../../crypto/encoding";
import { randomToken } from "../../crypto/random";
import type { SsoConnection } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { authenticateTokenRequest } from "./client-auth";
import { discoverProvider, discoveryUrlOf, readJsonObject } from "./discovery";
import { verifyExternalIdToken } from "./remote-jwks";
import { finishSsoLogin, ssoErrorRedirect, type SsoReturn } from "./sso-login";
import { fetchUserinfo } from "./userinfo";

export { forgetDiscoveryCache } from "./discovery";

/**
 * OIDC connections: the authorization code flow (OIDC Core §3.1) with PKCE S256 (RFC 7636),
 * `state` against CSRF (RFC 6749 §10.12) and `nonce` bound into the ID token (OIDC Core
 * §3.1.2.1). The transaction (verifier, nonce, where to return) is kept in KV under the
 * SHA-256 of the state for TX_TTL seconds, and consumed exactly once through the ReplayGuard.
 */
const TX_PREFIX = "sso";
const TX_TTL = 600;

export interface OidcEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint: string | null;
  /** Whether the authorization request may carry the `claims` parameter (OIDC Core §5.5). */
  claimsParameterSupported: boolean;
}

interface OidcTransaction extends SsoReturn {
  tenantId: string;
  connectionId: string;
  nonce: string;
  verifier: string;
  /** Our callback URL as sent to the IdP: the token request must repeat it (RFC 6749 §4.1.3). */
  callbackUrl: string;
  expiresAt: number;
}

/**
 * The connection's endpoints: as configured, or from the issuer's discovery document (OIDC
 * Discovery §4), whose `issuer` must equal the configured one exactly (§4.3; discovery.ts).
 */
export async function oidcEndpoints(svc: Services, c: SsoConnection): Promise<OidcEndpoints> {
  if (c.authorizationEndpoint && c.tokenEndpoint && c.jwksUri) {
    return { authorizationEndpoint: c.authorizationEndpoint, tokenEndpoint: c.tokenEndpoint, jwksUri: c.jwksUri, userinfoEndpoint: c.userinfoEndpoint, claimsParameterSupported: false };
  }
  const d = await discoverProvider(svc, discoveryUrlOf(c.issuer, c.discoveryUrl), c.issuer);
  return { ...d, userinfoEndpoint: c.userinfoEndpoint ?? d.userinfoEndpoint };
}

/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return toBase64Url(await sha256(utf8(verifier)));
}

/** Starts a login: stores the transaction and returns the IdP authorization URL. */
export async function initiateOidc(
  svc: Services,
  scope: Scope,
  c: SsoConnection,
  input: { email: string; callbackUrl: string } & SsoReturn,
): Promise<{ authorizationUrl: string }> {
  const endpoints = await oidcEndpoints(svc, c);
  const state = randomToken();
  const nonce = randomToken();
  const verifier = randomToken(); // 43 characters of base64url: RFC 7636 §4.1 asks 43 to 128.
  const tx: OidcTransaction = {
    tenantId: scope.tenant.id,
    connectionId: c.id,
    nonce,
    verifier,
    callbackUrl: input.callbackUrl,
    appRedirectUri: input.appRedirectUri,
    ...(input.appState !== undefined ? { appState: input.appState } : {}),
    expiresAt: Date.now() + TX_TTL * 1000,
  };
  await svc.secrets.put(TX_PREFIX, await sha256Hex(state), tx, TX_TTL);
  const url = new URL(endpoints.authorizationEndpoint);
  const q = url.searchParams;
  q.set("response_type", "code");
  q.set("client_id", c.clientId);
  q.set("redirect_uri", input.callbackUrl);
  q.set("scope", c.scopes);
  q.set("state", state);
  q.set("nonce", nonce);
  q.set("code_challenge", await pkceChallenge(verifier));
  q.set("code_challenge_method", "S256");
  q.set("login_hint", input.email);
  // OIDC Core §5.5: where the provider honours it, ask for the email in the ID token itself,
  // which saves the UserInfo round trip at the callback.
  if (endpoints.claimsParameterSupported) q.set("claims", JSON.stringify({ id_token: { email: { essential: true }, email_verified: null } }));
  recordAudit(svc, scope, "sso_initiated", { detail: { connectionId: c.id } });
  return { authorizationUrl: url.toString() };
}

export interface OidcCallbackInput {
  state?: string | undefined;
  code?: string | undefined;
  /** The IdP's error answer (RFC 6749 §4.1.2.1). */
  error?: string | undefined;
  /** The authorization server's issuer identifier, when it sends one (RFC 9207). */
  iss?: string | undefined;
}

/** OAuth error codes an IdP may send back that we pass on to the app; anything else becomes access_denied. */
const PASSED_ERRORS = new Set(["access_denied", "login_required", "consent_required", "interaction_required", "temporarily_unavailable"]);

/**
 * The callback: the state must name a live transaction of this tenant, claimed once; then the
 * code is exchanged at the token endpoint (with the PKCE verifier and the connection's client
 * authentication), the ID token verified against the IdP's JWKS (iss, aud, exp, iat, nonce), the
 * email taken from it or else from UserInfo, the email's domain checked
 * against the connection's, and the login finished. Before the transaction is known errors are
 * thrown (the surface answers them); after it, the browser is sent back to the app with
 * `#error=...`, unless the connection was deleted or no longer lists the app's redirect URI
 * (then the error is thrown too: nothing vouches for that URI any more).
 */
export async function completeOidcCallback(svc: Services, scope: Scope, input: OidcCallbackInput): Promise<{ redirect: string; ok: boolean }> {
  const unknown = () => new AuthError("invalid_grant", "unknown, used or expired SSO transaction");
  const state = input.state;
  if (typeof state !== "string" || state.length < 16 || state.length > 512) throw unknown();
  const digest = await sha256Hex(state);
  const tx = await svc.secrets.get<OidcTransaction>(TX_PREFIX, digest);
  if (!tx || tx.tenantId !== scope.tenant.id || tx.expiresAt <= Date.now()) throw unknown();
  if (!(await svc.once.claim(`sso-state:${scope.tenant.id}`, digest, tx.expiresAt + 60_000))) throw unknown();
  svc.defer(svc.secrets.delete(TX_PREFIX, digest));
  const c = await svc.ssoConnections.byId(scope.tenant.id, tx.connectionId);
  // The app redirect URI was checked against the connection at initiation. Once the connection
  // is deleted, or no longer lists that URI, nothing vouches for it: answer here, not there.
  if (!c || !c.redirectUris.includes(tx.appRedirectUri)) {
    recordAudit(svc, scope, "sso_failed", { detail: { connectionId: tx.connectionId, error: "connection_changed" } });
    throw new AuthError("invalid_grant", "the SSO connection of this login was deleted or changed; start the login again");
  }

  const fail = (error: string, description: string, detail: Record<string, unknown> = {}) => {
    recordAudit(svc, scope, "sso_failed", { detail: { connectionId: tx.connectionId, error, description, ...detail } });
    return { redirect: ssoErrorRedirect(tx, error, description), ok: false };
  };
  if (input.error) return fail(PASSED_ERRORS.has(input.error) ? input.error : "access_denied", "the identity provider refused the login");
  if (typeof input.code !== "string" || !input.code || input.code.length > 4096) return fail("invalid_request", "the identity provider sent no code");
  if (!c.enabled || c.type !== "oidc") return fail("access_denied", "the SSO connection is no longer available");
  // RFC 9207 §2.4: an `iss` that is not this connection's issuer is a mix-up; refuse it.
  if (input.iss !== undefined && input.iss !== c.issuer) return fail("access_denied", "the response came from another issuer");

  try {
    const endpoints = await oidcEndpoints(svc, c);
    const tokens = await exchangeCode(svc, c, endpoints, input.code, tx);
    const idClaims = await verifyExternalIdToken(svc, tokens.idToken, { issuer: c.issuer, audience: c.clientId, jwksUri: endpoints.jwksUri, nonce: tx.nonce, maxAgeSeconds: TX_TTL });
    const claims = await withUserinfo(svc, endpoints, tokens.accessToken, idClaims);
    const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : "";
    const domain = email.split("@")[1] ?? "";
    // A connection speaks only for its own domains: an IdP cannot log in users of another one.
    if (!email || !c.domains.includes(domain)) return fail("access_denied", "the identity's email is not in the connection's domains");
    if (claims.email_verified === false) return fail("access_denied", "the identity provider has not verified the email");
    const str = (v: unknown) => (typeof v === "string" && v.length <= 256 ? v : null);
    const { redirect } = await finishSsoLogin(
      svc,
      scope,
      c,
      { issuer: c.issuer, sub: claims.sub, email, emailVerified: claims.email_verified === true, username: email, firstName: str(claims.given_name), lastName: str(claims.family_name) },
      tx,
    );
    return { redirect, ok: true };
  } catch (e) {
    if (e instanceof AuthError) {
      const error = e.code === "upstream_error" ? "temporarily_unavailable" : e.code === "conflict" || e.code === "user_disabled" ? "access_denied" : "invalid_grant";
      return fail(error, e.message, { code: e.code });
    }
    throw e;
  }
}

/**
 * The identity's claims: the ID token's, and when it lacks the email (a provider following
 * OIDC Core §5.4 strictly sends scope-requested claims from UserInfo only), the email, its
 * verification and the names from UserInfo, whose `sub` must be the ID token's (userinfo.ts).
 * The email and email_verified are always taken together from one source.
 */
async function withUserinfo<T extends { sub: string } & Record<string, unknown>>(svc: Services, endpoints: OidcEndpoints, accessToken: string | null, idClaims: T): Promise<T> {
  if (typeof idClaims.email === "string" && idClaims.email) return idClaims;
  if (!endpoints.userinfoEndpoint || !accessToken) return idClaims;
  const info = await fetchUserinfo(svc, endpoints.userinfoEndpoint, accessToken, idClaims.sub);
  const merged: Record<string, unknown> = { ...idClaims, email: info.email, email_verified: info.email_verified };
  for (const k of ["given_name", "family_name"]) if (merged[k] === undefined && info[k] !== undefined) merged[k] = info[k];
  return merged as T;
}

/**
 * RFC 6749 §4.1.3 token request with RFC 7636 §4.5 code_verifier, authenticated as the
 * connection says (client-auth.ts); returns the ID token and the access token (for UserInfo).
 */
async function exchangeCode(svc: Services, c: SsoConnection, endpoints: OidcEndpoints, code: string, tx: OidcTransaction): Promise<{ idToken: string; accessToken: string | null }> {
  const body = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: tx.callbackUrl, code_verifier: tx.verifier, client_id: c.clientId });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  await authenticateTokenRequest(svc, c, endpoints.tokenEndpoint, body, headers);
  let res: Response;
  try {
    res = await svc.fetch(endpoints.tokenEndpoint, { method: "POST", headers, body: body.toString() });
  } catch {
    throw new AuthError("upstream_error", "the identity provider's token endpoint is unreachable");
  }
  const json = await readJsonObject(res, "the token endpoint");
  if (!res.ok) throw new AuthError("invalid_grant", `the identity provider refused the code (${typeof json.error === "string" ? json.error.slice(0, 64) : res.status})`);
  if (typeof json.id_token !== "string") throw new AuthError("upstream_error", "the token endpoint returned no ID token");
  // Only a Bearer access token can be presented to UserInfo as we do (RFC 6750 §2.1).
  const bearer = typeof json.access_token === "string" && json.access_token.length <= 8192 && (typeof json.token_type !== "string" || json.token_type.toLowerCase() === "bearer");
  return { idToken: json.id_token, accessToken: bearer ? (json.access_token as string) : null };
}
