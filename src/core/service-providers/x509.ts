import { fromBase64 } from "../../crypto/encoding";

/**
 * Enough X.509 parsing to refuse garbage in a SAML service provider's `signingCert` and
 * `encryptionCert` (PEM, or the bare base64 that SAML metadata's <ds:X509Certificate> holds).
 * It checks the DER structure of RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate
 * SEQUENCE, signatureAlgorithm SEQUENCE, signatureValue BIT STRING }, each length exact and
 * nothing after the outer SEQUENCE. It does not verify signatures or validity dates: a SAML SP
 * certificate is a key holder (often self-signed), trusted because an administrator registered it.
 */

const MAX_CERT_CHARS = 16_384;

/** The DER bytes of a PEM or bare-base64 certificate, or null when it is neither. */
function derOf(text: string): Uint8Array | null {
  let body = text.trim();
  const pem = /^-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----$/.exec(body);
  if (pem) body = pem[1]!;
  else if (body.includes("-----")) return null;
  body = body.replace(/\s+/g, "");
  if (body.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return null;
  try {
    return fromBase64(body);
  } catch {
    return null;
  }
}

/** One DER TLV at `at`: its tag, the start of its content and the end (exclusive), or null. */
function tlv(der: Uint8Array, at: number, end: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > end) return null;
  const tag = der[at]!;
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
  return { tag, start, end: start + len };
}

const SEQUENCE = 0x30;
const BIT_STRING = 0x03;

/** Why `text` is not an X.509 certificate, or null when its structure is one. */
export function certificateProblem(text: string): string | null {
  if (text.length > MAX_CERT_CHARS) return `is longer than ${MAX_CERT_CHARS} characters`;
  const der = derOf(text);
  if (!der) return "is not a PEM or base64 certificate";
  const outer = tlv(der, 0, der.length);
  if (!outer || outer.tag !== SEQUENCE || outer.end !== der.length) return "is not a DER X.509 certificate";
  const tbs = tlv(der, outer.start, outer.end);
  const alg = tbs && tlv(der, tbs.end, outer.end);
  const sig = alg && tlv(der, alg.end, outer.end);
  if (!tbs || tbs.tag !== SEQUENCE || !alg || alg.tag !== SEQUENCE || !sig || sig.tag !== BIT_STRING || sig.end !== outer.end) {
    return "is not a DER X.509 certificate (RFC 5280 §4.1)";
  }
  return null;
}
