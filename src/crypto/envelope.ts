import { secp256k1 } from "@noble/curves/secp256k1.js";
import { p256 } from "@noble/curves/nist.js";
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from "./encoding";
import { randomBytes } from "./random";

/**
 * The Authn API envelope (DESIGN.md "The Authn API envelope"), byte-compatible with the
 * existing client libraries (1Kosmos BIDECDSA):
 * - private key: base64 of the 32-byte scalar (the reference library drops leading zero bytes,
 *   so shorter encodings are left-padded here);
 * - public key: base64 of the 64-byte uncompressed point without the 0x04 prefix;
 * - shared key: the 32-byte ECDH x-coordinate, used directly as the AES-256-GCM key
 *   (@noble/curves returns the compressed point, 33 bytes: the key follows the prefix byte);
 * - ciphertext: base64(iv (16 random bytes) || ciphertext || tag (16 bytes)).
 */
export type EnvelopeCurve = "secp256k1" | "P-256";

/** Raised for any malformed key, ciphertext or plaintext; the message is safe to show. */
export class EnvelopeError extends Error {}

const IV_BYTES = 16;
const TAG_BYTES = 16;
/** Largest envelope the service decrypts (base64 characters); bodies are capped anyway. */
const MAX_CIPHERTEXT_CHARS = 96 * 1024;

function curveOf(curve: EnvelopeCurve) {
  return curve === "P-256" ? p256 : secp256k1;
}

/** Accepts the names the document and Node use for each curve. */
export function parseCurveName(name: string): EnvelopeCurve | null {
  const n = name.toLowerCase();
  if (n === "secp256k1") return "secp256k1";
  if (n === "p-256" || n === "p256" || n === "prime256v1" || n === "secp256r1") return "P-256";
  return null;
}

/** Decodes a private key: base64 of at most 32 bytes, left-padded to 32, in range. */
export function decodePrivateKey(privB64: string, curve: EnvelopeCurve): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = fromBase64(privB64.trim());
  } catch {
    throw new EnvelopeError("private key is not valid base64");
  }
  if (raw.length === 0 || raw.length > 32) throw new EnvelopeError("private key must be a base64 32-byte scalar");
  const key = new Uint8Array(32);
  key.set(raw, 32 - raw.length);
  if (!curveOf(curve).utils.isValidSecretKey(key)) throw new EnvelopeError("private key is out of range for " + curve);
  return key;
}

/**
 * Decodes a public key: base64 of the 64-byte point without 0x04 (the wire format); the
 * 65-byte form with the prefix is accepted too. The point must lie on the curve.
 */
export function decodePublicKey(pubB64: string, curve: EnvelopeCurve): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = fromBase64(pubB64.trim());
  } catch {
    throw new EnvelopeError("public key is not valid base64");
  }
  let point: Uint8Array;
  if (raw.length === 64) point = concatBytes(new Uint8Array([4]), raw);
  else if (raw.length === 65 && raw[0] === 4) point = raw;
  else throw new EnvelopeError("public key must be a base64 64-byte uncompressed point");
  try {
    curveOf(curve).Point.fromBytes(point).assertValidity();
  } catch {
    throw new EnvelopeError(`public key is not a point on ${curve}`);
  }
  return point;
}

/** The wire encoding of a public key: base64 of X || Y (64 bytes, no 0x04). */
export function encodePublicKey(point: Uint8Array): string {
  return toBase64(point.length === 65 ? point.subarray(1) : point);
}

/** A new key pair in the wire encoding. */
export function generateKeyPair(curve: EnvelopeCurve): { privateKey: string; publicKey: string } {
  const c = curveOf(curve);
  const secret = c.utils.randomSecretKey();
  return { privateKey: toBase64(secret), publicKey: encodePublicKey(c.getPublicKey(secret, false)) };
}

/** The public key (wire encoding) of a private key. */
export function publicKeyOf(privB64: string, curve: EnvelopeCurve): string {
  return encodePublicKey(curveOf(curve).getPublicKey(decodePrivateKey(privB64, curve), false));
}

/** ECDH: the 32-byte x-coordinate of priv·peer, the AES-256-GCM key of the envelope. */
export function deriveSharedKey(privB64: string, peerPubB64: string, curve: EnvelopeCurve): Uint8Array {
  return deriveSharedKeyRaw(decodePrivateKey(privB64, curve), peerPubB64, curve);
}

function deriveSharedKeyRaw(priv: Uint8Array, peerPubB64: string, curve: EnvelopeCurve): Uint8Array {
  const point = decodePublicKey(peerPubB64, curve);
  // Compressed shared point: 0x02/0x03 || x. The key is x.
  return curveOf(curve).getSharedSecret(priv, point, true).slice(1);
}

/** Imported AES keys, one per shared-key byte array (the LRU keeps those arrays alive). */
const aesKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function aesKey(sharedKey: Uint8Array): Promise<CryptoKey> {
  let k = aesKeys.get(sharedKey);
  if (!k) {
    if (sharedKey.length !== 32) throw new EnvelopeError("shared key must be 32 bytes");
    k = crypto.subtle.importKey("raw", sharedKey, "AES-GCM", false, ["encrypt", "decrypt"]);
    aesKeys.set(sharedKey, k);
  }
  return k;
}

/** enc(plaintext) = base64(iv16 || AES-256-GCM(ciphertext || tag16)). */
export async function encryptEnvelope(plaintext: string, sharedKey: Uint8Array): Promise<string> {
  const iv = randomBytes(IV_BYTES);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, tagLength: TAG_BYTES * 8 }, await aesKey(sharedKey), utf8(plaintext));
  return toBase64(concatBytes(iv, new Uint8Array(ct)));
}

/** Decrypts an envelope; throws EnvelopeError when it is malformed, tampered with or not UTF-8. */
export async function decryptEnvelope(b64: string, sharedKey: Uint8Array): Promise<string> {
  if (typeof b64 !== "string" || b64.length > MAX_CIPHERTEXT_CHARS) throw new EnvelopeError("ciphertext is too long");
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64.trim());
  } catch {
    throw new EnvelopeError("ciphertext is not valid base64");
  }
  if (raw.length < IV_BYTES + TAG_BYTES) throw new EnvelopeError("ciphertext is too short");
  let pt: ArrayBuffer;
  try {
    pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: raw.subarray(0, IV_BYTES), tagLength: TAG_BYTES * 8 }, await aesKey(sharedKey), raw.subarray(IV_BYTES));
  } catch {
    throw new EnvelopeError("ciphertext could not be decrypted with this key");
  }
  try {
    return fromUtf8(new Uint8Array(pt));
  } catch {
    throw new EnvelopeError("plaintext is not valid UTF-8");
  }
}

/**
 * Bounded LRU of shared keys per (service key, caller public key), kept per isolate: only a
 * caller's first request pays for ECDH (about 2 ms with noble). Map iteration order is
 * insertion order, so re-inserting on a hit and evicting the first entry is an LRU.
 */
export class SharedKeyCache {
  private readonly map = new Map<string, Uint8Array>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity = 2048) {}

  /** The shared key for `peerPubB64`; throws EnvelopeError for an invalid public key. */
  get(servicePriv: Uint8Array, serviceKid: string, peerPubB64: string, curve: EnvelopeCurve): Uint8Array {
    const id = `${curve}|${serviceKid}|${peerPubB64}`;
    const hit = this.map.get(id);
    if (hit) {
      this.hits++;
      this.map.delete(id);
      this.map.set(id, hit);
      return hit;
    }
    this.misses++;
    const key = deriveSharedKeyRaw(servicePriv, peerPubB64, curve);
    if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(id, key);
    return key;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * The service's ECDSA signature over a response's `data` string (the `signature_token`):
 * ECDSA with SHA-256 over the UTF-8 bytes of the encrypted data, compact r || s (64 bytes),
 * base64. A caller verifies it with the key from GET /publickeys (docs/api/authn.md).
 */
export function signData(data: string, servicePriv: Uint8Array, curve: EnvelopeCurve): string {
  return toBase64(curveOf(curve).sign(utf8(data), servicePriv, { prehash: true, lowS: true }));
}

/** Verifies a `signature_token` made by signData against a wire-encoded public key. */
export function verifyDataSignature(data: string, signatureB64: string, pubB64: string, curve: EnvelopeCurve): boolean {
  try {
    const sig = fromBase64(signatureB64);
    if (sig.length !== 64) return false;
    return curveOf(curve).verify(sig, utf8(data), decodePublicKey(pubB64, curve), { prehash: true, lowS: false });
  } catch {
    return false;
  }
}
