import { toBase64Url, toHex, utf8 } from "./encoding";

/** SHA-256 of a UTF-8 string, hex. Secrets are stored and looked up by this, never as-is. */
export async function sha256Hex(s: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(s))));
}

export async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", b));
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let k = hmacKeys.get(secret);
  if (!k) {
    k = crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(secret, k);
  }
  return k;
}

/** HMAC-SHA256(secret, message); the key is imported once per isolate. */
export async function hmacSha256(secret: string, message: Uint8Array | string): Promise<Uint8Array> {
  const data = typeof message === "string" ? utf8(message) : message;
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), data));
}

export async function hmacSha256B64Url(secret: string, message: string): Promise<string> {
  return toBase64Url(await hmacSha256(secret, message));
}

/** Constant-time comparison of two byte strings (length is not secret). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Constant-time comparison of strings, by comparing their SHA-256 digests. */
export async function timingSafeEqualString(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([sha256(utf8(a)), sha256(utf8(b))]);
  return timingSafeEqual(da, db);
}
