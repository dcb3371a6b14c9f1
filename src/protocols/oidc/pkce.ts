import { toBase64Url } from "../../crypto/encoding";
import { sha256, timingSafeEqual } from "../../crypto/hash";
import { utf8 } from "../../crypto/encoding";

/**
 * Proof Key for Code Exchange, RFC 7636. Only S256 is accepted: `plain` sends the verifier
 * itself through the front channel and protects nothing against an attacker who reads the
 * authorization request (RFC 9700 §2.1.1 recommends S256), so a request for it is refused
 * rather than downgraded.
 */

/** RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
export function isCodeVerifier(v: string): boolean {
  return /^[A-Za-z0-9\-._~]{43,128}$/.test(v);
}

/** An S256 challenge is BASE64URL(SHA-256(verifier)): exactly 43 base64url characters. */
export function isS256Challenge(c: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(c);
}

/** BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 §4.2. */
export async function s256Challenge(verifier: string): Promise<string> {
  return toBase64Url(await sha256(utf8(verifier)));
}

/** RFC 7636 §4.6: whether `verifier` answers `challenge` (S256), compared in constant time. */
export async function verifyS256(challenge: string, verifier: string): Promise<boolean> {
  if (!isCodeVerifier(verifier) || !isS256Challenge(challenge)) return false;
  return timingSafeEqual(utf8(await s256Challenge(verifier)), utf8(challenge));
}
