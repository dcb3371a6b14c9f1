import { seal } from "../../crypto/secret-box";
import { importServiceAccountKey } from "../../crypto/service-account";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { enqueueJob } from "../jobs/queue";
import { objectId } from "./object-id";
import { buildRecord, spView, storeNew } from "./service-providers";
import type { ServiceProviderView } from "./types";
import { endpointProblem } from "./urls";
import { ADAPTERS } from "./vendors/adapters";
import { FEATURED_TYPES, featuredSamlConfig, SECRET_FIELDS, type FeaturedRequest, type FeaturedType } from "./vendors/templates";

/**
 * PUT .../serviceprovider/{type}: a service provider made from a featured application's
 * template (vendors/templates.ts). The vendor credentials in `config` are write-only: sealed
 * at rest (secret-box purpose `sp-vendor-secrets`) and answered only by name in
 * `featured.secrets`. The registration at the vendor is not done inline: the answer (the
 * service provider object) does not depend on it except for Okta's assigned ACS and audience,
 * and a vendor that is slow or down must not fail or stall the PUT. It is a queued job
 * (core/jobs, kind `sp_vendor_registration`, retried on network errors and 5xx), and its
 * outcome is written to `featured.registration` (`pending`, then `registered` with the
 * vendor's id, or `failed` with the reason; `manual` for Zendesk, which has no API credentials).
 */
export const VENDOR_SECRETS_PURPOSE = "sp-vendor-secrets";

const bad = (msg: string) => new AuthError("invalid_request", msg);
/** A DNS name (the GSuite domain): labels of letters, digits and hyphens. */
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export function isFeaturedType(t: string): t is FeaturedType {
  return (FEATURED_TYPES as readonly string[]).includes(t);
}

/** The rules beyond each config's shape (the surface checks types and required fields). */
async function checkRequest(type: FeaturedType, req: FeaturedRequest): Promise<void> {
  if (type === "gsuite") {
    if (!DOMAIN_NAME.test(req.domain)) throw bad("domain: the Google Workspace domain name (e.g. example.com)");
  } else {
    const problem = endpointProblem(req.domain);
    if (problem) throw bad(`domain ${problem}`);
  }
  if (req.ssoUrl === null) {
    if (type !== "zendesk") throw bad("ssoUrl is required");
  } else {
    const problem = endpointProblem(req.ssoUrl);
    if (problem) throw bad(`ssoUrl ${problem}`);
  }
  const c = req.config;
  if (type === "forgerock") {
    // "COT: optional if useExistingCOT === false"; "hostedSP: optional if useExistingCOT === true".
    if (c.useExistingCOT === true && !c.COT) throw bad("config.COT is required when useExistingCOT is true");
    if (c.useExistingCOT === false && !c.hostedSP) throw bad("config.hostedSP is required when useExistingCOT is false");
  }
  if (type === "gsuite") {
    const problem = endpointProblem(String(c.sloUrl));
    if (problem) throw bad(`config.sloUrl ${problem}`);
    await importServiceAccountKey(String(c.serviceAccountPrivateKey)).catch(() => {
      throw bad("config.serviceAccountPrivateKey must be the service account's PKCS#8 PEM RSA key");
    });
  }
}

export async function createFeaturedServiceProvider(svc: Services, scope: Scope, type: string, req: FeaturedRequest): Promise<ServiceProviderView> {
  if (!isFeaturedType(type)) throw bad(`unknown type "${type.slice(0, 40)}": supported types are ${FEATURED_TYPES.join(", ")}`);
  await checkRequest(type, req);
  const secretNames = SECRET_FIELDS[type];
  const secrets: Record<string, string> = {};
  const shown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req.config)) {
    if (secretNames.includes(k)) secrets[k] = String(v);
    else shown[k] = v;
  }
  const sealedSecrets = Object.keys(secrets).length ? await seal(svc.config.keyEncryptionSecret, VENDOR_SECRETS_PURPOSE, JSON.stringify(secrets)) : null;
  const id = objectId();
  const status = ADAPTERS[type] ? "pending" : "manual";
  const featuredBody = {
    type,
    domain: req.domain,
    ssoUrl: req.ssoUrl,
    config: shown,
    secrets: Object.keys(secrets).sort(),
    registration: { status, updatedAt: Date.now() },
  };
  const { record } = await buildRecord(scope, { type: "saml", name: req.name, saml_config: featuredSamlConfig(type, req, id) }, { id, featured: type, featuredBody, sealedSecrets });
  const view = await storeNew(svc, scope, record, null);
  if (status !== "pending") return view;
  try {
    await enqueueJob(svc, scope, { kind: "sp_vendor_registration", spId: id });
    return view;
  } catch (e) {
    // The service provider exists; only its registration cannot happen. Say so in the object
    // (rather than answer 500 for a create that took place), so the caller can retry by
    // deleting and creating it again.
    console.error("could not queue a vendor registration", e instanceof Error ? e.message : String(e));
    const failed = { ...featuredBody, registration: { status: "failed", detail: "the registration could not be queued: delete and create the service provider again", updatedAt: Date.now() } };
    const next = { ...record, body: { ...record.body, featured: failed }, updatedAt: Date.now() };
    if (!(await svc.identity.serviceProviders.replace(next, record.version))) return view;
    return spView({ ...next, version: record.version + 1 });
  }
}
