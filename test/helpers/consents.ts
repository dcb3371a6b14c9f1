import { oidcClientOf, type OidcClient } from "../../src/core/oidc-provider/clients";
import type { Scope } from "../../src/core/context";
import { parseTenantSettings } from "../../src/core/tenants/settings";
import type { ServiceProviderRecord } from "../../src/storage/ports-idp";
import { services, type TestTenant } from "./tenant";

/**
 * Consent fixtures for workerd tests: an OIDC service provider and the community's IdP scope
 * definitions, written straight to the stores (the Authn service-provider and IdP routes are
 * other changes), and the Scope core functions take.
 */
export const hex24 = (): string => [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("");

export function scopeOf(t: TestTenant, settings: Record<string, unknown> = t.tenant.settings): Scope {
  return { tenant: t.tenant, settings: parseTenantSettings(settings, t.tenant.id), community: t.community, ip: "198.51.100.9", userAgent: "consent-tests/1.0" };
}

export async function createOidcSp(t: TestTenant, opts: { type?: "oidc" | "saml"; policyUri?: string } = {}): Promise<{ sp: ServiceProviderRecord; client: OidcClient }> {
  const now = Date.now();
  const id = hex24();
  const clientId = `app-${id.slice(0, 8)}`;
  const type = opts.type ?? "oidc";
  const sp: ServiceProviderRecord = {
    id,
    tenantId: t.tenant.id,
    communityId: t.community.id,
    type,
    featured: null,
    name: `App ${id.slice(0, 6)}`,
    clientId: type === "oidc" ? clientId : null,
    entityId: type === "saml" ? `https://sp.example/${id}` : null,
    secretHash: null,
    sealedSecrets: null,
    body: type === "oidc" ? { oidc_config: { client_id: clientId, client_name: "Consent test app", redirect_uris: ["https://app.example/cb"], ...(opts.policyUri ? { policy_uri: opts.policyUri } : {}) } } : { saml_config: { entityId: `https://sp.example/${id}` } },
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
  await services().identity.serviceProviders.create(sp);
  // A SAML SP is no OIDC client; consents name it by spId and client id alike.
  const client = oidcClientOf(sp) ?? ({ spId: sp.id, clientId: sp.entityId ?? sp.id, name: sp.name } as OidcClient);
  return { sp, client };
}

/** The community's IdP: email and ledger need consent, profile does not. */
export async function createIdpScopes(t: TestTenant): Promise<void> {
  const now = Date.now();
  const claim = (claim_name: string, attribute_name: string) => ({ claim_name, attribute_name, attribute_type: "identity", value_type: "dynamic", value: null });
  await services().identity.idps.create({
    id: hex24(),
    tenantId: t.tenant.id,
    communityId: t.community.id,
    type: "oidc",
    body: {
      type: "oidc",
      oidc_config: {
        name: "idp",
        description: "consent tests",
        scopes: [
          { name: "email", display_name: "Your email address", consent_required: true, claims: [claim("email", "email"), claim("email_verified", "email_verified")] },
          { name: "ledger", display_name: "Your ledger", consent_required: true, claims: [{ claim_name: "balance", attribute_name: "balance", attribute_type: "ledger", value_type: "dynamic", value: null }] },
          { name: "profile", display_name: "Your profile", consent_required: false, claims: [claim("given_name", "firstname")] },
        ],
      },
    },
    version: 0,
    createdAt: now,
    updatedAt: now,
  });
}
