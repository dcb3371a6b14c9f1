/**
 * Helpers for the provider's workerd tests (imported by *.test.ts only). Clients are written
 * as service-provider records through svc.identity.serviceProviders, codes are issued with
 * issueAuthorizationCode (the hosted login and the Authn endpoints are built elsewhere), and
 * every endpoint is called over SELF like an RP would.
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { call, callJson } from "../../../test/helpers/http";
import { services, type TestTenant } from "../../../test/helpers/tenant";
import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import { issueAuthorizationCode, type CodeGrant } from "../../core/oidc-provider/codes";
import { s256Challenge } from "../../protocols/oidc/pkce";
import type { TokenEndpointAuthMethod } from "../../core/oidc-provider/clients";

export type Json = Record<string, unknown>;

export const REDIRECT = "https://rp.example/cb";
export const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

export function issuerOf(t: TestTenant): string {
  return `http://${t.host}/oidc/${t.community.id}`;
}

export interface TestClient {
  clientId: string;
  secret: string | null;
  spId: string;
  method: TokenEndpointAuthMethod;
  /** For private_key_jwt: signs an assertion (overrides merge into the claims). */
  assertion?: (claims?: Json, header?: Json) => Promise<string>;
  /** For private_key_jwt: its public keys (inline, or to serve at jwks_uri). */
  jwks?: Json;
}

let n = 0;

export async function createOidcClient(
  t: TestTenant,
  opts: { method?: TokenEndpointAuthMethod; grantTypes?: string[]; scope?: string; rotation?: boolean; requirePkce?: boolean; redirectUris?: string[]; jwksUri?: string } = {},
): Promise<TestClient> {
  const method = opts.method ?? "client_secret_basic";
  const clientId = `rp-${Date.now().toString(36)}-${n++}`;
  const secret = method === "client_secret_basic" || method === "client_secret_post" ? randomToken() : null;
  const spId = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
  let jwks: Json | undefined;
  let assertion: TestClient["assertion"];
  if (method === "private_key_jwt") {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const kid = `k-${clientId}`;
    jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] };
    assertion = async (claims = {}, header = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: clientId, sub: clientId, aud: `${issuerOf(t)}/token`, jti: randomToken(), iat: now, exp: now + 60, ...claims })
        .setProtectedHeader({ alg: "ES256", kid, ...header })
        .sign(privateKey);
    };
  }
  const now = Date.now();
  await services().identity.serviceProviders.create({
    id: spId,
    tenantId: t.tenant.id,
    communityId: t.community.id,
    type: "oidc",
    featured: null,
    name: `RP ${clientId}`,
    clientId,
    entityId: null,
    secretHash: secret ? await sha256Hex(secret) : null,
    sealedSecrets: null,
    body: {
      name: `RP ${clientId}`,
      oidc_config: {
        client_id: clientId,
        client_name: `RP ${clientId}`,
        redirect_uris: opts.redirectUris ?? [REDIRECT],
        grant_types: opts.grantTypes ?? ["authorization_code", "refresh_token"],
        token_endpoint_auth_method: method,
        ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
        ...(opts.rotation !== undefined ? { refresh_token_rotation: opts.rotation } : {}),
        ...(opts.requirePkce !== undefined ? { require_pkce: opts.requirePkce } : {}),
        ...(jwks && !opts.jwksUri ? { jwks } : {}),
        ...(opts.jwksUri ? { jwks_uri: opts.jwksUri } : {}),
      },
    },
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
  return { clientId, secret, spId, method, ...(assertion ? { assertion } : {}), ...(jwks ? { jwks } : {}) };
}

/** A code for alice (or `uid`) as the hosted login would issue it. */
export async function issueCode(t: TestTenant, client: TestClient, over: Partial<CodeGrant> & { pkce?: boolean } = {}): Promise<{ code: string; grant: Omit<CodeGrant, "familyId" | "issuedAt"> & { familyId: string } }> {
  const { pkce, ...rest } = over;
  const grant = {
    tenantId: t.tenant.id,
    communityId: t.community.id,
    clientId: client.clientId,
    redirectUri: REDIRECT,
    uid: t.alice.uid,
    scopes: ["openid", "profile", "email"],
    nonce: `nonce-${randomToken().slice(0, 8)}`,
    ...(pkce === false ? {} : { codeChallenge: await s256Challenge(VERIFIER) }),
    authTime: Math.floor(Date.now() / 1000) - 5,
    amr: ["pwd"],
    acr: "urn:edge-auth:acr:password",
    ssoSessionId: `sso-${randomToken().slice(0, 12)}`,
    familyId: crypto.randomUUID(),
    ...rest,
  };
  const code = await issueAuthorizationCode(services(), grant);
  return { code, grant };
}

/** The client's authentication added to a form (and headers) by its registered method. */
export async function withAuth(client: TestClient, form: Record<string, string>, t?: TestTenant): Promise<{ body: URLSearchParams; headers: Record<string, string> }> {
  const body = new URLSearchParams(form);
  const headers: Record<string, string> = {};
  if (client.method === "client_secret_basic") headers.authorization = `Basic ${btoa(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret!)}`)}`;
  else if (client.method === "client_secret_post") {
    body.set("client_id", client.clientId);
    body.set("client_secret", client.secret!);
  } else if (client.method === "private_key_jwt") {
    void t;
    body.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    body.set("client_assertion", await client.assertion!());
  } else body.set("client_id", client.clientId);
  return { body, headers };
}

/** POSTs a form to one of the provider's endpoints of `t`. */
export function postForm(t: TestTenant, path: string, body: URLSearchParams | string, headers: Record<string, string> = {}, opts: { ip?: string; host?: string; communityId?: string } = {}) {
  return callJson<Json>("POST", `/oidc/${opts.communityId ?? t.community.id}${path}`, body, { host: opts.host ?? t.host, headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, ...(opts.ip ? { ip: opts.ip } : {}) });
}

/** The token endpoint with the client's own authentication. */
export async function token(t: TestTenant, client: TestClient, form: Record<string, string>, opts: { ip?: string } = {}) {
  const { body, headers } = await withAuth(client, form, t);
  return postForm(t, "/token", body, headers, opts);
}

/** Redeems a fresh code with PKCE; returns the token response body. */
export async function codeTokens(t: TestTenant, client: TestClient, over: Parameters<typeof issueCode>[2] = {}) {
  const { code, grant } = await issueCode(t, client, over);
  const res = await token(t, client, { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
  return { ...res, code, grant };
}

export function userinfoGet(t: TestTenant, accessToken: string) {
  return callJson<Json>("GET", `/oidc/${t.community.id}/userinfo`, undefined, { host: t.host, headers: { authorization: `Bearer ${accessToken}` } });
}

export function rawCall(method: string, t: TestTenant, path: string, body?: string, headers: Record<string, string> = {}) {
  return call(method, `/oidc/${t.community.id}${path}`, body, { host: t.host, headers });
}

/** The payload of a JWT, unverified (tests verify separately where it matters). */
export function payloadOf(jwt: string): Json {
  return JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Json;
}
