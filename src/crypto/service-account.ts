import { fromBase64, toBase64Url, utf8 } from "./encoding";

/**
 * Google service-account assertions (RFC 7523 §2.1 JWT bearer grant, RS256): how a featured
 * GSuite service provider's registration job authenticates to Google with the administrator's
 * service-account key. The key is a foreign RSA key handed to us for this one purpose: it
 * signs only this assertion, and nothing we verify ever accepts RS256 (crypto/jwt.ts stays
 * ES256-only).
 */

const PKCS8 = /^-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----$/;

/** Imports a PKCS#8 PEM RSA private key for RS256; throws when it is not one. */
export async function importServiceAccountKey(pem: string): Promise<CryptoKey> {
  const m = PKCS8.exec(pem.replace(/\\n/g, "\n").trim());
  if (!m) throw new Error("not a PKCS#8 PEM private key");
  return crypto.subtle.importKey("pkcs8", fromBase64(m[1]!.replace(/\s+/g, "")), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
}

/** A signed JWT of `claims` (header alg RS256, typ JWT). */
export async function signServiceAccountJwt(key: CryptoKey, claims: Record<string, unknown>): Promise<string> {
  const enc = (v: unknown) => toBase64Url(utf8(JSON.stringify(v)));
  const input = `${enc({ alg: "RS256", typ: "JWT" })}.${enc(claims)}`;
  const sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, utf8(input));
  return `${input}.${toBase64Url(new Uint8Array(sig))}`;
}
