import { sha256Hex } from "../../crypto/hash";
import { certificateDer, derToPem } from "../../crypto/x509";
import type { IdentityProviderRecord } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { samlSigningCredential } from "../saml-idp/credential";
import { publicOrigin, type RequestAddress } from "../tenants/public-origin";
import { checkSamlConfig, type SamlIdpSettings } from "./rules";

/**
 * The community's SAML IdP as an entry of the Authn IdP operations (issue 9: type `saml` in
 * `idp/fetch`, `PUT idp`, `PATCH idp/{id}`, `DELETE idp/{id}`). The IdP itself, its key and
 * entity ID, is the community's idp_config (core/saml-idp/credential.ts); this entry names it
 * (`name`, `description`, the only stored fields) and shows what a service provider's admin
 * needs to register it: entity ID, front-channel URLs and signing certificate, all derived
 * on read so they can never disagree with what the IdP actually signs with.
 */
export interface SamlIdpConfigView extends SamlIdpSettings {
  entityId: string;
  /** `<public origin>/saml/<communityId>/sso`; null when the tenant has no bound hostname. */
  ssoUrl: string | null;
  sloUrl: string | null;
  metadataUrl: string | null;
  /** The signing certificate as PEM; null when idp_config's certificate does not parse. */
  signingCert: string | null;
}

/** The id of the community's SAML IdP: derived like oidcIdpId (one per community, races included). */
export async function samlIdpId(tenantId: string, communityId: string): Promise<string> {
  return (await sha256Hex(`idp\u0000saml\u0000${tenantId}\u0000${communityId}`)).slice(0, 24);
}

/** The stored settings as written (validated then); a malformed row shows as empty rather than failing the list. */
export function storedSamlSettings(r: IdentityProviderRecord): SamlIdpSettings {
  const c = checkSamlConfig(r.body.saml_config);
  return c.ok ? c.value : { name: "", description: "" };
}

function pemOrNull(cert: string): string | null {
  try {
    return derToPem(certificateDer(cert), "CERTIFICATE");
  } catch {
    return null;
  }
}

/**
 * Makes sure the community has a SAML credential (generating one stored as its idp_config
 * when it has none: credential.ts), so that the IdP exists as soon as its entry does.
 * AuthError not_configured when it cannot (no bound hostname to name the entity ID after).
 */
export async function ensureSamlCredential(svc: Services, scope: Scope, req?: RequestAddress): Promise<void> {
  await samlSigningCredential(svc, scope, req);
}

/**
 * The derived part of the view. Reads the idp_config row (no private key is unsealed for a
 * listing); a community whose idp_config is gone gets a new credential here, as on any use.
 */
export async function samlConfigView(svc: Services, scope: Scope, settings: SamlIdpSettings, req?: RequestAddress): Promise<SamlIdpConfigView> {
  let config = await svc.authnConfig.idpConfigs.get(scope.tenant.id, scope.community.id);
  if (!config) {
    await ensureSamlCredential(svc, scope, req);
    config = await svc.authnConfig.idpConfigs.get(scope.tenant.id, scope.community.id);
  }
  const origin = await publicOrigin(svc, scope.tenant.id, req ?? { hostname: "", protocol: "https:", port: "" });
  const front = origin ? `${origin}/saml/${encodeURIComponent(scope.community.id)}` : null;
  return {
    ...settings,
    entityId: config?.entityId ?? "",
    ssoUrl: front && `${front}/sso`,
    sloUrl: front && `${front}/slo`,
    metadataUrl: front && `${front}/metadata`,
    signingCert: config ? pemOrNull(config.signingCert) : null,
  };
}
