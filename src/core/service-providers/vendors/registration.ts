import { open } from "../../../crypto/secret-box";
import { DuplicateKeyError, type ServiceProviderRecord } from "../../../storage/ports-idp";
import { recordAudit } from "../../audit/audit";
import type { Scope, Services } from "../../context";
import { VENDOR_SECRETS_PURPOSE } from "../featured";
import { samlConfig } from "../saml-config";
import { ADAPTERS, secretsOf, type VendorResult } from "./adapters";
import { VendorError } from "./http";
import { FEATURED_TYPES, type FeaturedType } from "./templates";

/**
 * The queued registration of a featured service provider at its vendor (job kind
 * `sp_vendor_registration`). Delivery is at least once, so the job first checks that the
 * service provider still exists and is still `pending`; a redelivered job after success does
 * nothing. A transient failure (network, vendor 5xx/429) throws and the queue retries; a
 * permanent one (vendor 4xx: wrong credentials, refused input; no IdP config to register)
 * is recorded as `failed` with its reason and not retried. The vendor's answer is written
 * with the store's optimistic replace, re-read on a lost race (an administrator's PATCH).
 * The job message holds only the service provider's id: the credentials stay sealed in D1.
 */
const WRITE_ATTEMPTS = 3;

interface Registration {
  status: "registered" | "failed";
  vendor_id?: string;
  detail?: string;
  updatedAt: number;
}

const featuredOf = (r: ServiceProviderRecord) => (r.body.featured ?? {}) as Record<string, unknown>;
const statusOf = (r: ServiceProviderRecord) => ((featuredOf(r).registration ?? {}) as { status?: unknown }).status;

async function callVendor(svc: Services, scope: Scope, r: ServiceProviderRecord, type: FeaturedType): Promise<{ reg: Registration; result: VendorResult | null }> {
  const adapter = ADAPTERS[type]!;
  const f = featuredOf(r);
  const idp = await svc.authnConfig.idpConfigs.get(scope.tenant.id, scope.community.id);
  if (!idp) return { reg: { status: "failed", detail: "the community has no IdP config (PUT idp_config) to register at the vendor", updatedAt: Date.now() }, result: null };
  const secrets = r.sealedSecrets ? secretsOf(await open(svc.config.keyEncryptionSecret, VENDOR_SECRETS_PURPOSE, r.sealedSecrets)) : {};
  try {
    const result = await adapter({
      fetch: svc.fetch,
      name: r.name,
      domain: String(f.domain),
      config: (f.config ?? {}) as Record<string, unknown>,
      secrets,
      idp: { entityId: idp.entityId, signingCert: idp.signingCert, ssoUrl: String(f.ssoUrl) },
    });
    return { reg: { status: "registered", vendor_id: result.vendorId, updatedAt: Date.now() }, result };
  } catch (e) {
    if (e instanceof VendorError && e.permanent) return { reg: { status: "failed", detail: e.message, updatedAt: Date.now() }, result: null };
    throw e;
  }
}

function withOutcome(r: ServiceProviderRecord, reg: Registration, result: VendorResult | null): ServiceProviderRecord {
  const next: ServiceProviderRecord = { ...r, body: { ...r.body, featured: { ...featuredOf(r), registration: reg } }, updatedAt: Date.now() };
  if (result?.saml) {
    const config = samlConfig({ ...(r.body.saml_config as Parameters<typeof samlConfig>[0]), ...result.saml });
    next.body = { ...next.body, saml_config: config };
    next.entityId = config.entityId as string;
  }
  return next;
}

/** Runs the registration of service provider `spId` of the scope's community (the job's body). */
export async function registerAtVendor(svc: Services, scope: Scope, spId: string): Promise<void> {
  const store = svc.identity.serviceProviders;
  const first = await store.get(scope.tenant.id, scope.community.id, spId);
  if (!first || !first.featured || !(FEATURED_TYPES as readonly string[]).includes(first.featured)) return;
  const type = first.featured as FeaturedType;
  if (statusOf(first) !== "pending" || !ADAPTERS[type]) return;
  let { reg, result } = await callVendor(svc, scope, first, type);
  let r: ServiceProviderRecord | null = first;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS && r; attempt++) {
    if (statusOf(r) !== "pending") return;
    try {
      if (await store.replace(withOutcome(r, reg, result), r.version)) {
        recordAudit(svc, scope, "service_provider_vendor_registration", { detail: { id: spId, featured: type, status: reg.status } });
        return;
      }
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
      // The entity id the vendor assigned is taken by another service provider of the community.
      reg = { status: "failed", vendor_id: reg.vendor_id, detail: "the vendor's entity id is already registered in this community", updatedAt: Date.now() };
      result = null;
      continue;
    }
    r = await store.get(scope.tenant.id, scope.community.id, spId);
  }
}
