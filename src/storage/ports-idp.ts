/**
 * Storage ports of the service as an identity provider (issue 8): service providers (OIDC
 * clients, SAML SPs), the community's IdP definitions (scopes and claims) and consent receipts.
 * Same rules as ports.ts: core depends on these, storage/d1/ implements them. Each store keeps
 * the document's object whole (`body`) beside the few fields a look-up needs.
 */
export { DuplicateKeyError } from "./ports-authn";

export type ServiceProviderType = "oidc" | "saml";

export interface ServiceProviderRecord {
  /** 24 hex characters (the document's `_id`). */
  id: string;
  tenantId: string;
  communityId: string;
  type: ServiceProviderType;
  /** The featured application it was made from (auth0, okta, ...), or null. */
  featured: string | null;
  name: string;
  /** oidc_config.client_id, unique per community. */
  clientId: string | null;
  /** saml_config.entityId, unique per community. */
  entityId: string | null;
  /** crypto/hash.ts hash of the OIDC client secret (never the secret). */
  secretHash: string | null;
  /** secret-box sealed JSON of write-only settings; never returned by the API. */
  sealedSecrets: string | null;
  /** The service provider object the API shows (no secrets). */
  body: Record<string, unknown>;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface ServiceProviderStore {
  get(tenantId: string, communityId: string, id: string): Promise<ServiceProviderRecord | null>;
  findByClientId(tenantId: string, communityId: string, clientId: string): Promise<ServiceProviderRecord | null>;
  findByEntityId(tenantId: string, communityId: string, entityId: string): Promise<ServiceProviderRecord | null>;
  list(tenantId: string, communityId: string): Promise<ServiceProviderRecord[]>;
  /** Inserts; throws DuplicateKeyError when the client_id or entityId is taken in the community. */
  create(r: ServiceProviderRecord): Promise<void>;
  /**
   * Replaces the record if its stored version is still `expectedVersion` (bumping it): false
   * when it is gone or changed meanwhile. DuplicateKeyError as for create.
   */
  replace(r: ServiceProviderRecord, expectedVersion: number): Promise<boolean>;
  remove(tenantId: string, communityId: string, id: string): Promise<boolean>;
}

/** One claim of an IdP scope (seed 004 `PUT .../idp`, `oidc_config.scopes[].claims[]`). */
export interface ClaimMapping {
  claim_name: string;
  /** For `value_type: dynamic`: the attribute read (a user field for identity, a session fact for session). */
  attribute_name: string | null;
  attribute_type: "session" | "ledger" | "identity";
  value_type: "static" | "dynamic";
  /** For `value_type: static`: the claim's value. */
  value: string | null;
}

export interface OidcScopeDefinition {
  name: string;
  display_name: string;
  consent_required: boolean;
  claims: ClaimMapping[];
}

export interface IdentityProviderRecord {
  id: string;
  tenantId: string;
  communityId: string;
  type: "oidc" | "saml";
  /** The IdP object the API shows: `{ _id, type, oidc_config: { name, description, scopes } , ... }`. */
  body: Record<string, unknown>;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface IdentityProviderStore {
  list(tenantId: string, communityId: string): Promise<IdentityProviderRecord[]>;
  get(tenantId: string, communityId: string, id: string): Promise<IdentityProviderRecord | null>;
  create(r: IdentityProviderRecord): Promise<void>;
  /** As ServiceProviderStore.replace: optimistic on `expectedVersion`. */
  replace(r: IdentityProviderRecord, expectedVersion: number): Promise<boolean>;
  remove(tenantId: string, communityId: string, id: string): Promise<boolean>;
}

export interface ConsentRecord {
  /** consentReceiptID */
  id: string;
  tenantId: string;
  communityId: string;
  userUrn: string;
  spId: string;
  scopeNames: string[];
  /** The signed receipt as the document's consent object shows it. */
  receipt: Record<string, unknown>;
  createdAt: number;
  withdrawnAt: number | null;
}

export interface ConsentStore {
  create(r: ConsentRecord): Promise<void>;
  /** The user's receipts for one service provider (or all when spId is null), newest first; withdrawn ones only when asked. */
  list(tenantId: string, communityId: string, userUrn: string, spId: string | null, opts?: { includeWithdrawn?: boolean }): Promise<ConsentRecord[]>;
  /** Marks every live receipt of the user for the service provider withdrawn; how many were. */
  withdraw(tenantId: string, communityId: string, userUrn: string, spId: string, at: number): Promise<number>;
  /** Marks these receipts of the user withdrawn if still live; the ids this call withdrew. */
  withdrawReceipts(tenantId: string, communityId: string, userUrn: string, ids: string[], at: number): Promise<string[]>;
}

/**
 * An outside SAML IdP the community's users may sign in with (issue 9; seed 004 "External
 * Idp"): the service is the SP. `body` is the document's object (`connection`,
 * `routingPolicy`) without `connection.spPrivateKey`, which is sealed in `sealedSecrets`.
 */
export interface ExternalIdpRecord {
  /** 24 hex characters (the document's `_id`). */
  id: string;
  tenantId: string;
  communityId: string;
  /** connection.idpEntityId: unique per community (a Response names its IdP by its Issuer). */
  idpEntityId: string;
  body: Record<string, unknown>;
  /** secret-box sealed JSON `{ spPrivateKey }`, or null when no SP key was given; write-only. */
  sealedSecrets: string | null;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface ExternalIdpStore {
  get(tenantId: string, communityId: string, id: string): Promise<ExternalIdpRecord | null>;
  /** The configuration whose connection.idpEntityId is this Issuer (the ACS's look-up). */
  findByEntityId(tenantId: string, communityId: string, idpEntityId: string): Promise<ExternalIdpRecord | null>;
  /** In creation order. */
  list(tenantId: string, communityId: string): Promise<ExternalIdpRecord[]>;
  /** Inserts; throws DuplicateKeyError when the idpEntityId is taken in the community. */
  create(r: ExternalIdpRecord): Promise<void>;
  /** As ServiceProviderStore.replace: optimistic on `expectedVersion`, DuplicateKeyError as for create. */
  replace(r: ExternalIdpRecord, expectedVersion: number): Promise<boolean>;
  remove(tenantId: string, communityId: string, id: string): Promise<boolean>;
}
