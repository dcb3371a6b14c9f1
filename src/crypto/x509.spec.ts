import { describe, expect, it } from "vitest";
import { content, derTime, readChildren, readOid, readTlv, readWhole, TAG } from "./der";
import { toBase64 } from "./encoding";
import {
  certificateBase64,
  certificateKeyAlgorithm,
  derToPem,
  generateSigningCredential,
  importCertificateKey,
  importPrivateKeyPem,
  importRsaOaepCertificateKey,
  importRsaOaepPrivateKeyPem,
  parseCertificate,
  pemToDer,
  selfSignedCertificate,
  signParams,
  spkiOfCertificate,
  X509Error,
  type SigningAlg,
} from "./x509";
import { EC_CERT, EC_CERT_SPKI, EC_SEC1_KEY, OTHER_EC_CERT, P384_CERT, RSA1024_CERT, RSA1024_PKCS8_KEY, RSA_CERT, RSA_CERT_SPKI, RSA_PKCS1_KEY, V1_CERT, V1_CERT_SPKI } from "./x509.fixtures";

const probe = new TextEncoder().encode("probe");
const bare = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

async function signs(key: CryptoKey, cert: string, alg: SigningAlg): Promise<boolean> {
  const sig = await crypto.subtle.sign(signParams(alg), key, probe);
  return crypto.subtle.verify(signParams(alg), await importCertificateKey(cert, alg), sig, probe);
}

/** Ecdsa-Sig-Value (DER) back to WebCrypto's r || s, to check our certificates' own signatures. */
function ecdsaDerToRaw(der: Uint8Array): Uint8Array {
  const [r, s] = readChildren(der, readWhole(der)!)!;
  const fixed = (t: NonNullable<typeof r>) => {
    const v = content(der, t);
    const trimmed = v.length > 32 ? v.subarray(v.length - 32) : v;
    const out = new Uint8Array(32);
    out.set(trimmed, 32 - trimmed.length);
    return out;
  };
  return Uint8Array.from([...fixed(r!), ...fixed(s!)]);
}

describe("PEM and base64", () => {
  it("derToPem writes 64-character lines that pemToDer reads back; bare base64 is read too", () => {
    const der = pemToDer(RSA_CERT, "CERTIFICATE");
    const pem = derToPem(der, "CERTIFICATE");
    expect(pem.startsWith("-----BEGIN CERTIFICATE-----\n")).toBe(true);
    expect(pem.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
    expect(pem.split("\n").slice(1, -3).every((l) => l.length === 64)).toBe(true);
    expect(pemToDer(pem)).toEqual(der);
    expect(pemToDer(bare(RSA_CERT))).toEqual(der);
    expect(pemToDer(`  ${RSA_CERT.replace(/\n/g, "\r\n")}  `)).toEqual(der);
  });

  it("certificateBase64 gives the bare base64 <ds:X509Certificate> holds, from PEM or wrapped base64", () => {
    const b64 = certificateBase64(RSA_CERT);
    expect(b64).toBe(bare(RSA_CERT));
    expect(b64).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(certificateBase64(bare(RSA_CERT).replace(/(.{76})/g, "$1\n"))).toBe(b64);
  });

  it.each([
    ["empty", ""],
    ["not base64", "not a certificate!"],
    ["a truncated base64", "MIIB"],
    ["two PEM blocks", `${RSA_CERT}\n${EC_CERT}`],
    ["mismatched labels", RSA_CERT.replace("END CERTIFICATE", "END PUBLIC KEY")],
    ["a private key", RSA_PKCS1_KEY],
    ["text around the block", `subject=CN=x\n${RSA_CERT}`],
    ["too long", "A".repeat(20_000)],
    ["a cut certificate", derToPem(pemToDer(RSA_CERT).subarray(0, 300), "CERTIFICATE")],
    ["a certificate with bytes after it", derToPem(Uint8Array.from([...pemToDer(RSA_CERT), 0]), "CERTIFICATE")],
  ])("certificateBase64 refuses %s with an X509Error", (_what, text) => {
    expect(() => certificateBase64(text)).toThrow(X509Error);
  });

  it("an encrypted key is refused by name, with how to decrypt it", async () => {
    const enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----";
    await expect(importPrivateKeyPem(enc, "RSA-SHA256")).rejects.toThrow(/encrypted key/);
    const legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,0011\n\nMIIB\n-----END RSA PRIVATE KEY-----";
    await expect(importPrivateKeyPem(legacy, "RSA-SHA256")).rejects.toThrow(/encrypted key/);
  });
});

describe("reading certificates (RFC 5280 §4.1)", () => {
  it("spkiOfCertificate is the subjectPublicKeyInfo OpenSSL reports, v3 and v1 (no [0] version) alike", () => {
    expect(toBase64(spkiOfCertificate(pemToDer(RSA_CERT)))).toBe(RSA_CERT_SPKI);
    expect(toBase64(spkiOfCertificate(pemToDer(EC_CERT)))).toBe(EC_CERT_SPKI);
    expect(toBase64(spkiOfCertificate(pemToDer(V1_CERT)))).toBe(V1_CERT_SPKI);
  });

  it("certificateKeyAlgorithm tells RSA from P-256 by the key's OID; other curves are refused", () => {
    expect(certificateKeyAlgorithm(pemToDer(RSA_CERT))).toBe("RSA-SHA256");
    expect(certificateKeyAlgorithm(pemToDer(V1_CERT))).toBe("RSA-SHA256");
    expect(certificateKeyAlgorithm(pemToDer(EC_CERT))).toBe("ECDSA-SHA256");
    expect(() => certificateKeyAlgorithm(pemToDer(P384_CERT))).toThrow(/curve other than P-256 \(1\.3\.132\.0\.34\)/);
  });

  it("validity dates are read (UTCTime)", () => {
    const p = parseCertificate(pemToDer(RSA_CERT));
    expect(p.notAfter.getTime() - p.notBefore.getTime()).toBe(3650 * 86_400_000);
    expect(p.signatureAlgorithm).toBe("1.2.840.113549.1.1.11");
  });

  it("importCertificateKey takes the algorithm from the certificate, refuses a mismatch, short RSA and other curves", async () => {
    const rsa = await importCertificateKey(RSA_CERT);
    expect(rsa.algorithm).toMatchObject({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048 });
    expect(rsa.usages).toEqual(["verify"]);
    expect((await importCertificateKey(bare(EC_CERT))).algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    await expect(importCertificateKey(RSA_CERT, "ECDSA-SHA256")).rejects.toThrow(/key for RSA-SHA256, not ECDSA-SHA256/);
    await expect(importCertificateKey(RSA1024_CERT)).rejects.toThrow(/1024-bit RSA key; at least 2048/);
    await expect(importCertificateKey(P384_CERT)).rejects.toThrow(X509Error);
  });

  it("mutated certificates never throw anything but X509Error (a small fuzz over the DER)", () => {
    const der = pemToDer(RSA_CERT);
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const m = der.slice();
      const at = (i * 7919) % Math.min(m.length, 400); // the headers and tbsCertificate's front
      m[at] = (m[at]! + 1 + (i % 255)) & 0xff;
      try {
        parseCertificate(m);
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(X509Error);
      }
    }
    expect(accepted).toBeLessThan(400);
  });

  it("indefinite and overlong lengths are refused (BER, not DER)", () => {
    expect(readTlv(Uint8Array.of(0x30, 0x80, 0, 0), 0)).toBeNull();
    expect(readTlv(Uint8Array.of(0x30, 0x85, 1, 0, 0, 0, 0), 0)).toBeNull();
    expect(readTlv(Uint8Array.of(0x30, 0x05, 0), 0)).toBeNull();
    expect(() => parseCertificate(Uint8Array.of(0x30, 0x80, 0, 0))).toThrow(X509Error);
  });
});

describe("private keys as admins paste them", () => {
  it("PKCS#1 (BEGIN RSA PRIVATE KEY) is wrapped in PKCS#8 and signs what its certificate verifies", async () => {
    const key = await importPrivateKeyPem(RSA_PKCS1_KEY, "RSA-SHA256");
    expect(key.extractable).toBe(false);
    expect(key.usages).toEqual(["sign"]);
    expect(await signs(key, RSA_CERT, "RSA-SHA256")).toBe(true);
    expect(await signs(await importPrivateKeyPem(bare(RSA_PKCS1_KEY), "RSA-SHA256"), RSA_CERT, "RSA-SHA256")).toBe(true);
  });

  it("SEC1 (BEGIN EC PRIVATE KEY) is wrapped likewise; bare base64 of it too", async () => {
    expect(await signs(await importPrivateKeyPem(EC_SEC1_KEY, "ECDSA-SHA256"), EC_CERT, "ECDSA-SHA256")).toBe(true);
    expect(await signs(await importPrivateKeyPem(bare(EC_SEC1_KEY), "ECDSA-SHA256"), EC_CERT, "ECDSA-SHA256")).toBe(true);
    expect(await signs(await importPrivateKeyPem(EC_SEC1_KEY, "ECDSA-SHA256"), OTHER_EC_CERT, "ECDSA-SHA256")).toBe(false);
  });

  it("PKCS#8 (BEGIN PRIVATE KEY), as generateSigningCredential writes it", async () => {
    for (const alg of ["RSA-SHA256", "ECDSA-SHA256"] as const) {
      const c = await generateSigningCredential(alg, `k ${alg}`);
      expect(c.privateKeyPkcs8Pem.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
      expect(await signs(await importPrivateKeyPem(c.privateKeyPkcs8Pem, alg), c.certPem, alg)).toBe(true);
      expect(await signs(await importPrivateKeyPem(bare(c.privateKeyPkcs8Pem), alg), c.certPem, alg)).toBe(true);
    }
  });

  it.each([
    ["an RSA key for ECDSA", RSA_PKCS1_KEY, "ECDSA-SHA256", /RSA private key, not one for ECDSA-SHA256/],
    ["an EC key for RSA", EC_SEC1_KEY, "RSA-SHA256", /EC private key, not one for RSA-SHA256/],
    ["a certificate", RSA_CERT, "RSA-SHA256", /PEM "CERTIFICATE", not a private key/],
    ["garbage", "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----", "RSA-SHA256", /not a PKCS#8, PKCS#1 or SEC1 private key/],
    ["PKCS#1 bytes under an EC label", RSA_PKCS1_KEY.replace(/RSA PRIVATE KEY/g, "EC PRIVATE KEY"), "ECDSA-SHA256", /not a PKCS#8, PKCS#1 or SEC1/],
    ["an RSA-1024 key", RSA1024_PKCS8_KEY, "RSA-SHA256", /1024-bit RSA key/],
    ["a damaged PKCS#1 key", derToPem(Uint8Array.from(pemToDer(RSA_PKCS1_KEY)).map((b, i) => (i > 40 && i < 60 ? 0x11 : b)), "RSA PRIVATE KEY"), "RSA-SHA256", /.+/],
  ] as const)("refuses %s with an X509Error", async (_what, pem, alg, message) => {
    const err = await importPrivateKeyPem(pem, alg).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(X509Error);
    expect((err as Error).message).toMatch(message);
  });
});

describe("self-signed certificates", () => {
  it.each(["RSA-SHA256", "ECDSA-SHA256"] as const)("%s: v3, CN issuer = subject, random positive serial, CA:false, its own signature verifies", async (alg) => {
    const params = alg === "RSA-SHA256" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1) } : { name: "ECDSA", namedCurve: "P-256" };
    const keyPair = (await crypto.subtle.generateKey(params, false, ["sign", "verify"])) as CryptoKeyPair;
    const before = Date.now();
    const { der, pem } = await selfSignedCertificate({ keyPair, alg, commonName: "SAML IdP c-1", days: 30 });
    expect(pemToDer(pem)).toEqual(der);
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", keyPair.publicKey)) as ArrayBuffer);
    expect(spkiOfCertificate(der)).toEqual(spki);
    expect(certificateKeyAlgorithm(der)).toBe(alg);

    const [tbsT, algT, sigT] = readChildren(der, readWhole(der)!)!;
    const tbs = readChildren(der, tbsT!)!;
    expect(tbs[0]!.tag).toBe(0xa0); // [0] version
    expect(content(der, readChildren(der, tbs[0]!)![0]!)).toEqual(Uint8Array.of(2)); // v3
    const serial = content(der, tbs[1]!);
    expect(serial.length).toBe(16);
    expect(serial[0]! & 0x80).toBe(0);
    expect(content(der, tbs[3]!)).toEqual(content(der, tbs[5]!)); // issuer = subject
    expect(new TextDecoder().decode(content(der, tbs[5]!))).toContain("SAML IdP c-1");
    // [3] { Extension { basicConstraints, critical TRUE, OCTET STRING { SEQUENCE {} } } }: cA FALSE by default.
    expect(tbs[7]!.tag).toBe(0xa3);
    expect(content(der, tbs[7]!)).toEqual(Uint8Array.of(0x30, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00));
    expect(readOid(der, readChildren(der, algT!)![0]!)).toBe(alg === "RSA-SHA256" ? "1.2.840.113549.1.1.11" : "1.2.840.10045.4.3.2");

    const p = parseCertificate(der);
    expect(p.notBefore.getTime()).toBeLessThanOrEqual(before - 5 * 60_000 + 1000);
    expect(p.notBefore.getTime()).toBeGreaterThan(before - 6 * 60_000);
    expect(p.notAfter.getTime() - p.notBefore.getTime()).toBe(30 * 86_400_000);

    const sigBits = content(der, sigT!).subarray(1);
    const sig = alg === "RSA-SHA256" ? sigBits : ecdsaDerToRaw(sigBits);
    expect(await crypto.subtle.verify(signParams(alg), await importCertificateKey(pem), sig, encodedTbs(der))).toBe(true);
  });

  it("validity after 2049 is GeneralizedTime, before is UTCTime (RFC 5280 §4.1.2.5)", async () => {
    expect(derTime(new Date(Date.UTC(2049, 11, 31, 23, 59, 59)))[0]).toBe(TAG.UTC_TIME);
    expect(new TextDecoder().decode(derTime(new Date(Date.UTC(2049, 11, 31, 23, 59, 59))).subarray(2))).toBe("491231235959Z");
    expect(derTime(new Date(Date.UTC(2050, 0, 1)))[0]).toBe(TAG.GENERALIZED_TIME);
    expect(new TextDecoder().decode(derTime(new Date(Date.UTC(2050, 0, 1))).subarray(2))).toBe("20500101000000Z");
    const keyPair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const { der } = await selfSignedCertificate({ keyPair, alg: "ECDSA-SHA256", commonName: "far", days: 36_500, notBefore: new Date(Date.UTC(2026, 0, 1)) });
    expect(parseCertificate(der).notAfter.getUTCFullYear()).toBe(2125);
  });

  it("refuses a CN outside 1..64 characters, odd day counts, and a key pair of the other algorithm", async () => {
    const keyPair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    await expect(selfSignedCertificate({ keyPair, alg: "ECDSA-SHA256", commonName: "", days: 1 })).rejects.toThrow(X509Error);
    await expect(selfSignedCertificate({ keyPair, alg: "ECDSA-SHA256", commonName: "x".repeat(65), days: 1 })).rejects.toThrow(X509Error);
    await expect(selfSignedCertificate({ keyPair, alg: "ECDSA-SHA256", commonName: "x", days: 0.5 })).rejects.toThrow(X509Error);
    await expect(selfSignedCertificate({ keyPair, alg: "RSA-SHA256", commonName: "x", days: 1 })).rejects.toThrow(/not for RSA-SHA256/);
  });
});

describe("RSA-OAEP for XML Encryption key transport", () => {
  it.each(["SHA-1", "SHA-256"] as const)("a certificate's key encrypts what the PKCS#1 key decrypts (%s)", async (hash) => {
    const enc = await importRsaOaepCertificateKey(RSA_CERT, hash);
    expect(enc.usages).toEqual(["encrypt"]);
    const cek = crypto.getRandomValues(new Uint8Array(32));
    const wrapped = await crypto.subtle.encrypt({ name: "RSA-OAEP" }, enc, cek);
    const dec = await importRsaOaepPrivateKeyPem(RSA_PKCS1_KEY, hash);
    expect(new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, dec, wrapped))).toEqual(cek);
  });

  it("an EC certificate has no key for RSA-OAEP", async () => {
    await expect(importRsaOaepCertificateKey(EC_CERT)).rejects.toThrow(/no RSA key/);
    await expect(importRsaOaepPrivateKeyPem(EC_SEC1_KEY)).rejects.toThrow(X509Error);
  });
});

function encodedTbs(der: Uint8Array): Uint8Array {
  return parseCertificate(der).tbs;
}
