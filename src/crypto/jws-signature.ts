import { fromBase64Url, fromUtf8, utf8 } from "./encoding";
import { ALLOWED_ALGORITHMS } from "./jwt";
import type { Keyring } from "./keys";

/**
 * The signature check of one of our own JWS (RFC 7515), and nothing else: no exp, no aud.
 * For the few places where a token we signed is evidence even after it expired: OpenID
 * RP-Initiated Logout 1.0 §2 accepts an expired `id_token_hint`. Every other use goes
 * through jwt.ts `verifyJwt`, which checks the claims too. ES256 only, as there; the
 * WebCrypto ECDSA signature is the JWS form (r || s, RFC 7518 §3.4).
 */
export async function verifiedJwsPayload(keyring: Keyring, token: string): Promise<{ typ: string | null; payload: Record<string, unknown> } | null> {
  if (typeof token !== "string" || token.length > 8192) return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(fromUtf8(fromBase64Url(parts[0]!))) as Record<string, unknown>;
    if (typeof header.alg !== "string" || !ALLOWED_ALGORITHMS.includes(header.alg) || typeof header.kid !== "string") return null;
    const key = await keyring.verificationKey(header.kid);
    if (!key) return null;
    const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, fromBase64Url(parts[2]!), utf8(`${parts[0]}.${parts[1]}`));
    if (!ok) return null;
    const payload = JSON.parse(fromUtf8(fromBase64Url(parts[1]!))) as unknown;
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) return null;
    return { typ: typeof header.typ === "string" ? header.typ : null, payload: payload as Record<string, unknown> };
  } catch {
    return null;
  }
}
