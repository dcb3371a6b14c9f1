import { toBase64Url } from "./encoding";

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** An opaque secret of 256 random bits, base64url (refresh tokens, sessions, ktokens). */
export function randomToken(): string {
  return toBase64Url(randomBytes(32));
}

export function uuid(): string {
  return crypto.randomUUID();
}

/**
 * A code of `length` characters from `alphabet`, without modulo bias (rejection sampling).
 * Used for emailed confirmation codes, which people type.
 */
export function randomCode(length: number, alphabet = "0123456789"): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}
