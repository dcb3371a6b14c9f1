import type { Services } from "../../core/context";
import { objectId } from "../../core/service-providers/object-id";
import { samlConfig } from "../../core/service-providers/saml-config";
import type { ServiceProviderRecord } from "../../storage/ports-idp";

/**
 * The demo's SAML side (issue 9): one service provider of type saml in the demo community, so
 * that `npm run dev` can show an SP-initiated and an IdP-initiated SAML sign-in against the
 * community's IdP (`/saml/<communityId>/sso`, `/saml/<communityId>/idp-init/<spId>`), with a
 * local SP listening on 127.0.0.1:5400 (http is allowed on loopback, saml-config.ts).
 *
 * TODO(lead, engineer D): a demo WS-Federation relying party (type saml with
 * `saml_config.wsfed` enabled) belongs here once D's field is on main.
 *
 * Idempotent like the rest of the seed: an SP with the entity id is kept as it is.
 */
export const DEMO_SAML = {
  name: "Demo SAML app",
  entityId: "http://127.0.0.1:5400/saml/metadata",
  acsUrl: "http://127.0.0.1:5400/saml/acs",
} as const;

export interface SamlSeedOutput {
  /** Under the tenant's origin: the IdP's metadata, SSO and IdP-initiated paths. */
  metadataPath: string;
  ssoPath: string;
  idpInitPath: string;
  sp: { spId: string; entityId: string; acsUrl: string; created: boolean };
}

export async function seedSamlDemo(svc: Services, tenantId: string, communityId: string): Promise<SamlSeedOutput> {
  const base = `/saml/${encodeURIComponent(communityId)}`;
  const out = (spId: string, created: boolean): SamlSeedOutput => ({
    metadataPath: `${base}/metadata`,
    ssoPath: `${base}/sso`,
    idpInitPath: `${base}/idp-init/${spId}`,
    sp: { spId, entityId: DEMO_SAML.entityId, acsUrl: DEMO_SAML.acsUrl, created },
  });
  const existing = await svc.identity.serviceProviders.findByEntityId(tenantId, communityId, DEMO_SAML.entityId);
  if (existing) return out(existing.id, false);
  const now = Date.now();
  const id = objectId();
  // Validated as the API would (saml-config.ts); idpInitiated set here as well in case the
  // validation of that field is not on this branch.
  const config = { ...samlConfig({ entityId: DEMO_SAML.entityId, assertionConsumerServiceURL: DEMO_SAML.acsUrl, nameid: { format: "emailAddress", value: "email", attribute_type: "identity" } }), idpInitiated: true };
  const record: ServiceProviderRecord = {
    id,
    tenantId,
    communityId,
    type: "saml",
    featured: null,
    name: DEMO_SAML.name,
    clientId: null,
    entityId: DEMO_SAML.entityId,
    secretHash: null,
    sealedSecrets: null,
    body: { _id: id, name: DEMO_SAML.name, type: "saml", communityId, saml_config: config },
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
  await svc.identity.serviceProviders.create(record);
  return out(id, true);
}
