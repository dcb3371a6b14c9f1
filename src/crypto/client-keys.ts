import { toBase64Url, utf8 } from "./encoding";
import { sha256 } from "./hash";
import { open, seal } from "./secret-box";

/**
 * ES256 key pairs that this service holds as an OAuth client of another provider (for
 * `private_key_jwt`, RFC 7523), and the JWTs signed with them. The private key exists only
 * sealed (secret-box.ts) under the deployment's key-encryption secret; only the public JWK is
 * ever shown, for an administrator to register at the provider.
 */

/** RFC 7638 JWK thumbprint of an EC public key: SHA-256 over the required members in lexical order. */
async function thumbprint(jwk: JsonWebKey): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return toBase64Url(await sha256(utf8(canonical)));
}

/** A new P-256 key pair: the private JWK sealed for `purpose`, the public JWK (kid = thumbprint) in clear. */
export async function newSealedEs256Key(keyEncryptionSecret: string, purpose: string): Promise<{ sealed: string; publicJwk: Record<string, string> }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const priv = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const pub = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  const kid = await thumbprint(pub);
  const publicJwk = { kty: "EC", crv: "P-256", x: String(pub.x), y: String(pub.y), kid, alg: "ES256", use: "sig" };
  const sealed = await seal(keyEncryptionSecret, purpose, JSON.stringify({ ...priv, kid }));
  return { sealed, publicJwk };
}

/** A compact JWS (ES256, `typ: JWT`, `kid` of the key) over `claims`, signed with a sealed key. */
export async function signWithSealedEs256Key(keyEncryptionSecret: string, purpose: string, sealed: string, claims: Record<string, unknown>): Promise<string> {
  const jwk = JSON.parse(await open(keyEncryptionSecret, purpose, sealed)) as JsonWebKey & { kid: string };
  const key = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const enc = (v: unknown) => toBase64Url(utf8(JSON.stringify(v)));
  const input = `${enc({ alg: "ES256", kid: jwk.kid, typ: "JWT" })}.${enc(claims)}`;
  // WebCrypto's ECDSA signature is r || s, which is exactly JWS's ES256 form (RFC 7518 §3.4).
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, utf8(input)));
  return `${input}.${toBase64Url(sig)}`;
}
