import { newSealedEs256Key, signWithSealedEs256Key } from "../../crypto/client-keys";
import { toBase64, utf8 } from "../../crypto/encoding";
import { randomToken } from "../../crypto/random";
import { open } from "../../crypto/secret-box";
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

/** A new ES256 key pair for private_key_jwt: the private JWK sealed, the public JWK (kid = thumbprint) in clear. */
export function newClientKey(keyEncryptionSecret: string): Promise<{ sealed: string; publicJwk: Record<string, string> }> {
  return newSealedEs256Key(keyEncryptionSecret, SSO_CLIENT_KEY_PURPOSE);
}

/** RFC 7523 §3 client assertion: iss = sub = client_id, aud = the token endpoint, a fresh jti, exp a minute away. */
async function clientAssertion(svc: Services, c: SsoConnection, tokenEndpoint: string): Promise<string> {
  if (!c.clientKeySealed) throw new AuthError("not_configured", "the SSO connection has no client key");
  const now = Math.floor(Date.now() / 1000);
  return signWithSealedEs256Key(svc.config.keyEncryptionSecret, SSO_CLIENT_KEY_PURPOSE, c.clientKeySealed, {
    iss: c.clientId,
    sub: c.clientId,
    aud: tokenEndpoint,
    jti: randomToken(),
    iat: now,
    exp: now + ASSERTION_TTL_S,
  });
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
