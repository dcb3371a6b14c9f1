import { concatBytes, fromBase64, toBase64, utf8, fromUtf8 } from "./encoding";
import { randomBytes } from "./random";

/**
 * Encryption at rest for secrets kept in D1 (signing keys, envelope keys, TOTP seeds, IdP
 * private keys): AES-256-GCM under a key derived with HKDF from the KEY_ENCRYPTION_SECRET
 * Worker secret, with a purpose label as HKDF info so that one purpose's ciphertext cannot be
 * replayed as another's. Format: base64(iv(12) || ciphertext || tag).
 */
const boxKeys = new Map<string, Promise<CryptoKey>>();

function boxKey(secret: string, purpose: string): Promise<CryptoKey> {
  const id = `${purpose}\u0000${secret}`;
  let k = boxKeys.get(id);
  if (!k) {
    k = (async () => {
      const ikm = await crypto.subtle.importKey("raw", utf8(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: utf8("edge-auth secret-box v1"), info: utf8(purpose) },
        ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    boxKeys.set(id, k);
  }
  return k;
}

export async function seal(secret: string, purpose: string, plaintext: string): Promise<string> {
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await boxKey(secret, purpose), utf8(plaintext));
  return toBase64(concatBytes(iv, new Uint8Array(ct)));
}

/** Decrypts a sealed value; throws if it was tampered with or sealed for another purpose. */
export async function open(secret: string, purpose: string, sealed: string): Promise<string> {
  const raw = fromBase64(sealed);
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: raw.subarray(0, 12) }, await boxKey(secret, purpose), raw.subarray(12));
  return fromUtf8(new Uint8Array(pt));
}

/**
 * Seals `plaintext` under a key derived from a one-off secret (e.g. a refresh token), without
 * caching the key: only a holder of that secret can open it. Used for the successor of a
 * rotated refresh token, which a retry of the old token must receive again.
 */
export async function sealWithSecret(secret: string, plaintext: string): Promise<string> {
  const key = await oneOffKey(secret);
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, utf8(plaintext));
  return toBase64(concatBytes(iv, new Uint8Array(ct)));
}

export async function openWithSecret(secret: string, sealed: string): Promise<string> {
  const raw = fromBase64(sealed);
  const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: raw.subarray(0, 12) }, await oneOffKey(secret), raw.subarray(12));
  return fromUtf8(new Uint8Array(pt));
}

async function oneOffKey(secret: string): Promise<CryptoKey> {
  const digest = await crypto.subtle.digest("SHA-256", utf8(`edge-auth one-off v1\u0000${secret}`));
  return crypto.subtle.importKey("raw", digest, "AES-GCM", false, ["encrypt", "decrypt"]);
}
