import { secp256k1 } from "@noble/curves/secp256k1.js";
import { p256 } from "@noble/curves/nist.js";
import { compactVerify, importJWK } from "jose";
import { fromBase64, fromBase64Url, fromHex, fromUtf8, toBase64, utf8 } from "./encoding";

/**
 * Keys held by outside parties that this service only verifies with: a UWL authenticator's
 * public key (its wallet signs our nonces) and a face-verification service's verdict key.
 *
 * UWL public keys (docs/api/authn.md "UWL"), on P-256 or secp256k1:
 *  - base64 (or hex) of the 64-byte point WITHOUT the 0x04 prefix: the Authn envelope's own
 *    encoding (DESIGN.md "The Authn API envelope"), which the wallet apps use for their keys;
 *  - base64 (or hex) of a SEC1 point: 65 bytes uncompressed (0x04...) or 33 compressed.
 * Stored normalised as base64 of the 65-byte uncompressed point, so one key has one spelling.
 *
 * Signatures: ECDSA with SHA-256 over the UTF-8 bytes of the signed string, as compact r || s
 * (64 bytes) or ASN.1 DER, in base64, base64url or hex. High-s signatures are accepted (the
 * envelope accepts them too; malleability does not matter for a single-use nonce).
 */
export type AuthenticatorCurve = "P-256" | "secp256k1";
export const AUTHENTICATOR_CURVES: readonly AuthenticatorCurve[] = ["P-256", "secp256k1"];

const curveOf = (c: AuthenticatorCurve) => (c === "P-256" ? p256 : secp256k1);

/** Decodes base64, base64url or hex; null when it is none of them. */
function decodeFlexible(s: string): Uint8Array | null {
  const t = s.trim();
  if (t.length === 0 || t.length > 1024) return null;
  try {
    if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) return fromHex(t);
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return fromBase64(t.length % 4 === 0 ? t : t + "=".repeat((4 - (t.length % 4)) % 4));
    if (/^[A-Za-z0-9_-]+$/.test(t)) return fromBase64Url(t);
  } catch {
    return null;
  }
  return null;
}

/**
 * Parses an authenticator public key on `curve`: the normalised form (base64 of the 65-byte
 * uncompressed point), or null when it is not a valid point on that curve.
 */
export function normaliseAuthenticatorKey(encoded: string, curve: AuthenticatorCurve): string | null {
  const raw = decodeFlexible(encoded);
  if (!raw) return null;
  const bytes = raw.length === 64 ? Uint8Array.of(0x04, ...raw) : raw;
  if (!(bytes.length === 65 && bytes[0] === 0x04) && !(bytes.length === 33 && (bytes[0] === 0x02 || bytes[0] === 0x03))) return null;
  try {
    const point = curveOf(curve).Point.fromBytes(bytes);
    point.assertValidity();
    return toBase64(point.toBytes(false));
  } catch {
    return null;
  }
}

/**
 * Whether `signature` is the ECDSA/SHA-256 signature of `message` by `normalisedKey` (as
 * normaliseAuthenticatorKey returns it). Never throws: malformed input is simply false.
 */
export function verifyAuthenticatorSignature(normalisedKey: string, curve: AuthenticatorCurve, message: string, signature: string): boolean {
  const sig = decodeFlexible(signature);
  if (!sig) return false;
  let pub: Uint8Array;
  try {
    pub = fromBase64(normalisedKey);
  } catch {
    return false;
  }
  const c = curveOf(curve);
  const format = sig.length === 64 ? "compact" : sig[0] === 0x30 ? "der" : null;
  if (!format) return false;
  try {
    return c.verify(sig, utf8(message), pub, { prehash: true, lowS: false, format });
  } catch {
    return false;
  }
}

/**
 * A face-verification verdict: a compact JWS (RFC 7515) signed ES256 by the key the tenant
 * configured for its service (a P-256 public JWK). Answers the payload when the signature
 * checks and the header names ES256; null otherwise. The claims are the caller's to check.
 */
export async function verifyVerdictJws(jws: string, jwk: { kty: string; crv: string; x: string; y: string }): Promise<Record<string, unknown> | null> {
  if (typeof jws !== "string" || jws.length > 16_384 || jws.split(".").length !== 3) return null;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") return null;
  try {
    const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, "ES256");
    const { payload, protectedHeader } = await compactVerify(jws, key, { algorithms: ["ES256"] });
    if (protectedHeader.alg !== "ES256") return null;
    const claims = JSON.parse(fromUtf8(payload)) as unknown;
    return claims && typeof claims === "object" && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
