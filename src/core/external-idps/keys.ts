import { fromBase64, utf8 } from "../../crypto/encoding";
import { certificateProblem } from "../service-providers/x509";

/**
 * The SP key pair of an external IdP connection (our AuthnRequest signing key and its
 * certificate) and the IdP's signing certificate, as WebCrypto keys.
 *
 * TODO(lead): src/crypto/x509.ts (`spkiOfCertificate`, `importCertificateKey`,
 * `importPrivateKeyPem`) was not on main when this was written; the small DER walk below does
 * the same and should be replaced by it once merged.
 */

export type SpKeyAlg = "RSA-SHA256" | "ECDSA-SHA256";

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const EC = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SIGN = { name: "ECDSA", hash: "SHA-256" };

function pemBody(text: string, label: string): Uint8Array | null {
  const m = new RegExp(`^-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----$`).exec(text.trim());
  const body = (m ? m[1]! : text.includes("-----") ? "" : text).replace(/\s+/g, "");
  if (!body || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return null;
  try {
    return fromBase64(body);
  } catch {
    return null;
  }
}

/** One DER TLV at `at` (definite lengths only): content start and end, or null. */
function tlv(der: Uint8Array, at: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > der.length) return null;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  return start + len <= der.length ? { tag: der[at]!, start, end: start + len } : null;
}

/**
 * The SubjectPublicKeyInfo DER of a certificate (RFC 5280 §4.1: tbsCertificate = [0] version
 * (optional), serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo).
 */
export function certificateSpki(cert: string): Uint8Array | null {
  if (certificateProblem(cert) !== null) return null;
  const der = pemBody(cert, "CERTIFICATE");
  if (!der) return null;
  const outer = tlv(der, 0);
  const tbs = outer && tlv(der, outer.start);
  if (!tbs) return null;
  let at = tbs.start;
  const first = tlv(der, at);
  if (first && first.tag === 0xa0) at = first.end;
  for (let i = 0; i < 5; i++) {
    const f = tlv(der, at);
    if (!f || f.end > tbs.end) return null;
    at = f.end;
  }
  const spki = tlv(der, at);
  if (!spki || spki.tag !== 0x30 || spki.end > tbs.end) return null;
  return der.slice(at, spki.end);
}

/** The certificate's public key for verifying (RSA PKCS#1 v1.5 or ECDSA P-256, SHA-256), with its algorithm, or null. */
export async function certificateKey(cert: string): Promise<{ key: CryptoKey; alg: SpKeyAlg } | null> {
  const spki = certificateSpki(cert);
  if (!spki) return null;
  for (const [params, alg] of [[RSA, "RSA-SHA256"], [EC, "ECDSA-SHA256"]] as const) {
    try {
      return { key: await crypto.subtle.importKey("spki", spki, params, true, ["verify"]), alg };
    } catch {
      // not this algorithm: try the next
    }
  }
  return null;
}

/** A PKCS#8 PEM (`BEGIN PRIVATE KEY`) signing key, RSA or EC P-256, or null. */
export async function importSpPrivateKey(pem: string): Promise<{ key: CryptoKey; alg: SpKeyAlg } | null> {
  if (pem.length > 16_384) return null;
  const der = pemBody(pem, "PRIVATE KEY");
  if (!der) return null;
  for (const [params, alg] of [[RSA, "RSA-SHA256"], [EC, "ECDSA-SHA256"]] as const) {
    try {
      return { key: await crypto.subtle.importKey("pkcs8", der, params, false, ["sign"]), alg };
    } catch {
      // not this algorithm: try the next
    }
  }
  return null;
}

const signParams = (alg: SpKeyAlg) => (alg === "RSA-SHA256" ? RSA : ECDSA_SIGN);

/**
 * Why the private key and the certificate are not one pair, or null. Checked by signing a probe
 * with the key and verifying it with the certificate's key: comparing key parameters would need
 * a parser per algorithm, and this proves exactly what an IdP will check.
 */
export async function keyPairProblem(certPem: string, keyPem: string): Promise<string | null> {
  if (/BEGIN (RSA|EC) PRIVATE KEY/.test(keyPem)) return "spPrivateKey must be PKCS#8 (-----BEGIN PRIVATE KEY-----)";
  const priv = await importSpPrivateKey(keyPem);
  if (!priv) return "spPrivateKey is not a PKCS#8 RSA or EC P-256 private key";
  const pub = await certificateKey(certPem);
  if (!pub) return "spSigningCertificate holds no RSA or EC P-256 public key";
  if (pub.alg !== priv.alg) return "spPrivateKey does not match spSigningCertificate";
  const probe = utf8(`edge-auth key pair probe ${crypto.randomUUID()}`);
  const sig = await crypto.subtle.sign(signParams(priv.alg), priv.key, probe);
  const ok = await crypto.subtle.verify(signParams(pub.alg), pub.key, sig, probe);
  return ok ? null : "spPrivateKey does not match spSigningCertificate";
}

export { signParams };
