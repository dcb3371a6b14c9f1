import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./encoding";
import { sha256 } from "./hash";
import type { Keyring, PublicJwk } from "./keys";

/**
 * Detached-payload JWS (RFC 7515 Appendix F) signed with the deployment's JWT keyring (ES256),
 * for documents that are signed but travel as JSON of their own, such as consent receipts: the
 * signature is `<protected header>..<signature>`, and a verifier rebuilds the payload from the
 * document. Any JOSE library verifies it once the payload is put back between the dots.
 *
 * The header's `typ` names the kind of document (RFC 8725 §3.11), so a signature made here can
 * never pass as a token: crypto/jwt.ts demands the token kinds' own `typ` values.
 */
const ES256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

export interface DetachedSignature {
  /** `<base64url(header)>..<base64url(signature)>` */
  jws: string;
  kid: string;
  /** RFC 9278 JWK thumbprint URI of the signing key (RFC 7638, SHA-256). */
  thumbprintUri: string;
}

/** RFC 7638 §3.2: the thumbprint of an EC key hashes {crv, kty, x, y} in that order, no spaces. */
export async function jwkThumbprint(jwk: Pick<JsonWebKey, "crv" | "kty" | "x" | "y">): Promise<string> {
  const members = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return toBase64Url(await sha256(utf8(members)));
}

/** RFC 9278 §3: `urn:ietf:params:oauth:jwk-thumbprint:sha-256:<thumbprint>`. */
export async function jwkThumbprintUri(jwk: Pick<JsonWebKey, "crv" | "kty" | "x" | "y">): Promise<string> {
  return `urn:ietf:params:oauth:jwk-thumbprint:sha-256:${await jwkThumbprint(jwk)}`;
}

async function currentPublicJwk(keyring: Keyring, kid: string): Promise<PublicJwk> {
  const jwk = (await keyring.jwks()).keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error("the signing key is not in the published key set");
  return jwk;
}

/**
 * Signs with the keyring's current key. `build` receives the signing key's kid and thumbprint
 * URI first, so the document can name the key inside what is signed.
 */
export async function signDetached(keyring: Keyring, typ: string, build: (key: { kid: string; thumbprintUri: string }) => Uint8Array): Promise<DetachedSignature> {
  const { kid, key } = await keyring.signingKey();
  const thumbprintUri = await jwkThumbprintUri(await currentPublicJwk(keyring, kid));
  const header = toBase64Url(utf8(JSON.stringify({ alg: "ES256", kid, typ })));
  const payload = toBase64Url(build({ kid, thumbprintUri }));
  const sig = await crypto.subtle.sign(SIGN, key, utf8(`${header}.${payload}`));
  return { jws: `${header}..${toBase64Url(new Uint8Array(sig))}`, kid, thumbprintUri };
}

export interface DetachedHeader {
  alg: string;
  kid: string;
  typ: string;
}

/** The protected header of a detached JWS, or null when it is not one of ours in shape. */
export function detachedHeader(jws: unknown): DetachedHeader | null {
  if (typeof jws !== "string" || jws.length > 1024) return null;
  const parts = jws.split(".");
  if (parts.length !== 3 || parts[1] !== "") return null;
  try {
    const h = JSON.parse(fromUtf8(fromBase64Url(parts[0]!))) as Record<string, unknown>;
    if (typeof h.alg !== "string" || typeof h.kid !== "string" || typeof h.typ !== "string") return null;
    // RFC 7515 §4.1.11: a header naming extensions we do not understand must be refused.
    if ("crit" in h || "b64" in h) return null;
    return { alg: h.alg, kid: h.kid, typ: h.typ };
  } catch {
    return null;
  }
}

/**
 * Verifies a detached JWS over `payload` with a public JWK (as a third party would, from the
 * JWKS): ES256 only, the expected `typ`, the key's kid. False on any mismatch, never throws.
 */
export async function verifyDetached(jws: string, payload: Uint8Array, typ: string, jwk: JsonWebKey & { kid?: string }): Promise<boolean> {
  const h = detachedHeader(jws);
  if (!h || h.alg !== "ES256" || h.typ !== typ || (jwk.kid !== undefined && jwk.kid !== h.kid)) return false;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") return false;
  const [header, , sig] = jws.split(".") as [string, string, string];
  try {
    const key = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, ES256, false, ["verify"]);
    return await crypto.subtle.verify(SIGN, key, fromBase64Url(sig), utf8(`${header}.${toBase64Url(payload)}`));
  } catch {
    return false;
  }
}

/** The keyring's published key for `kid` (current or previous), or null once it is retired. */
export async function publishedKey(keyring: Keyring, kid: string): Promise<PublicJwk | null> {
  if (!(await keyring.verificationKey(kid))) return null;
  return (await keyring.jwks()).keys.find((k) => k.kid === kid) ?? null;
}
