// TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) with Node's own crypto, for the demo's
// TOTP user: the dev script and the harness generate its secret, the e2e tests and the
// screenshot script compute its codes. Independent of the Worker's implementation on purpose.
import { createHmac, randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 §6 base32, no padding. */
export function base32Encode(bytes) {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(s) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, "")) {
    const i = ALPHABET.indexOf(c);
    if (i < 0) throw new Error("not base32");
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new 160-bit secret (RFC 4226 §4 recommends 160 bits), 32 base32 characters. */
export function randomTotpSecret() {
  return base32Encode(randomBytes(20));
}

/** The code for `secret` at time `now` (ms), optionally `stepOffset` steps away (RFC 6238 §4, RFC 4226 §5.3). */
export function totpCode(secret, now = Date.now(), stepOffset = 0) {
  const step = Math.floor(now / 1000 / 30) + stepOffset;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}
