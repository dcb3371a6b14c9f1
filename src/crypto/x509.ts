import {
  content,
  contextTag,
  derBitString,
  derBoolean,
  derExplicit,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derSmallInteger,
  derTime,
  derUnsignedInteger,
  derUtf8String,
  encoded,
  readChildren,
  readOid,
  readWhole,
  TAG,
  type Tlv,
} from "./der";
import { fromBase64, toBase64 } from "./encoding";
import { randomBytes } from "./random";

/**
 * X.509 certificates for SAML and WS-Federation, over WebCrypto only (no nodejs_compat): PEM
 * and DER codecs, the public key of a certificate (a SAML certificate is a key holder, trusted
 * because an administrator configured it, so nothing here checks chains or dates), and a
 * self-signed certificate builder for the credentials we generate, and private keys as admins
 * paste them (PKCS#8, PKCS#1, SEC1).
 */

export type SigningAlg = "RSA-SHA256" | "ECDSA-SHA256";

/** Input we cannot use as a certificate or key; its message says why, for an administrator. */
export class X509Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "X509Error";
  }
}

export const OID = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecPublicKey: "1.2.840.10045.2.1",
  prime256v1: "1.2.840.10045.3.1.7",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
} as const;

/** Far more than any RSA-4096 key or certificate with a long chain of names needs. */
export const MAX_PEM_CHARS = 16_384;
/** RSA keys below this are refused (NIST SP 800-131A: 1024-bit RSA disallowed since 2013). */
export const MIN_RSA_BITS = 2048;

// ---- PEM --------------------------------------------------------------------------------

/**
 * One PEM block (RFC 7468) or bare base64, decoded: the label is null for bare base64 (what
 * <ds:X509Certificate> holds, and what admins sometimes paste). Exactly one block, nothing
 * around it; encrypted PEM (RFC 1421 headers, ENCRYPTED PRIVATE KEY) is refused by name.
 */
export function parsePem(text: string): { label: string | null; der: Uint8Array } {
  if (text.length > MAX_PEM_CHARS) throw new X509Error(`is longer than ${MAX_PEM_CHARS} characters`);
  let body = text.trim();
  let label: string | null = null;
  const m = /^-----BEGIN ([A-Z0-9 ]{1,40})-----([\s\S]*?)-----END ([A-Z0-9 ]{1,40})-----$/.exec(body);
  if (m) {
    if (m[1] !== m[3]) throw new X509Error("has mismatched PEM BEGIN and END labels");
    label = m[1]!;
    body = m[2]!;
    if (label.includes("ENCRYPTED") || /Proc-Type:|DEK-Info:/.test(body)) throw new X509Error("is an encrypted key: paste it decrypted (openssl pkey -in key.pem)");
  }
  if (body.includes("-----")) throw new X509Error("is not a single PEM block");
  body = body.replace(/\s+/g, "");
  if (body.length === 0 || body.length % 4 !== 0) throw new X509Error("is not PEM or base64");
  try {
    return { label, der: fromBase64(body) };
  } catch {
    throw new X509Error("is not PEM or base64");
  }
}

/** The DER bytes of PEM (whose label must be `label` when given) or of bare base64. */
export function pemToDer(text: string, label?: string): Uint8Array {
  const p = parsePem(text);
  if (label !== undefined && p.label !== null && p.label !== label) throw new X509Error(`is a PEM "${p.label}", not "${label}"`);
  return p.der;
}

/** PEM with 64-character lines (RFC 7468 §2), ending in a newline. */
export function derToPem(der: Uint8Array, label: string): string {
  const b64 = toBase64(der).replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

// ---- reading certificates ---------------------------------------------------------------

export interface CertificateParts {
  /** The DER of tbsCertificate, what the issuer signed. */
  tbs: Uint8Array;
  /** RFC 5280 §4.1.1.2 signatureAlgorithm's OID. */
  signatureAlgorithm: string;
  /** The DER of subjectPublicKeyInfo (RFC 5280 §4.1.2.7), as WebCrypto's "spki" import takes it. */
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
}

function fail(why: string): never {
  throw new X509Error(why);
}

function children(der: Uint8Array, t: Tlv | undefined, tag: number, what: string): Tlv[] {
  if (!t || t.tag !== tag) fail(`is not a DER X.509 certificate (${what})`);
  return readChildren(der, t) ?? fail(`is not a DER X.509 certificate (${what})`);
}

/** RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ (years 1950-2049) or GeneralizedTime YYYYMMDDHHMMSSZ. */
function readTime(der: Uint8Array, t: Tlv | undefined): Date {
  const s = t ? String.fromCharCode(...content(der, t)) : "";
  const m =
    t?.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : t?.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  if (!m) fail("is not a DER X.509 certificate (validity)");
  let year = Number(m[1]);
  if (t!.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/**
 * RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
 * and, inside tbsCertificate, everything up to subjectPublicKeyInfo: the optional [0] EXPLICIT
 * version (absent in v1 certificates), serialNumber, signature, issuer, validity, subject.
 */
export function parseCertificate(der: Uint8Array): CertificateParts {
  const outer = readWhole(der);
  if (!outer) fail("is not a DER X.509 certificate");
  const [tbs, alg, sig, ...extra] = children(der, outer, TAG.SEQUENCE, "Certificate");
  if (extra.length > 0 || sig?.tag !== TAG.BIT_STRING) fail("is not a DER X.509 certificate (RFC 5280 §4.1)");
  const algParts = children(der, alg, TAG.SEQUENCE, "signatureAlgorithm");
  const algOid = algParts[0] ? readOid(der, algParts[0]) : null;
  if (!algOid) fail("is not a DER X.509 certificate (signatureAlgorithm)");
  const fields = children(der, tbs, TAG.SEQUENCE, "tbsCertificate");
  const i = fields[0]?.tag === contextTag(0) ? 1 : 0;
  const [serial, , issuer, validity, subject, spki] = fields.slice(i);
  if (serial?.tag !== TAG.INTEGER || issuer?.tag !== TAG.SEQUENCE || subject?.tag !== TAG.SEQUENCE) fail("is not a DER X.509 certificate (tbsCertificate)");
  const [nb, na] = children(der, validity, TAG.SEQUENCE, "validity");
  const keyInfo = children(der, spki, TAG.SEQUENCE, "subjectPublicKeyInfo");
  if (keyInfo.length !== 2 || keyInfo[0]!.tag !== TAG.SEQUENCE || keyInfo[1]!.tag !== TAG.BIT_STRING) fail("is not a DER X.509 certificate (subjectPublicKeyInfo)");
  return { tbs: encoded(der, tbs!), signatureAlgorithm: algOid, spki: encoded(der, spki!), notBefore: readTime(der, nb), notAfter: readTime(der, na) };
}

/** The DER of a PEM or bare-base64 certificate, checked to be one. */
export function certificateDer(pemOrB64: string): Uint8Array {
  const der = pemToDer(pemOrB64, "CERTIFICATE");
  parseCertificate(der);
  return der;
}

/** The bare base64 of the certificate's DER: what <ds:X509Certificate> holds. */
export function certificateBase64(pemOrB64: string): string {
  return toBase64(certificateDer(pemOrB64));
}

/** RFC 5280 §4.1.2.7: the certificate's subjectPublicKeyInfo, DER. */
export function spkiOfCertificate(der: Uint8Array): Uint8Array {
  return parseCertificate(der).spki;
}

/** The signing algorithm a SubjectPublicKeyInfo's key is for: its OID, and P-256 for EC. */
export function spkiKeyAlgorithm(spki: Uint8Array): SigningAlg {
  const top = readWhole(spki);
  const algId = top && readChildren(spki, top)?.[0];
  const parts = algId?.tag === TAG.SEQUENCE ? readChildren(spki, algId) : null;
  const oid = parts?.[0] ? readOid(spki, parts[0]) : null;
  if (oid === OID.rsaEncryption) return "RSA-SHA256";
  if (oid === OID.ecPublicKey) {
    const curve = parts?.[1] ? readOid(spki, parts[1]) : null;
    if (curve === OID.prime256v1) return "ECDSA-SHA256";
    fail(`has an EC key on a curve other than P-256 (${curve ?? "unnamed"})`);
  }
  fail(`has a key that is neither RSA nor EC P-256 (${oid ?? "unreadable"})`);
}

/** The algorithm of the certificate's key: rsaEncryption (RSA-SHA256) or id-ecPublicKey on P-256. */
export function certificateKeyAlgorithm(der: Uint8Array): SigningAlg {
  return spkiKeyAlgorithm(spkiOfCertificate(der));
}

export function signingParams(alg: SigningAlg): SubtleCryptoImportKeyAlgorithm {
  return alg === "RSA-SHA256" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" };
}

export function signParams(alg: SigningAlg): SubtleCryptoSignAlgorithm {
  return alg === "RSA-SHA256" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" };
}

/** Refuses RSA keys shorter than MIN_RSA_BITS (WebCrypto tells the modulus length after import). */
export function checkKeyStrength(key: CryptoKey): CryptoKey {
  const a = key.algorithm as Partial<CryptoKeyRsaKeyAlgorithm>;
  if (typeof a.modulusLength === "number" && a.modulusLength < MIN_RSA_BITS) fail(`has a ${a.modulusLength}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`);
  return key;
}

/**
 * The certificate's public key for verifying signatures. The algorithm is told from the key's
 * OID; when `alg` is given it must agree (a certificate never decides the algorithm alone).
 */
export function importCertificateKey(pemOrB64: string, alg?: SigningAlg): Promise<CryptoKey> {
  // Certificates are configuration (an IdP's, an SP's), the same on every request that uses
  // them: parsing the DER and importing the key once per isolate takes it off every SAML
  // verification. The key is verify-only and non-extractable; a failure is not kept.
  const cacheKey = `${alg ?? ""}|${pemOrB64}`;
  const hit = importedKeys.get(cacheKey);
  if (hit) return hit;
  if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.clear();
  const p = importCertificateKeyUncached(pemOrB64, alg);
  importedKeys.set(cacheKey, p);
  p.catch(() => importedKeys.delete(cacheKey));
  return p;
}

const IMPORTED_KEYS_MAX = 256;
const importedKeys = new Map<string, Promise<CryptoKey>>();

async function importCertificateKeyUncached(pemOrB64: string, alg?: SigningAlg): Promise<CryptoKey> {
  const spki = spkiOfCertificate(certificateDer(pemOrB64));
  const keyAlg = spkiKeyAlgorithm(spki);
  if (alg && alg !== keyAlg) fail(`has a key for ${keyAlg}, not ${alg}`);
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", spki, signingParams(keyAlg), false, ["verify"]);
  } catch {
    fail("has a public key that cannot be imported");
  }
  return checkKeyStrength(key);
}

/**
 * The certificate's RSA public key for XML Encryption key transport. "SHA-1" is
 * http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p with its default SHA-1 digest (MGF1 is SHA-1
 * there by definition, XML Enc §5.4.2); "SHA-256" is xmlenc11#rsa-oaep with SHA-256 for both
 * digest and MGF1 (WebCrypto uses one hash for both).
 */
export async function importRsaOaepCertificateKey(pemOrB64: string, hash: "SHA-1" | "SHA-256" = "SHA-1"): Promise<CryptoKey> {
  const spki = spkiOfCertificate(certificateDer(pemOrB64));
  if (spkiKeyAlgorithm(spki) !== "RSA-SHA256") fail("has no RSA key, which XML Encryption's RSA-OAEP needs");
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", spki, { name: "RSA-OAEP", hash }, false, ["encrypt"]);
  } catch {
    fail("has a public key that cannot be imported");
  }
  return checkKeyStrength(key);
}

// ---- building certificates --------------------------------------------------------------

/** WebCrypto's ECDSA signature (r || s, IEEE P1363) as X.509's Ecdsa-Sig-Value (RFC 3279 §2.2.3). */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return derSequence(derUnsignedInteger(raw.subarray(0, half)), derUnsignedInteger(raw.subarray(half)));
}

function signatureAlgorithmId(alg: SigningAlg): Uint8Array {
  // RFC 4055 §5: sha256WithRSAEncryption's parameters are NULL; RFC 5758 §3.2: ECDSA's are absent.
  return alg === "RSA-SHA256" ? derSequence(derOid(OID.sha256WithRSAEncryption), derNull()) : derSequence(derOid(OID.ecdsaWithSHA256));
}

export interface SelfSignedOptions {
  keyPair: CryptoKeyPair;
  alg: SigningAlg;
  /** 1 to 64 characters (RFC 5280 Appendix A, ub-common-name). */
  commonName: string;
  days: number;
  /** Defaults to five minutes ago, for relying parties whose clocks run behind. */
  notBefore?: Date;
}

/**
 * A v3 self-signed certificate (RFC 5280 §4.1): a random positive 16-byte serial, issuer =
 * subject = CN, and one critical extension, basicConstraints with cA FALSE (its DEFAULT, hence
 * the empty SEQUENCE, X.690 §11.5).
 */
export async function selfSignedCertificate(o: SelfSignedOptions): Promise<{ der: Uint8Array; pem: string }> {
  if (o.commonName.length < 1 || o.commonName.length > 64) fail("common name must be 1 to 64 characters");
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > 36_500) fail("days must be a whole number from 1 to 36500");
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", o.keyPair.publicKey)) as ArrayBuffer);
  if (spkiKeyAlgorithm(spki) !== o.alg) fail(`key pair is not for ${o.alg}`);
  const serial = randomBytes(16);
  // Positive and of full length: top bit clear (else it is negative), next bit set (else DER drops a byte).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const notBefore = new Date(Math.floor((o.notBefore?.getTime() ?? Date.now() - 5 * 60_000) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + o.days * 86_400_000);
  const name = derSequence(derSet(derSequence(derOid(OID.commonName), derUtf8String(o.commonName))));
  const algId = signatureAlgorithmId(o.alg);
  const extensions = derExplicit(3, derSequence(derSequence(derOid(OID.basicConstraints), derBoolean(true), derOctetString(derSequence()))));
  const tbs = derSequence(derExplicit(0, derSmallInteger(2)), derUnsignedInteger(serial), algId, name, derSequence(derTime(notBefore), derTime(notAfter)), name, spki, extensions);
  const sig = new Uint8Array(await crypto.subtle.sign(signParams(o.alg), o.keyPair.privateKey, tbs));
  const der = derSequence(tbs, algId, derBitString(o.alg === "RSA-SHA256" ? sig : ecdsaRawToDer(sig)));
  return { der, pem: derToPem(der, "CERTIFICATE") };
}

/**
 * A fresh key pair and its self-signed certificate: RSA-2048 with e = 65537
 * (RSASSA-PKCS1-v1_5, SHA-256) or P-256. The private key leaves as PKCS#8 PEM, to be sealed.
 */
export async function generateSigningCredential(alg: SigningAlg, commonName: string, days = 3650): Promise<{ privateKeyPkcs8Pem: string; certPem: string }> {
  const params = alg === "RSA-SHA256" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1) } : { name: "ECDSA", namedCurve: "P-256" };
  const keyPair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const { pem } = await selfSignedCertificate({ keyPair, alg, commonName, days });
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", keyPair.privateKey)) as ArrayBuffer);
  return { privateKeyPkcs8Pem: derToPem(pkcs8, "PRIVATE KEY"), certPem: pem };
}

// ---- private keys ------------------------------------------------------------------------

/** PKCS#8 PrivateKeyInfo (RFC 5208 §5) around a key of `algorithm` (RFC 5958 keeps the shape). */
function wrapPkcs8(algorithm: Uint8Array, key: Uint8Array): Uint8Array {
  return derSequence(derSmallInteger(0), algorithm, derOctetString(key));
}

const RSA_ALGORITHM_ID = () => derSequence(derOid(OID.rsaEncryption), derNull());
const P256_ALGORITHM_ID = () => derSequence(derOid(OID.ecPublicKey), derOid(OID.prime256v1));

type KeyShape = "pkcs8" | "pkcs1" | "sec1";

/**
 * Which of the three private-key encodings `der` is, from its structure (bare base64 has no
 * label to say so): PKCS#8 is { INTEGER 0|1, SEQUENCE algorithm, OCTET STRING, ... }; PKCS#1
 * RSAPrivateKey (RFC 8017 A.1.2) is nine INTEGERs; SEC1 ECPrivateKey (RFC 5915 §3) is
 * { INTEGER 1, OCTET STRING, [0] parameters?, [1] publicKey? }.
 */
function keyShape(der: Uint8Array): { shape: KeyShape; fields: Tlv[] } | null {
  const top = readWhole(der);
  const fields = top?.tag === TAG.SEQUENCE ? readChildren(der, top) : null;
  if (!fields || fields.length < 2 || fields[0]!.tag !== TAG.INTEGER) return null;
  const t = fields.map((f) => f.tag);
  if (t[1] === TAG.SEQUENCE && t[2] === TAG.OCTET_STRING) return { shape: "pkcs8", fields };
  if (fields.length === 9 && t.every((x) => x === TAG.INTEGER)) return { shape: "pkcs1", fields };
  if (t[1] === TAG.OCTET_STRING && t.slice(2).every((x) => x === contextTag(0) || x === contextTag(1))) return { shape: "sec1", fields };
  return null;
}

const LABEL_SHAPE: Record<string, KeyShape> = { "PRIVATE KEY": "pkcs8", "RSA PRIVATE KEY": "pkcs1", "EC PRIVATE KEY": "sec1" };

/**
 * The PKCS#8 DER of a private key for `alg`, from PEM "PRIVATE KEY" (PKCS#8), "RSA PRIVATE
 * KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC1), or the bare base64 of any of them: admins paste
 * what their tools wrote, and WebCrypto imports PKCS#8 only, so the other two are wrapped.
 */
export function privateKeyPkcs8(pem: string, alg: SigningAlg): Uint8Array {
  const { label, der } = parsePem(pem);
  if (label !== null && !(label in LABEL_SHAPE)) fail(`is a PEM "${label}", not a private key`);
  const found = keyShape(der);
  if (!found || (label !== null && LABEL_SHAPE[label] !== found.shape)) fail("is not a PKCS#8, PKCS#1 or SEC1 private key");
  const { shape, fields } = found;
  if (shape === "pkcs8") {
    const algParts = readChildren(der, fields[1]!);
    const oid = algParts?.[0] ? readOid(der, algParts[0]) : null;
    const curve = algParts?.[1]?.tag === TAG.OID ? readOid(der, algParts[1]) : null;
    const keyAlg = oid === OID.rsaEncryption ? "RSA-SHA256" : oid === OID.ecPublicKey && curve === OID.prime256v1 ? "ECDSA-SHA256" : null;
    if (!keyAlg) fail("is a private key that is neither RSA nor EC P-256");
    if (keyAlg !== alg) fail(`is a private key for ${keyAlg}, not ${alg}`);
    return der;
  }
  if (shape === "pkcs1") {
    if (alg !== "RSA-SHA256") fail(`is an RSA private key, not one for ${alg}`);
    return wrapPkcs8(RSA_ALGORITHM_ID(), der);
  }
  if (alg !== "ECDSA-SHA256") fail(`is an EC private key, not one for ${alg}`);
  const params = fields.find((f) => f.tag === contextTag(0));
  if (params) {
    const inner = readChildren(der, params);
    if (!inner || inner.length !== 1 || readOid(der, inner[0]!) !== OID.prime256v1) fail("is an EC private key on a curve other than P-256");
  }
  return wrapPkcs8(P256_ALGORITHM_ID(), der);
}

async function importPkcs8(pkcs8: Uint8Array, params: SubtleCryptoImportKeyAlgorithm, usage: "sign" | "decrypt"): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", pkcs8, params, false, [usage]);
  } catch {
    fail("is a private key that cannot be imported (damaged, or not the key it claims to be)");
  }
  return checkKeyStrength(key);
}

/** A signing key (not extractable) from PKCS#8, PKCS#1 or SEC1 PEM or base64; X509Error says what is wrong. */
export async function importPrivateKeyPem(pem: string, alg: SigningAlg): Promise<CryptoKey> {
  return importPkcs8(privateKeyPkcs8(pem, alg), signingParams(alg), "sign");
}

/** An RSA key for XML Encryption key transport (RSA-OAEP, see importRsaOaepCertificateKey for `hash`). */
export async function importRsaOaepPrivateKeyPem(pem: string, hash: "SHA-1" | "SHA-256" = "SHA-1"): Promise<CryptoKey> {
  return importPkcs8(privateKeyPkcs8(pem, "RSA-SHA256"), { name: "RSA-OAEP", hash }, "decrypt");
}
