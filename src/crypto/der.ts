/**
 * The slice of DER (ITU-T X.690) that certificates and private keys need: a strict reader of
 * definite-length TLVs with single-byte tags, and the writer for the few types a certificate is
 * built from. Strict on purpose: what it reads is pasted by administrators or comes from SAML
 * metadata, so anything that is not minimal DER is refused rather than guessed at.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** A constructed context-specific tag [n] (X.690 §8.1.2), as EXPLICIT tagging uses. */
export const contextTag = (n: number): number => 0xa0 | n;

/** One TLV: its tag, the offset of its header, and its content's [start, end). */
export interface Tlv {
  tag: number;
  at: number;
  start: number;
  end: number;
}

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** The TLV at `at`, its content within `end`; null when the bytes are not one. */
export function readTlv(der: Uint8Array, at: number, end: number = der.length): Tlv | null {
  if (at + 2 > end) return null;
  const tag = der[at]!;
  // High tag numbers (0x1f) never occur in the structures read here.
  if ((tag & 0x1f) === 0x1f) return null;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // Definite lengths of 1 to 4 bytes only (DER, X.690 §10.1); 0x80 (indefinite) is BER.
    if (n === 0 || n > 4 || start + n > end) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > end) return null;
  return { tag, at, start, end: start + len };
}

/** The children of a constructed TLV, which must fill it exactly; null otherwise. */
export function readChildren(der: Uint8Array, parent: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const t = readTlv(der, at, parent.end);
    if (!t) return null;
    out.push(t);
    at = t.end;
  }
  return out;
}

/** The whole of `der` as one TLV with nothing after it, or null. */
export function readWhole(der: Uint8Array): Tlv | null {
  const t = readTlv(der, 0, der.length);
  return t && t.end === der.length ? t : null;
}

export function content(der: Uint8Array, t: Tlv): Uint8Array {
  return der.subarray(t.start, t.end);
}

/** The bytes of the whole TLV, header included. */
export function encoded(der: Uint8Array, t: Tlv): Uint8Array {
  return der.subarray(t.at, t.end);
}

/** An OBJECT IDENTIFIER's dotted form (X.690 §8.19); null when malformed. */
export function readOid(der: Uint8Array, t: Tlv): string | null {
  if (t.tag !== TAG.OID || t.end === t.start) return null;
  const arcs: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const b = der[i]!;
    if (v === 0 && b === 0x80) return null; // not minimal
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) return null;
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0;
    } else if (i === t.end - 1) return null; // truncated arc
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join(".");
}

// ---- writing ---------------------------------------------------------------------------

function lengthBytes(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** One TLV around the concatenation of `parts`. */
export function derTlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = lengthBytes(len);
  const out = new Uint8Array(1 + head.length + len);
  out[0] = tag;
  out.set(head, 1);
  let o = 1 + head.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const derSequence = (...parts: Uint8Array[]): Uint8Array => derTlv(TAG.SEQUENCE, ...parts);
export const derSet = (...parts: Uint8Array[]): Uint8Array => derTlv(TAG.SET, ...parts);
export const derNull = (): Uint8Array => Uint8Array.of(TAG.NULL, 0);
export const derOctetString = (b: Uint8Array): Uint8Array => derTlv(TAG.OCTET_STRING, b);
export const derBoolean = (v: boolean): Uint8Array => Uint8Array.of(TAG.BOOLEAN, 1, v ? 0xff : 0);
export const derUtf8String = (s: string): Uint8Array => derTlv(TAG.UTF8_STRING, new TextEncoder().encode(s));
/** A BIT STRING of whole bytes (no unused bits), as keys and signatures are. */
export const derBitString = (b: Uint8Array): Uint8Array => derTlv(TAG.BIT_STRING, Uint8Array.of(0), b);
export const derExplicit = (n: number, inner: Uint8Array): Uint8Array => derTlv(contextTag(n), inner);

/** A non-negative INTEGER from big-endian magnitude bytes, minimal (X.690 §8.3.2). */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  const body = m.length === 0 ? Uint8Array.of(0) : m[0]! & 0x80 ? Uint8Array.of(0, ...m) : m;
  return derTlv(TAG.INTEGER, body);
}

export const derSmallInteger = (n: number): Uint8Array => derUnsignedInteger(Uint8Array.of(n));

export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const body: number[] = [];
  const push = (v: number) => {
    const groups = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    body.push(...groups);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return derTlv(TAG.OID, Uint8Array.from(body));
}

/**
 * A certificate validity time (RFC 5280 §4.1.2.5): UTCTime YYMMDDHHMMSSZ through 2049,
 * GeneralizedTime YYYYMMDDHHMMSSZ from 2050; always UTC, seconds, no fractions.
 */
export function derTime(d: Date): Uint8Array {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  return y >= 1950 && y < 2050 ? derTlv(TAG.UTC_TIME, ascii(`${p(y % 100)}${rest}`)) : derTlv(TAG.GENERALIZED_TIME, ascii(`${p(y, 4)}${rest}`));
}
