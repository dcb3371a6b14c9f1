/**
 * Storage ports of the Authn API's configuration endpoints (schemes, SP catalog, IdP config).
 * Kept beside ports.ts (same rules: core depends on these, D1 implements them in storage/d1/).
 */

/** Thrown by a store when a write would break a uniqueness rule (a duplicate or a lost race). */
export class DuplicateKeyError extends Error {}

/** An Authn authentication scheme (seed 004 "Schemes"); module objects are kept as given. */
export interface AuthScheme {
  id: string;
  tenantId: string;
  communityId: string;
  tag: string;
  enabled: boolean;
  isDefault: boolean;
  dbModule: Record<string, unknown> | null;
  modules: Record<string, unknown>[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

export type AuthSchemeInput = Pick<AuthScheme, "tag" | "enabled" | "isDefault" | "dbModule" | "modules">;

export interface AuthSchemeStore {
  list(tenantId: string, communityId: string): Promise<AuthScheme[]>;
  get(tenantId: string, communityId: string, id: string): Promise<AuthScheme | null>;
  /** Inserts; when isDefault, clears the community's previous default in the same batch. Throws DuplicateKeyError on a duplicate tag. */
  create(tenantId: string, communityId: string, input: AuthSchemeInput): Promise<AuthScheme>;
  /** Replaces the whole scheme (bumping its version); null when it does not exist; DuplicateKeyError on a duplicate tag. */
  replace(tenantId: string, communityId: string, id: string, input: AuthSchemeInput): Promise<AuthScheme | null>;
  remove(tenantId: string, communityId: string, id: string): Promise<boolean>;
}

export interface SpCatalogItem {
  name: string;
  logo: string;
  sso_url: string;
  template: string;
  type?: string;
  description?: string;
}

export interface SpCatalogStore {
  list(tenantId: string): Promise<SpCatalogItem[]>;
  upsert(tenantId: string, item: SpCatalogItem): Promise<void>;
  remove(tenantId: string, name: string): Promise<boolean>;
}

/** A community's IdP configuration as stored: private keys sealed (crypto/secret-box.ts). */
export interface StoredIdpConfig {
  tenantId: string;
  communityId: string;
  identifier: string;
  entityId: string;
  signingCert: string;
  signingKeySealed: string;
  encryptionCert: string;
  encryptionKeySealed: string;
  authnRequestsSigned: boolean;
  ssoBindings: string[];
  sloBindings: string[];
  createdAt: number;
  updatedAt: number;
}

export interface IdpConfigStore {
  get(tenantId: string, communityId: string): Promise<StoredIdpConfig | null>;
  /** Inserts the community's first config; throws DuplicateKeyError when one exists (a lost race). */
  create(c: StoredIdpConfig): Promise<void>;
  /** Replaces the config whose identifier is `c.identifier`; false when there is none. */
  update(c: StoredIdpConfig): Promise<boolean>;
}

export type { License, LicenseLevel, LicenseStore } from "./ports-licenses";
