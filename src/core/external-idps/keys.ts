import { utf8 } from "../../crypto/encoding";
import { certificateDer, certificateKeyAlgorithm, importCertificateKey, importPrivateKeyPem, signParams, X509Error, type SigningAlg } from "../../crypto/x509";

/**
 * The SP key pair of an external IdP connection (our AuthnRequest signing key and its
 * certificate) and the IdP's signing certificate, as WebCrypto keys, through crypto/x509.ts
 * (RSA of at least 2048 bits or EC P-256; PKCS#8, PKCS#1 or SEC1 private keys).
 */

export type SpKeyAlg = SigningAlg;

/** The certificate's public key for verifying, with its algorithm, or null when it has none we accept. */
export async function certificateKey(cert: string): Promise<{ key: CryptoKey; alg: SpKeyAlg } | null> {
  try {
    const alg = certificateKeyAlgorithm(certificateDer(cert));
    return { key: await importCertificateKey(cert, alg), alg };
  } catch (e) {
    if (e instanceof X509Error) return null;
    throw e;
  }
}

/** The SP signing key for the connection's certificate (its algorithm decides), or null. */
export async function importSpPrivateKey(pem: string, certPem: string): Promise<{ key: CryptoKey; alg: SpKeyAlg } | null> {
  try {
    const alg = certificateKeyAlgorithm(certificateDer(certPem));
    return { key: await importPrivateKeyPem(pem, alg), alg };
  } catch (e) {
    if (e instanceof X509Error) return null;
    throw e;
  }
}

/**
 * Why the private key and the certificate are not one pair, or null. Checked by signing a probe
 * with the key and verifying it with the certificate's key: comparing key parameters would need
 * a parser per algorithm, and this proves exactly what an IdP will check.
 */
export async function keyPairProblem(certPem: string, keyPem: string): Promise<string | null> {
  let alg: SigningAlg;
  let pub: CryptoKey;
  try {
    alg = certificateKeyAlgorithm(certificateDer(certPem));
    pub = await importCertificateKey(certPem, alg);
  } catch (e) {
    if (e instanceof X509Error) return `spSigningCertificate ${e.message}`;
    throw e;
  }
  let priv: CryptoKey;
  try {
    priv = await importPrivateKeyPem(keyPem, alg);
  } catch (e) {
    if (e instanceof X509Error) return `spPrivateKey ${/not .*-SHA256$|neither|not one for/.test(e.message) ? "does not match spSigningCertificate" : e.message}`;
    throw e;
  }
  const probe = utf8(`edge-auth key pair probe ${crypto.randomUUID()}`);
  const sig = await crypto.subtle.sign(signParams(alg), priv, probe);
  const ok = await crypto.subtle.verify(signParams(alg), pub, sig, probe);
  return ok ? null : "spPrivateKey does not match spSigningCertificate";
}
