import { toBase64Url, utf8 } from "../../crypto/encoding";
import { sha256 } from "../../crypto/hash";

/**
 * `at_hash` and `c_hash` (OIDC Core §3.1.3.6, §3.3.2.11): the base64url of the left half of
 * the hash of the token's ASCII octets, with the hash of the ID token's `alg`. Only ES256 is
 * signed here, so the hash is SHA-256 and the half is 16 bytes.
 */
export async function leftHalfHash(token: string): Promise<string> {
  const digest = await sha256(utf8(token));
  return toBase64Url(digest.subarray(0, digest.length / 2));
}
