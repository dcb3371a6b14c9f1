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
 * And a demo WS-Federation relying party: type saml with `saml_config.wsfed` enabled
 * (core/wsfed/relying-party.ts finds it by wtrealm = its entity id; the reply address is its
 * ACS URL), for `/wsfed/<communityId>?wa=wsignin1.0&wtrealm=...`.
 *
 * Idempotent like the rest of the seed: an SP with the entity id is kept as it is.
 */
export const DEMO_SAML = {
  name: "Demo SAML app",
  entityId: "http://127.0.0.1:5400/saml/metadata",
  acsUrl: "http://127.0.0.1:5400/saml/acs",
  wsfed: { name: "Demo WS-Fed app", realm: "http://127.0.0.1:5400/wsfed", reply: "http://127.0.0.1:5400/wsfed/reply" },
} as const;

export interface SamlSeedOutput {
  /** Under the tenant's origin: the IdP's metadata, SSO and IdP-initiated paths. */
  metadataPath: string;
  ssoPath: string;
  idpInitPath: string;
  sp: { spId: string; entityId: string; acsUrl: string; created: boolean };
  wsfed: { endpointPath: string; spId: string; realm: string; reply: string; created: boolean };
}

async function ensureSp(svc: Services, tenantId: string, communityId: string, name: string, entityId: string, config: Record<string, unknown>): Promise<{ id: string; created: boolean }> {
  const existing = await svc.identity.serviceProviders.findByEntityId(tenantId, communityId, entityId);
  if (existing) return { id: existing.id, created: false };
  const now = Date.now();
  const id = objectId();
  const record: ServiceProviderRecord = {
    id,
    tenantId,
    communityId,
    type: "saml",
    featured: null,
    name,
    clientId: null,
    entityId,
    secretHash: null,
    sealedSecrets: null,
    body: { _id: id, name, type: "saml", communityId, saml_config: config },
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
  await svc.identity.serviceProviders.create(record);
  return { id, created: true };
}

export async function seedSamlDemo(svc: Services, tenantId: string, communityId: string): Promise<SamlSeedOutput> {
  const base = `/saml/${encodeURIComponent(communityId)}`;
  const nameid = { format: "emailAddress", value: "email", attribute_type: "identity" } as const;
  // Validated as the API would (saml-config.ts).
  const sp = await ensureSp(svc, tenantId, communityId, DEMO_SAML.name, DEMO_SAML.entityId, samlConfig({ entityId: DEMO_SAML.entityId, assertionConsumerServiceURL: DEMO_SAML.acsUrl, idpInitiated: true, nameid }));
  const w = DEMO_SAML.wsfed;
  const rp = await ensureSp(svc, tenantId, communityId, w.name, w.realm, samlConfig({ entityId: w.realm, assertionConsumerServiceURL: w.reply, wsfed: { enabled: true }, nameid }));
  return {
    metadataPath: `${base}/metadata`,
    ssoPath: `${base}/sso`,
    idpInitPath: `${base}/idp-init/${sp.id}`,
    sp: { spId: sp.id, entityId: DEMO_SAML.entityId, acsUrl: DEMO_SAML.acsUrl, created: sp.created },
    wsfed: { endpointPath: `/wsfed/${encodeURIComponent(communityId)}`, spId: rp.id, realm: w.realm, reply: w.reply, created: rp.created },
  };
}
