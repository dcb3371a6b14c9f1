import { open, seal } from "../../crypto/secret-box";
import { uuid } from "../../crypto/random";
import { DuplicateKeyError, type IdpConfigStore, type StoredIdpConfig } from "../../storage/ports-authn";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { forgetSamlCredential } from "../saml-idp/credential-cache";

/**
 * The community's own IdP configuration (seed 004, GET/PUT idp_config): entity id, signing and
 * encryption certificates and keys, bindings. Private keys are write-only: sealed at rest
 * (secret-box purpose "idp-config-key") and never returned; the view says only whether each
 * is set. The first PUT creates the config and assigns its `identifier`; later PUTs must name
 * it ("identifier: required during update call") and may omit the keys to keep them.
 */
export const IDP_KEY_PURPOSE = "idp-config-key";

export interface IdpConfigInput {
  entityId: string;
  signingCert: string;
  signingKey?: string;
  encryptionCert: string;
  encryptionKey?: string;
  authnRequestsSigned: boolean;
  sso_bindings: string[];
  slo_bindings: string[];
  identifier?: string;
}

export interface IdpConfigView {
  identifier: string;
  tenantId: string;
  communityId: string;
  entityId: string;
  signingCert: string;
  encryptionCert: string;
  authnRequestsSigned: boolean;
  sso_bindings: string[];
  slo_bindings: string[];
  hasSigningKey: boolean;
  hasEncryptionKey: boolean;
}

function view(c: StoredIdpConfig): IdpConfigView {
  return {
    identifier: c.identifier,
    tenantId: c.tenantId,
    communityId: c.communityId,
    entityId: c.entityId,
    signingCert: c.signingCert,
    encryptionCert: c.encryptionCert,
    authnRequestsSigned: c.authnRequestsSigned,
    sso_bindings: c.ssoBindings,
    slo_bindings: c.sloBindings,
    hasSigningKey: c.signingKeySealed.length > 0,
    hasEncryptionKey: c.encryptionKeySealed.length > 0,
  };
}

/** The community's config without its private keys; not_found before the first PUT. */
export async function getIdpConfig(store: IdpConfigStore, scope: Scope): Promise<IdpConfigView> {
  const c = await store.get(scope.tenant.id, scope.community.id);
  if (!c) throw new AuthError("not_found", "no IdP config for this community");
  return view(c);
}

/** Creates (no identifier, none stored) or updates (identifier of the stored one) the config. */
export async function putIdpConfig(svc: Services, store: IdpConfigStore, scope: Scope, input: IdpConfigInput): Promise<IdpConfigView> {
  const existing = await store.get(scope.tenant.id, scope.community.id);
  const now = Date.now();
  const sealKey = (k: string | undefined) => (k ? seal(svc.config.keyEncryptionSecret, IDP_KEY_PURPOSE, k) : Promise.resolve(null));
  const [signingKeySealed, encryptionKeySealed] = await Promise.all([sealKey(input.signingKey), sealKey(input.encryptionKey)]);
  const base = {
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    entityId: input.entityId,
    signingCert: input.signingCert,
    encryptionCert: input.encryptionCert,
    authnRequestsSigned: input.authnRequestsSigned,
    ssoBindings: input.sso_bindings,
    sloBindings: input.slo_bindings,
    updatedAt: now,
  };
  if (!existing) {
    if (input.identifier) throw new AuthError("not_found", "no IdP config with this identifier");
    if (!signingKeySealed || !encryptionKeySealed) throw new AuthError("invalid_request", "signingKey and encryptionKey are required");
    const created: StoredIdpConfig = { ...base, identifier: uuid(), signingKeySealed, encryptionKeySealed, createdAt: now };
    try {
      await store.create(created);
    } catch (e) {
      if (e instanceof DuplicateKeyError) throw new AuthError("invalid_request", "an IdP config was just created; send its identifier to update it");
      throw e;
    }
    forgetSamlCredential(scope.tenant.id, scope.community.id);
    recordAudit(svc, scope, "idp_config_created", { detail: { identifier: created.identifier } });
    return view(created);
  }
  if (!input.identifier) throw new AuthError("invalid_request", "identifier is required to update the IdP config");
  if (input.identifier !== existing.identifier) throw new AuthError("not_found", "no IdP config with this identifier");
  const updated: StoredIdpConfig = {
    ...base,
    identifier: existing.identifier,
    signingKeySealed: signingKeySealed ?? existing.signingKeySealed,
    encryptionKeySealed: encryptionKeySealed ?? existing.encryptionKeySealed,
    createdAt: existing.createdAt,
  };
  if (!(await store.update(updated))) throw new AuthError("not_found", "no IdP config with this identifier");
  forgetSamlCredential(scope.tenant.id, scope.community.id);
  recordAudit(svc, scope, "idp_config_updated", { detail: { identifier: updated.identifier } });
  return view(updated);
}

/** The private keys, opened, for the SAML IdP code that signs and decrypts (never for responses). */
export async function idpPrivateKeys(svc: Services, store: IdpConfigStore, scope: Scope): Promise<{ signingKey: string; encryptionKey: string } | null> {
  const c = await store.get(scope.tenant.id, scope.community.id);
  if (!c) return null;
  const [signingKey, encryptionKey] = await Promise.all([
    open(svc.config.keyEncryptionSecret, IDP_KEY_PURPOSE, c.signingKeySealed),
    open(svc.config.keyEncryptionSecret, IDP_KEY_PURPOSE, c.encryptionKeySealed),
  ]);
  return { signingKey, encryptionKey };
}
