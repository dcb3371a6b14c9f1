import { sha256 } from "../../crypto/hash";
import { toBase64, toBase64Url, utf8 } from "../../crypto/encoding";
import { randomToken } from "../../crypto/random";
import { open, seal } from "../../crypto/secret-box";
import type { SsoConnection } from "../../storage/ports";
import type { Services } from "../context";
import { AuthError } from "../errors";

/**
 * How a connection authenticates at its IdP's token endpoint (OIDC Core §9):
 * - client_secret_basic: HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1);
 * - client_secret_post: the same two in the form body (RFC 6749 §2.3.1, the "NOT RECOMMENDED" one
 *   some providers insist on);
 * - private_key_jwt: a short-lived JWT signed with the connection's own key (RFC 7523 §2.2 and
 *   §3, OIDC Core §9); the key is made here, kept sealed like our other keys, and only its
 *   public half is ever shown, for the administrator to register at the IdP;
 * - none: a public client; PKCE (always sent, RFC 7636) is what binds the code to us.
 */
export const TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

export const SSO_SECRET_PURPOSE = "sso-client-secret";
export const SSO_CLIENT_KEY_PURPOSE = "sso-client-key";
/** A client assertion lives this long (RFC 7523 §3 asks for a short exp). */
const ASSERTION_TTL_S = 60;

/** Methods that need the client secret. */
export const usesSecret = (m: TokenEndpointAuthMethod) => m === "client_secret_basic" || m === "client_secret_post";

/** RFC 7638 JWK thumbprint of an EC public key: SHA-256 over the required members in lexical order. */
async function thumbprint(jwk: JsonWebKey): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return toBase64Url(await sha256(utf8(canonical)));
}

/** A new ES256 key pair for private_key_jwt: the private JWK sealed, the public JWK (kid = thumbprint) in clear. */
export async function newClientKey(keyEncryptionSecret: string): Promise<{ sealed: string; publicJwk: Record<string, string> }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const priv = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const pub = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  const kid = await thumbprint(pub);
  const publicJwk = { kty: "EC", crv: "P-256", x: String(pub.x), y: String(pub.y), kid, alg: "ES256", use: "sig" };
  const sealed = await seal(keyEncryptionSecret, SSO_CLIENT_KEY_PURPOSE, JSON.stringify({ ...priv, kid }));
  return { sealed, publicJwk };
}

/** RFC 7523 §3 client assertion: iss = sub = client_id, aud = the token endpoint, a fresh jti, exp a minute away. */
async function clientAssertion(svc: Services, c: SsoConnection, tokenEndpoint: string): Promise<string> {
  if (!c.clientKeySealed) throw new AuthError("not_configured", "the SSO connection has no client key");
  const jwk = JSON.parse(await open(svc.config.keyEncryptionSecret, SSO_CLIENT_KEY_PURPOSE, c.clientKeySealed)) as JsonWebKey & { kid: string };
  const key = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const now = Math.floor(Date.now() / 1000);
  const enc = (v: unknown) => toBase64Url(utf8(JSON.stringify(v)));
  const input = `${enc({ alg: "ES256", kid: jwk.kid, typ: "JWT" })}.${enc({ iss: c.clientId, sub: c.clientId, aud: tokenEndpoint, jti: randomToken(), iat: now, exp: now + ASSERTION_TTL_S })}`;
  // WebCrypto's ECDSA signature is r || s, which is exactly JWS's ES256 form (RFC 7518 §3.4).
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, utf8(input)));
  return `${input}.${toBase64Url(sig)}`;
}

/** Adds the connection's client authentication to a token request (form body and headers). */
export async function authenticateTokenRequest(svc: Services, c: SsoConnection, tokenEndpoint: string, body: URLSearchParams, headers: Record<string, string>): Promise<void> {
  const method = c.tokenEndpointAuthMethod;
  if (usesSecret(method)) {
    if (!c.clientSecretSealed) throw new AuthError("not_configured", "the SSO connection has no client secret");
    const secret = await open(svc.config.keyEncryptionSecret, SSO_SECRET_PURPOSE, c.clientSecretSealed);
    if (method === "client_secret_basic") {
      // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
      headers.authorization = `Basic ${toBase64(utf8(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(secret)}`))}`;
      body.delete("client_id");
    } else {
      body.set("client_id", c.clientId);
      body.set("client_secret", secret);
    }
    return;
  }
  body.set("client_id", c.clientId);
  if (method === "private_key_jwt") {
    body.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    body.set("client_assertion", await clientAssertion(svc, c, tokenEndpoint));
  }
}
