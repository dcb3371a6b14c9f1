import { importCertificateKey, importRsaOaepCertificateKey, X509Error } from "../../crypto/x509";
import type { ServiceProviderRecord } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";

/**
 * A SAML service provider as the IdP uses it: the typed view of a stored service provider of
 * type `saml` (its `body.saml_config`, validated on save by core/service-providers/saml-config.ts;
 * still read defensively here, since every SSO reads it).
 */
export interface SamlSp {
  spId: string;
  name: string;
  entityId: string;
  acsUrl: string;
  /** The document's assertionMethod: how the service sends the browser to the ACS ("post"). */
  assertionMethod: string;
  authRequestSignRequired: boolean;
  assertionSignRequired: boolean;
  signingCert: string | null;
  encryptionCert: string | null;
  nameid: { format: string; value: string; attribute_type: "session" | "ledger" | "identity" } | null;
  attributes: { claim_name: string; attribute_name: string | null; attribute_type: "session" | "ledger" | "identity"; value_type: "static" | "dynamic"; value: string | null }[];
  idpInitiated: boolean;
  forceReauthentication: boolean;
}

const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);
const ATTR_TYPES = new Set(["session", "ledger", "identity"]);

/** The SAML view of a stored service provider; null when it is not a usable SAML SP. */
export function samlSpOf(sp: ServiceProviderRecord): SamlSp | null {
  if (sp.type !== "saml") return null;
  const raw = sp.body.saml_config;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return null;
  const c = raw as Record<string, unknown>;
  const entityId = str(c.entityId);
  const acsUrl = str(c.assertionConsumerServiceURL);
  if (!entityId || !acsUrl) return null;
  const n = c.nameid && typeof c.nameid === "object" ? (c.nameid as Record<string, unknown>) : null;
  const nameid =
    n && str(n.format) && typeof n.value === "string" && ATTR_TYPES.has(String(n.attribute_type))
      ? { format: n.format as string, value: n.value, attribute_type: n.attribute_type as SamlSp["attributes"][number]["attribute_type"] }
      : null;
  const attributes = (Array.isArray(c.attributes) ? c.attributes : [])
    .filter((a): a is Record<string, unknown> => !!a && typeof a === "object")
    .filter((a) => str(a.claim_name) && ATTR_TYPES.has(String(a.attribute_type)) && (a.value_type === "static" || a.value_type === "dynamic"))
    .map((a) => ({
      claim_name: a.claim_name as string,
      attribute_name: str(a.attribute_name),
      attribute_type: a.attribute_type as SamlSp["attributes"][number]["attribute_type"],
      value_type: a.value_type as "static" | "dynamic",
      value: typeof a.value === "string" ? a.value : null,
    }));
  return {
    spId: sp.id,
    name: sp.name,
    entityId,
    acsUrl,
    assertionMethod: str(c.assertionMethod) ?? "post",
    authRequestSignRequired: c.authRequestSignRequired === true,
    assertionSignRequired: c.assertionSignRequired !== false,
    signingCert: str(c.signingCert),
    encryptionCert: str(c.encryptionCert),
    nameid,
    attributes,
    idpInitiated: c.idpInitiated === true,
    forceReauthentication: sp.body.forceReauthentication === true,
  };
}

/** The community's SAML SP with this entityID (the AuthnRequest's Issuer); null when there is none. */
export async function findSamlSpByEntityId(svc: Services, scope: Scope, entityId: string): Promise<SamlSp | null> {
  if (entityId.length > 1024) return null;
  const sp = await svc.identity.serviceProviders.findByEntityId(scope.tenant.id, scope.community.id, entityId);
  return sp && sp.communityId === scope.community.id ? samlSpOf(sp) : null;
}

/** The community's SAML SP by its id; null when missing, of another community, or not SAML. */
export async function findSamlSpById(svc: Services, scope: Scope, spId: string): Promise<SamlSp | null> {
  const sp = await svc.identity.serviceProviders.get(scope.tenant.id, scope.community.id, spId);
  return sp && sp.communityId === scope.community.id ? samlSpOf(sp) : null;
}

function unusable(field: string, e: unknown): AuthError {
  return new AuthError("not_configured", `the service provider's ${field} ${e instanceof X509Error ? e.message : "cannot be used"}`);
}

/** The SP's signing certificate's key, to verify its requests with (pinned: never from KeyInfo). */
export async function spVerifyKeys(sp: SamlSp): Promise<CryptoKey[]> {
  if (!sp.signingCert) return [];
  try {
    return [await importCertificateKey(sp.signingCert)];
  } catch (e) {
    throw unusable("signingCert", e);
  }
}

/** The SP's encryption certificate's RSA-OAEP key (rsa-oaep-mgf1p, SHA-1); null when it has none. */
export async function spEncryptionKey(sp: SamlSp): Promise<CryptoKey | null> {
  if (!sp.encryptionCert) return null;
  try {
    return await importRsaOaepCertificateKey(sp.encryptionCert, "SHA-1");
  } catch (e) {
    throw unusable("encryptionCert", e);
  }
}
