import { DuplicateKeyError, type ServiceProviderRecord } from "../../storage/ports-idp";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { OBJECT_ID, objectId } from "./object-id";
import { needsSecret, newClientSecret, oidcInputOf, oidcRegistration } from "./oidc-config";
import { samlConfig } from "./saml-config";
import type { ServiceProviderInput, ServiceProviderPatch, ServiceProviderView } from "./types";

/**
 * The Authn service-provider operations (seed 004 "Service Providers"): GET by `_id`, else by
 * `saml_config.entityId`, else by `oidc_config.client_id`; fetch; PUT (create); PATCH; DELETE.
 * A service provider belongs to one community of one tenant: every look-up is scoped by both,
 * so another community's or tenant's id is simply not found (404).
 *
 * The stored `body` is the document's object without `_id`, `communityId` and `__v` (those
 * come from the row, so they can never disagree with it) and without any secret: the OIDC
 * client secret lives only as SHA-256 in `secretHash` and is answered once, by the create or
 * by a PATCH with `regenerate_secret: true`; featured types' vendor credentials are sealed in
 * `sealedSecrets` (featured.ts).
 */

const notFound = () => new AuthError("not_found", "service provider not found");
const bad = (msg: string) => new AuthError("invalid_request", msg);
/** Attempts of a PATCH that lost the optimistic race to another writer, before 409. */
const PATCH_ATTEMPTS = 3;

/** The document's service provider object. */
export function spView(r: ServiceProviderRecord): ServiceProviderView {
  return { _id: r.id, ...r.body, name: r.name, type: r.type, communityId: r.communityId, __v: r.version };
}

/** The view with the new client secret, the one time it is shown (DCR §3.2: expires_at 0 = never). */
function withSecret(view: ServiceProviderView, secret: string | null): ServiceProviderView {
  if (!secret) return view;
  const oidc = (view.oidc_config ?? {}) as Record<string, unknown>;
  return { ...view, oidc_config: { ...oidc, client_secret: secret, client_secret_expires_at: 0 } };
}

function duplicate(e: unknown, r: ServiceProviderRecord): never {
  if (e instanceof DuplicateKeyError) {
    throw bad(
      r.type === "oidc"
        ? `a service provider with oidc_config.client_id "${r.clientId}" already exists in this community`
        : `a service provider with saml_config.entityId "${r.entityId}" already exists in this community`,
    );
  }
  throw e;
}

/** By `_id`, else `saml_config.entityId`, else `oidc_config.client_id` (the id arrives URL-decoded). */
export async function findServiceProvider(svc: Services, scope: Scope, id: string): Promise<ServiceProviderRecord | null> {
  const store = svc.identity.serviceProviders;
  const t = scope.tenant.id;
  const c = scope.community.id;
  if (!id || id.length > 1024) return null;
  const byId = OBJECT_ID.test(id) ? await store.get(t, c, id) : null;
  return byId ?? (await store.findByEntityId(t, c, id)) ?? (await store.findByClientId(t, c, id));
}

export async function getServiceProvider(svc: Services, scope: Scope, id: string): Promise<ServiceProviderView> {
  const r = await findServiceProvider(svc, scope, id);
  if (!r) throw notFound();
  return spView(r);
}

export async function fetchServiceProviders(svc: Services, scope: Scope): Promise<ServiceProviderView[]> {
  return (await svc.identity.serviceProviders.list(scope.tenant.id, scope.community.id)).map(spView);
}

/** The fields every type shares, as stored in the body. */
function commonBody(p: { environment?: string | null; logo?: string | null; forceReauthentication?: boolean }): Record<string, unknown> {
  return {
    environment: p.environment ?? null,
    logo: p.logo ?? null,
    forceReauthentication: p.forceReauthentication === true,
  };
}

/** A new record of the scope's community from a validated input (used by featured.ts too). */
export async function buildRecord(scope: Scope, input: ServiceProviderInput, extra: { id?: string; featured?: string; featuredBody?: Record<string, unknown>; sealedSecrets?: string | null } = {}) {
  const now = Date.now();
  let secret: string | null = null;
  const base = { id: extra.id ?? objectId(), tenantId: scope.tenant.id, communityId: scope.community.id, name: input.name, featured: extra.featured ?? null, version: 0, createdAt: now, updatedAt: now, sealedSecrets: extra.sealedSecrets ?? null };
  const common = { name: input.name, type: input.type, ...commonBody(input), ...(extra.featuredBody ? { featured: extra.featuredBody } : {}) };
  let record: ServiceProviderRecord;
  if (input.type === "oidc") {
    const reg = oidcRegistration(input.oidc_config, Math.floor(now / 1000));
    let secretHash: string | null = null;
    if (needsSecret(reg.method)) {
      const s = await newClientSecret();
      secret = s.secret;
      secretHash = s.hash;
    }
    record = { ...base, type: "oidc", clientId: reg.clientId, entityId: null, secretHash, body: { ...common, oidc_config: reg.config } };
  } else {
    const config = samlConfig(input.saml_config);
    record = { ...base, type: "saml", clientId: null, entityId: config.entityId as string, secretHash: null, body: { ...common, saml_config: config } };
  }
  return { record, secret };
}

/** Stores a built record: DuplicateKeyError is 400 with the key that is taken. */
export async function storeNew(svc: Services, scope: Scope, record: ServiceProviderRecord, secret: string | null): Promise<ServiceProviderView> {
  await svc.identity.serviceProviders.create(record).catch((e: unknown) => duplicate(e, record));
  recordAudit(svc, scope, "service_provider_created", { detail: { id: record.id, type: record.type, featured: record.featured } });
  return withSecret(spView(record), secret);
}

/** PUT .../serviceprovider: "for type SAML send only saml_config, for type OIDC only oidc_config". */
export async function createServiceProvider(svc: Services, scope: Scope, input: ServiceProviderInput): Promise<ServiceProviderView> {
  if (input.type === "oidc" && input.saml_config !== undefined) throw bad("type oidc: send only oidc_config");
  if (input.type === "saml" && input.oidc_config !== undefined) throw bad("type saml: send only saml_config");
  const { record, secret } = await buildRecord(scope, input);
  return storeNew(svc, scope, record, secret);
}

/** The record a PATCH makes of the stored one, and the new secret to show (if any). */
async function patched(r: ServiceProviderRecord, p: ServiceProviderPatch): Promise<{ next: ServiceProviderRecord; secret: string | null }> {
  if (p.type !== undefined && p.type !== r.type) throw bad("type cannot change: create a new service provider");
  if (r.type === "oidc" && p.saml_config !== undefined) throw bad("type oidc: send only oidc_config");
  if (r.type === "saml" && p.oidc_config !== undefined) throw bad("type saml: send only saml_config");
  const name = p.name ?? r.name;
  const common = {
    environment: p.environment !== undefined ? p.environment : r.body.environment,
    logo: p.logo !== undefined ? p.logo : r.body.logo,
    forceReauthentication: p.forceReauthentication ?? r.body.forceReauthentication === true,
  };
  const body: Record<string, unknown> = { ...r.body, name, ...common };
  const next: ServiceProviderRecord = { ...r, name, body, updatedAt: Date.now() };
  let secret: string | null = null;
  if (r.type === "oidc") {
    const stored = (r.body.oidc_config ?? {}) as Record<string, unknown>;
    const merged = { ...oidcInputOf(stored), ...(p.oidc_config ?? {}) };
    // RFC 7592 §2.2: a client's client_id does not change with an update.
    if (p.oidc_config?.client_id !== undefined && p.oidc_config.client_id !== r.clientId) throw bad("oidc_config.client_id cannot change");
    const issuedAt = typeof stored.client_id_issued_at === "number" ? stored.client_id_issued_at : Math.floor(r.createdAt / 1000);
    const reg = oidcRegistration({ ...merged, client_id: r.clientId ?? undefined }, issuedAt);
    if (p.regenerate_secret && !needsSecret(reg.method)) throw bad("regenerate_secret: only clients authenticating with client_secret_basic or client_secret_post have a secret");
    let secretHash = needsSecret(reg.method) ? r.secretHash : null;
    // A new secret when asked for, or when the client turns confidential and has none yet.
    if (needsSecret(reg.method) && (p.regenerate_secret || !secretHash)) {
      const s = await newClientSecret();
      secret = s.secret;
      secretHash = s.hash;
    }
    next.body = { ...body, oidc_config: reg.config };
    next.secretHash = secretHash;
  } else {
    if (p.regenerate_secret) throw bad("regenerate_secret: only OIDC clients have a secret");
    const stored = (r.body.saml_config ?? {}) as Record<string, unknown>;
    const config = samlConfig({ ...stored, ...(p.saml_config ?? {}) } as Parameters<typeof samlConfig>[0]);
    next.body = { ...body, saml_config: config };
    next.entityId = config.entityId as string;
  }
  return { next, secret };
}

/**
 * PATCH .../serviceprovider/{id}: the given fields over the stored object, validated whole,
 * written only if nobody changed it meanwhile (the store's version check). A lost race is
 * merged again over the fresh object, up to three times; a caller that sends `__v` asks for
 * its own check instead and gets 409 when the object moved on.
 */
export async function patchServiceProvider(svc: Services, scope: Scope, id: string, p: ServiceProviderPatch): Promise<ServiceProviderView> {
  if (!OBJECT_ID.test(id)) throw notFound();
  const store = svc.identity.serviceProviders;
  for (let attempt = 0; attempt < PATCH_ATTEMPTS; attempt++) {
    const r = await store.get(scope.tenant.id, scope.community.id, id);
    if (!r) throw notFound();
    if (p.__v !== undefined && p.__v !== r.version) throw new AuthError("conflict", `__v ${p.__v} is stale: the service provider is at __v ${r.version}`);
    const { next, secret } = await patched(r, p);
    const done = await store.replace(next, r.version).catch((e: unknown) => duplicate(e, next));
    if (done) {
      recordAudit(svc, scope, "service_provider_updated", { detail: { id, secretRegenerated: secret !== null } });
      return withSecret(spView({ ...next, version: r.version + 1 }), secret);
    }
    if (p.__v !== undefined) break;
  }
  throw new AuthError("conflict", "the service provider changed meanwhile; read it again and retry");
}

/** DELETE .../serviceprovider/{id} ("Id of MongoDB object"). */
export async function deleteServiceProvider(svc: Services, scope: Scope, id: string): Promise<void> {
  if (!OBJECT_ID.test(id) || !(await svc.identity.serviceProviders.remove(scope.tenant.id, scope.community.id, id))) throw notFound();
  recordAudit(svc, scope, "service_provider_deleted", { detail: { id } });
}
