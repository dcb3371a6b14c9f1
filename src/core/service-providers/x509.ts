import { certificateDer, X509Error } from "../../crypto/x509";

/**
 * Refuses garbage in a SAML service provider's `signingCert` and `encryptionCert` (PEM, or the
 * bare base64 that SAML metadata's <ds:X509Certificate> holds). The parsing is
 * crypto/x509.ts's: the DER structure of RFC 5280 §4.1 down to subjectPublicKeyInfo, each
 * length exact and nothing after the outer SEQUENCE. It does not verify signatures or validity
 * dates, nor refuse a key type here: a SAML SP certificate is a key holder (often self-signed),
 * trusted because an administrator registered it; the code that uses its key says when it
 * cannot (crypto/x509.ts importCertificateKey).
 */

/** Why `text` is not an X.509 certificate, or null when its structure is one. */
export function certificateProblem(text: string): string | null {
  try {
    certificateDer(text);
    return null;
  } catch (e) {
    if (e instanceof X509Error) return e.message;
    throw e;
  }
}
