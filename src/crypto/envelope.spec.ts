import { describe, expect, it } from "vitest";
import vectors from "../../test/fixtures/envelope-vectors.json";
import {
  decodePrivateKey,
  decryptEnvelope,
  deriveSharedKey,
  encryptEnvelope,
  EnvelopeError,
  generateKeyPair,
  parseCurveName,
  publicKeyOf,
  SharedKeyCache,
  signData,
  verifyDataSignature,
  type EnvelopeCurve,
} from "./envelope";
import { fromBase64, toBase64 } from "./encoding";

interface Vector {
  note?: string;
  a: { privateKey: string; publicKey: string };
  b: { privateKey: string; publicKey: string };
  sharedKey: string;
  plaintext: string;
  ciphertext: string;
}

const curves = Object.entries((vectors as { curves: Record<string, Vector[]> }).curves);

describe("envelope known-answer vectors (reference client library)", () => {
  it("has vectors for both curves, including a short private key", () => {
    expect(curves.map(([c]) => parseCurveName(c)).sort()).toEqual(["P-256", "secp256k1"]);
    expect(curves.flatMap(([, vs]) => vs).some((v) => fromBase64(v.a.privateKey).length < 32)).toBe(true);
  });

  for (const [name, list] of curves) {
    const curve = parseCurveName(name) as EnvelopeCurve;
    list.forEach((v, i) => {
      it(`${name} #${i}${v.note ? ` (${v.note})` : ""}: public keys, shared key from both sides, decryption`, async () => {
        expect(publicKeyOf(v.a.privateKey, curve)).toBe(v.a.publicKey);
        expect(publicKeyOf(v.b.privateKey, curve)).toBe(v.b.publicKey);
        const ab = deriveSharedKey(v.a.privateKey, v.b.publicKey, curve);
        const ba = deriveSharedKey(v.b.privateKey, v.a.publicKey, curve);
        expect(toBase64(ab)).toBe(v.sharedKey);
        expect(toBase64(ba)).toBe(v.sharedKey);
        expect(await decryptEnvelope(v.ciphertext, ab)).toBe(v.plaintext);
        expect(await decryptEnvelope(v.ciphertext, ba)).toBe(v.plaintext);
        // And our encryption is readable by the same key, with the wire layout iv16||ct||tag16.
        const mine = await encryptEnvelope(v.plaintext, ab);
        expect(fromBase64(mine).length).toBe(16 + new TextEncoder().encode(v.plaintext).length + 16);
        expect(await decryptEnvelope(mine, ba)).toBe(v.plaintext);
      });
    });
  }
});

describe("toBase64 across its 4 KiB chunks", () => {
  it("agrees with atob round trips for every length around the chunk boundaries", () => {
    for (const n of [0, 1, 2, 3, 4095, 4096, 4097, 8191, 8192, 8193, 40_000]) {
      const b = crypto.getRandomValues(new Uint8Array(n));
      const s = toBase64(b);
      expect(s.length).toBe(Math.ceil(n / 3) * 4);
      expect(fromBase64(s)).toEqual(b);
    }
    // Bytes 0x80-0xff are Latin-1 code points, not UTF-8: base64 of the raw bytes.
    expect(toBase64(new Uint8Array([0xff, 0x80, 0x00]))).toBe("/4AA");
  });
});

describe("envelope hostile input", () => {
  const curve: EnvelopeCurve = "secp256k1";
  const a = generateKeyPair(curve);
  const b = generateKeyPair(curve);
  const key = deriveSharedKey(a.privateKey, b.publicKey, curve);

  it("refuses a wrong key, a tampered ciphertext or tag, truncated base64 and short input", async () => {
    const ct = await encryptEnvelope('{"x":1}', key);
    const other = deriveSharedKey(generateKeyPair(curve).privateKey, b.publicKey, curve);
    await expect(decryptEnvelope(ct, other)).rejects.toBeInstanceOf(EnvelopeError);
    const raw = fromBase64(ct);
    for (const at of [0, 17, raw.length - 1]) {
      const t = raw.slice();
      t[at]! ^= 1;
      await expect(decryptEnvelope(toBase64(t), key)).rejects.toBeInstanceOf(EnvelopeError);
    }
    await expect(decryptEnvelope(ct.slice(0, -3), key)).rejects.toBeInstanceOf(EnvelopeError);
    await expect(decryptEnvelope(toBase64(raw.subarray(0, 31)), key)).rejects.toBeInstanceOf(EnvelopeError);
    await expect(decryptEnvelope("not base64!", key)).rejects.toBeInstanceOf(EnvelopeError);
  });

  it("refuses keys that are not keys", () => {
    expect(() => deriveSharedKey(a.privateKey, toBase64(new Uint8Array(64)), curve)).toThrow(EnvelopeError);
    expect(() => deriveSharedKey(a.privateKey, "abc", curve)).toThrow(EnvelopeError);
    expect(() => decodePrivateKey(toBase64(new Uint8Array(33)), curve)).toThrow(EnvelopeError);
    expect(() => decodePrivateKey(toBase64(new Uint8Array(32)), curve)).toThrow(EnvelopeError);
    // A secp256k1 point is (almost surely) not on P-256.
    expect(() => deriveSharedKey(generateKeyPair("P-256").privateKey, b.publicKey, "P-256")).toThrow(EnvelopeError);
  });

  it("caches shared keys per caller in a bounded LRU", () => {
    const cache = new SharedKeyCache(2);
    const priv = decodePrivateKey(a.privateKey, curve);
    const k1 = cache.get(priv, "k", b.publicKey, curve);
    expect(cache.get(priv, "k", b.publicKey, curve)).toBe(k1);
    cache.get(priv, "k", generateKeyPair(curve).publicKey, curve);
    cache.get(priv, "k", generateKeyPair(curve).publicKey, curve);
    expect(cache.size).toBe(2);
    expect(cache.hits).toBe(1);
  });

  it("signs response data verifiably with the service key", () => {
    const priv = decodePrivateKey(a.privateKey, curve);
    const sig = signData("payload", priv, curve);
    expect(verifyDataSignature("payload", sig, a.publicKey, curve)).toBe(true);
    expect(verifyDataSignature("payload!", sig, a.publicKey, curve)).toBe(false);
    expect(verifyDataSignature("payload", sig, b.publicKey, curve)).toBe(false);
  });
});
