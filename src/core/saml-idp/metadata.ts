import { certificateBase64, X509Error } from "../../crypto/x509";
import { bindingUrn, buildIdpMetadata } from "../../protocols/saml/idp-metadata";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { endpointProblem } from "../service-providers/urls";
import { NAMEID_FORMATS } from "./attributes";
import type { IdpSigner } from "./sso";

/**
 * Authn `POST .../idp/{idpIdentifier}/metadata` (seed 004): the community's SAML IdP metadata
 * from its idp_config (entityId, signing and encryption certificates, authnRequestsSigned,
 * sso/slo bindings), with the SSO and SLO locations the caller gives (the document's
 * `ssoUrl`, `sloUrl`: the caller hosts the front channel, so it names it; https, or http on
 * loopback, as every endpoint we register). `idpIdentifier` is the idp_config's `identifier`;
 * any other value, or a community without idp_config, is not_found. Signed with the
 * community's signing credential when the caller passes how to load it.
 */
export async function idpMetadata(
  svc: Services,
  scope: Scope,
  idpIdentifier: string,
  urls: { ssoUrl: string; sloUrl: string },
  signer?: () => Promise<IdpSigner>,
): Promise<string> {
  const config = await svc.authnConfig.idpConfigs.get(scope.tenant.id, scope.community.id);
  if (!config || config.identifier !== idpIdentifier) throw new AuthError("not_found", "no IdP with this identifier in this community");
  for (const [name, url] of Object.entries(urls)) {
    const problem = endpointProblem(url);
    if (problem) throw new AuthError("invalid_request", `${name} ${problem}`);
  }
  const cert = (field: string, v: string): string | undefined => {
    if (!v.trim()) return undefined;
    try {
      return certificateBase64(v);
    } catch (e) {
      throw new AuthError("not_configured", `idp_config.${field} ${e instanceof X509Error ? e.message : "is not a certificate"}`);
    }
  };
  const signingCertB64 = cert("signingCert", config.signingCert);
  if (!signingCertB64) throw new AuthError("not_configured", "idp_config has no signingCert");
  const encryptionCertB64 = cert("encryptionCert", config.encryptionCert);
  // Only now: loading the credential may create one, which a refused request must not do.
  const sign = signer ? await signer() : undefined;
  const urns = (list: string[]) => list.map(bindingUrn).filter((b): b is string => b !== null);
  return buildIdpMetadata({
    entityId: config.entityId,
    wantAuthnRequestsSigned: config.authnRequestsSigned,
    signingCertB64,
    ...(encryptionCertB64 ? { encryptionCertB64 } : {}),
    ssoUrl: urls.ssoUrl,
    sloUrl: urls.sloUrl,
    ssoBindings: urns(config.ssoBindings),
    sloBindings: urns(config.sloBindings),
    nameIdFormats: NAMEID_FORMATS,
    ...(sign ? { sign: { key: sign.key, alg: sign.alg, ...(sign.certB64 ? { certB64: sign.certB64 } : {}) } } : {}),
  });
}
