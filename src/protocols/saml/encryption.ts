import { toBase64 } from "../../crypto/encoding";
import { escapeAttr, NS } from "./xml";

/**
 * EncryptedAssertion (SAML Core §6.2) per XML Encryption 1.1: the assertion's XML encrypted
 * with AES-256-GCM under a fresh key (§5.2.4: `http://www.w3.org/2009/xmlenc11#aes256-gcm`,
 * the CipherValue is the 12-byte IV, the ciphertext, then the 128-bit tag), and that key
 * transported to the SP with RSA-OAEP under its encryptionCert.
 *
 * Key transport: `http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p` with SHA-1 (§5.5.2, its
 * defaults: digest SHA-1, MGF1 with SHA-1). It is what SPs decrypt: node-saml's xml-encryption
 * 3.x knows only this URI (and rsa-1_5), not xmlenc11#rsa-oaep, and it cannot be told MGF1 apart
 * from the digest; WebCrypto's RSA-OAEP uses one hash for both, so SHA-1 for both is the one
 * combination both sides agree on. OAEP's security does not rest on SHA-1's collision
 * resistance, so this is not a weak choice (unlike PKCS#1 v1.5, which we never send).
 */

export const AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
export const RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1";
const ELEMENT = "http://www.w3.org/2001/04/xmlenc#Element";

/** An RSA-OAEP (SHA-1) public key the content key is wrapped to: the SP's encryptionCert. */
export async function encryptAssertionXml(assertionXml: string, recipientKey: CryptoKey): Promise<string> {
  if (recipientKey.algorithm.name !== "RSA-OAEP") throw new Error("encryptAssertionXml: the recipient key must be an RSA-OAEP key");
  const cek = (await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"])) as CryptoKey;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, tagLength: 128 }, cek, new TextEncoder().encode(assertionXml)));
  const cipher = new Uint8Array(iv.length + sealed.length);
  cipher.set(iv, 0);
  cipher.set(sealed, iv.length);
  const rawKey = new Uint8Array((await crypto.subtle.exportKey("raw", cek)) as ArrayBuffer);
  const wrapped = new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, recipientKey, rawKey));
  return (
    `<saml:EncryptedAssertion xmlns:saml="${NS.saml}">` +
    `<xenc:EncryptedData xmlns:xenc="${NS.xenc}" Type="${escapeAttr(ELEMENT)}">` +
    `<xenc:EncryptionMethod Algorithm="${AES256_GCM}"/>` +
    `<ds:KeyInfo xmlns:ds="${NS.ds}"><xenc:EncryptedKey>` +
    `<xenc:EncryptionMethod Algorithm="${RSA_OAEP_MGF1P}"><ds:DigestMethod Algorithm="${SHA1}"/></xenc:EncryptionMethod>` +
    `<xenc:CipherData><xenc:CipherValue>${toBase64(wrapped)}</xenc:CipherValue></xenc:CipherData>` +
    `</xenc:EncryptedKey></ds:KeyInfo>` +
    `<xenc:CipherData><xenc:CipherValue>${toBase64(cipher)}</xenc:CipherValue></xenc:CipherData>` +
    `</xenc:EncryptedData></saml:EncryptedAssertion>`
  );
}
