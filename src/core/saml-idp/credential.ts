import { open, seal } from "../../crypto/secret-box";
import { uuid } from "../../crypto/random";
import {
  certificateDer,
  certificateKeyAlgorithm,
  derToPem,
  generateSigningCredential,
  importCertificateKey,
  importPrivateKeyPem,
  importRsaOaepCertificateKey,
  importRsaOaepPrivateKeyPem,
  signParams,
  X509Error,
  type SigningAlg,
} from "../../crypto/x509";
import { toBase64, utf8 } from "../../crypto/encoding";
import { DuplicateKeyError, type StoredIdpConfig } from "../../storage/ports-authn";
import { IDP_KEY_PURPOSE } from "../authn/idp-config";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { publicOrigin, type RequestAddress } from "../tenants/public-origin";
import { cachedEntry, credentialCacheKey, generation, remember, singleFlight } from "./credential-cache";

/**
 * The community's SAML signing credential: what its IdP (and WS-Fed STS) signs responses,
 * assertions, logout messages and metadata with. It is the community's idp_config (seed 004,
 * core/authn/idp-config.ts) when one exists; otherwise one is generated on first use and
 * stored AS the idp_config (RSA-2048 signing and encryption keys, self-signed certificates,
 * entity ID `<public origin>/saml/<communityId>`), so that every isolate signs with the same
 * key, GET idp_config shows its certificate, and an admin replaces it with PUT idp_config
 * (docs/api/saml.md "Signing keys and their rotation").
 */

export const SAML_BINDING = {
  redirect: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
  post: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
} as const;

export interface SamlSigningCredential {
  /** The private key, not extractable, usage "sign". */
  key: CryptoKey;
  alg: SigningAlg;
  /** The certificate as PEM (normalised from the DER). */
  certPem: string;
  /** The bare base64 of the certificate's DER: what <ds:X509Certificate> holds. */
  certB64: string;
  entityId: string;
}

export interface SamlEncryptionCredential {
  /** RSA-OAEP, usage "decrypt", for EncryptedKey with xmlenc#rsa-oaep-mgf1p (SHA-1) unless asked otherwise. */
  key: CryptoKey;
  certPem: string;
  certB64: string;
}

const notConfigured = (why: string) => new AuthError("not_configured", `the community's SAML IdP credential is unusable: ${why}`);

/** Common name of a generated certificate: at most 64 characters (RFC 5280 ub-common-name). */
const commonName = (use: string, communityId: string) => `SAML ${use} ${communityId}`.slice(0, 64);

/**
 * The signing credential, cached in the isolate for at most 60 s (credential-cache.ts) and
 * evicted when idp_config is PUT here. A generated entity ID is on the tenant's primary
 * hostname; `req` gives it the request's scheme and port in development (public-origin.ts),
 * https and no port without it. Failures (a key that does not parse or does not match its certificate) are
 * AuthError not_configured with the reason, and are not cached.
 */
export function samlSigningCredential(svc: Services, scope: Scope, req?: RequestAddress): Promise<SamlSigningCredential> {
  const key = credentialCacheKey(scope.tenant.id, scope.community.id);
  const hit = cachedEntry<SamlSigningCredential>(key);
  if (hit?.fresh) return Promise.resolve(hit.entry.value);
  return singleFlight(key, async () => {
    const gen = generation();
    const config = await storedOrGenerated(svc, scope, req);
    const version = `${config.identifier}:${config.updatedAt}`;
    // A stale entry of the same version still holds a good key: re-reading the row is enough.
    const stale = cachedEntry<SamlSigningCredential>(key)?.entry;
    const credential = stale?.version === version ? stale.value : await signingCredentialOf(svc, config);
    remember(key, gen, version, credential);
    return credential;
  });
}

/** The same, uncached and without single-flight: what each isolate does on a miss (tests race it). */
export async function loadSamlSigningCredential(svc: Services, scope: Scope, req?: RequestAddress): Promise<SamlSigningCredential> {
  return signingCredentialOf(svc, await storedOrGenerated(svc, scope, req));
}

/** The community's encryption key and certificate from its idp_config; null when it has none. Uncached. */
export async function samlEncryptionCredential(svc: Services, scope: Scope, hash: "SHA-1" | "SHA-256" = "SHA-1"): Promise<SamlEncryptionCredential | null> {
  const c = await svc.authnConfig.idpConfigs.get(scope.tenant.id, scope.community.id);
  if (!c || !c.encryptionCert.trim() || !c.encryptionKeySealed) return null;
  const der = certificate(c.encryptionCert, "encryptionCert");
  const pem = await unseal(svc, c.encryptionKeySealed, "encryptionKey");
  const key = await x509OrNotConfigured("encryptionKey", () => importRsaOaepPrivateKeyPem(pem, hash));
  const certKey = await x509OrNotConfigured("encryptionCert", () => importRsaOaepCertificateKey(derToPem(der, "CERTIFICATE"), hash));
  // As for signing: a key that is not the certificate's would fail every EncryptedKey it meets.
  const probe = utf8(`saml-credential-probe:${c.identifier}`);
  const wrapped = await crypto.subtle.encrypt({ name: "RSA-OAEP" }, certKey, probe);
  const back = await crypto.subtle.decrypt({ name: "RSA-OAEP" }, key, wrapped).then(
    (b) => new Uint8Array(b),
    () => null,
  );
  if (!back || toBase64(back) !== toBase64(probe)) throw notConfigured("encryptionKey does not match encryptionCert");
  return { key, certPem: derToPem(der, "CERTIFICATE"), certB64: toBase64(der) };
}

/** The same: the name the brief gives it (main already has samlEncryptionCredential). */
export const encryptionCredential = samlEncryptionCredential;

async function storedOrGenerated(svc: Services, scope: Scope, req: RequestAddress | undefined): Promise<StoredIdpConfig> {
  const store = svc.authnConfig.idpConfigs;
  const stored = await store.get(scope.tenant.id, scope.community.id);
  if (stored) return stored;
  const generated = await generatedConfig(svc, scope, req);
  try {
    await store.create(generated);
  } catch (e) {
    // Another isolate (or request) created the community's config first: theirs is the one.
    if (!(e instanceof DuplicateKeyError)) throw e;
    const winner = await store.get(scope.tenant.id, scope.community.id);
    if (!winner) throw e;
    return winner;
  }
  recordAudit(svc, scope, "idp_config_created", { detail: { identifier: generated.identifier, generated: true } });
  return generated;
}

/**
 * A complete idp_config for a community that has none: both keys, because PUT idp_config's
 * update needs an encryptionCert and keeps the stored keys it is not sent, so an admin can
 * replace the signing pair alone.
 */
async function generatedConfig(svc: Services, scope: Scope, req: RequestAddress | undefined): Promise<StoredIdpConfig> {
  // The primary hostname always (no bound name is ""), even when the request came on another
  // brand of the tenant: the entity ID is frozen at creation and must not depend on who asked
  // first. Only the scheme and port of `req` count, and only in development.
  const origin = await publicOrigin(svc, scope.tenant.id, { hostname: "", protocol: req?.protocol ?? "https:", port: req?.port ?? "" });
  if (!origin) throw new AuthError("not_configured", "the tenant has no bound hostname to name its SAML IdP's entity ID after");
  const [signing, encryption] = await Promise.all([
    generateSigningCredential("RSA-SHA256", commonName("signing", scope.community.id)),
    generateSigningCredential("RSA-SHA256", commonName("encryption", scope.community.id)),
  ]);
  const secret = svc.config.keyEncryptionSecret;
  const [signingKeySealed, encryptionKeySealed] = await Promise.all([
    seal(secret, IDP_KEY_PURPOSE, signing.privateKeyPkcs8Pem),
    seal(secret, IDP_KEY_PURPOSE, encryption.privateKeyPkcs8Pem),
  ]);
  const now = Date.now();
  return {
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    identifier: uuid(),
    entityId: `${origin}/saml/${scope.community.id}`,
    signingCert: signing.certPem,
    signingKeySealed,
    encryptionCert: encryption.certPem,
    encryptionKeySealed,
    authnRequestsSigned: false,
    ssoBindings: [SAML_BINDING.redirect, SAML_BINDING.post],
    sloBindings: [SAML_BINDING.redirect, SAML_BINDING.post],
    createdAt: now,
    updatedAt: now,
  };
}

async function signingCredentialOf(svc: Services, c: StoredIdpConfig): Promise<SamlSigningCredential> {
  if (!c.signingCert.trim() || !c.signingKeySealed) throw notConfigured("idp_config has no signing certificate and key");
  const der = certificate(c.signingCert, "signingCert");
  const alg = await x509OrNotConfigured("signingCert", async () => certificateKeyAlgorithm(der));
  const pem = await unseal(svc, c.signingKeySealed, "signingKey");
  const key = await x509OrNotConfigured("signingKey", () => importPrivateKeyPem(pem, alg));
  const certKey = await x509OrNotConfigured("signingCert", () => importCertificateKey(derToPem(der, "CERTIFICATE"), alg));
  // PUT idp_config may change the certificate and keep the stored key: a pair that does not
  // match would sign what no SP holding the certificate can verify. Checked once per import.
  const probe = utf8(`saml-credential-probe:${c.identifier}`);
  const sig = await crypto.subtle.sign(signParams(alg), key, probe);
  if (!(await crypto.subtle.verify(signParams(alg), certKey, sig, probe))) throw notConfigured("signingKey does not match signingCert");
  return { key, alg, certPem: derToPem(der, "CERTIFICATE"), certB64: toBase64(der), entityId: c.entityId };
}

function certificate(text: string, field: string): Uint8Array {
  try {
    return certificateDer(text);
  } catch (e) {
    if (e instanceof X509Error) throw notConfigured(`${field} ${e.message}`);
    throw e;
  }
}

async function x509OrNotConfigured<T>(field: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof X509Error) throw notConfigured(`${field} ${e.message}`);
    throw e;
  }
}

async function unseal(svc: Services, sealed: string, field: string): Promise<string> {
  try {
    return await open(svc.config.keyEncryptionSecret, IDP_KEY_PURPOSE, sealed);
  } catch {
    // Sealed under another KEY_ENCRYPTION_SECRET, or damaged: the admin must PUT the key again.
    throw notConfigured(`${field} cannot be opened with this deployment's KEY_ENCRYPTION_SECRET`);
  }
}
