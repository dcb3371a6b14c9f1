/**
 * The small interfaces the identity core needs from storage. D1 implements them in
 * storage/d1/, KV-backed secrets in storage/kv/. Core depends on these, never on drizzle.
 */
import type { SigningKeyStore } from "../crypto/keys";

export type { SigningKeyStore };

export interface Tenant {
  id: string;
  name: string;
  /** Raw settings JSON object; parse with core/tenants/settings.ts. */
  settings: Record<string, unknown>;
  createdAt: number;
}

export interface Community {
  id: string;
  tenantId: string;
  name: string;
  settings: Record<string, unknown>;
  createdAt: number;
}

export interface DomainBinding {
  hostname: string;
  tenantId: string;
  communityId: string;
}

export interface User {
  id: number;
  uid: string;
  dguid: string;
  tenantId: string;
  communityId: string;
  username: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  address: Record<string, unknown> | null;
  emailVerified: boolean;
  phoneVerified: boolean;
  status: string;
  disabled: boolean;
  type: string;
  roleValue: string | null;
  roles: string[];
  groups: string[];
  passwordHash: string | null;
  passwordChangedAt: number | null;
  mustChangePassword: boolean;
  tcAcceptedVersion: string | null;
  tcAcceptedAt: number | null;
  pinHash: string | null;
  totpSecretSealed: string | null;
  typingProfile: Record<string, unknown> | null;
  parentUserId: number | null;
  externalSubject: string | null;
  createdAt: number;
  updatedAt: number;
}

export type NewUser = Pick<User, "tenantId" | "communityId" | "username"> &
  Partial<Omit<User, "id" | "uid" | "dguid" | "tenantId" | "communityId" | "username" | "createdAt" | "updatedAt">> & {
    uid?: string;
    dguid?: string;
  };

export type UserPatch = Partial<Omit<User, "id" | "uid" | "dguid" | "tenantId" | "createdAt" | "updatedAt">>;

export interface TenantStore {
  getTenant(id: string): Promise<Tenant | null>;
  getCommunity(id: string): Promise<Community | null>;
  /** Communities of a tenant, by id or by name (Sentinel's corpId names one). */
  findCommunity(tenantId: string, idOrName: string): Promise<Community | null>;
  listCommunities(tenantId: string): Promise<Community[]>;
  domain(hostname: string): Promise<DomainBinding | null>;
  /** The tenant's bound hostnames, oldest binding first (core/tenants/public-origin.ts). */
  hostnames(tenantId: string): Promise<string[]>;
  createTenant(t: { id?: string; name: string; settings?: Record<string, unknown> }): Promise<Tenant>;
  /**
   * Creates a tenant, its first community and its hostnames in one D1 batch (all or nothing).
   * Throws DuplicateKeyError when an id or hostname is taken (a lost race included).
   */
  createTenantWithCommunity(
    t: { id?: string; name: string; settings?: Record<string, unknown> },
    c: { id?: string; name: string },
    hostnames: string[],
  ): Promise<{ tenant: Tenant; community: Community }>;
  updateTenantSettings(id: string, settings: Record<string, unknown>): Promise<void>;
  createCommunity(c: { id?: string; tenantId: string; name: string; settings?: Record<string, unknown> }): Promise<Community>;
  bindDomain(d: DomainBinding): Promise<void>;
  /** Removes a hostname's binding (management API); true when one was removed. */
  unbindDomain(hostname: string): Promise<boolean>;
}

export interface UserStore {
  byUid(tenantId: string, uid: string): Promise<User | null>;
  byId(tenantId: string, id: number): Promise<User | null>;
  /** Username is compared in lower case. */
  byUsername(communityId: string, username: string): Promise<User | null>;
  /** Across the tenant's communities (usernames are unique per community only). */
  byUsernameInTenant(tenantId: string, username: string): Promise<User[]>;
  byEmail(tenantId: string, email: string): Promise<User[]>;
  byExternalSubject(tenantId: string, subject: string): Promise<User | null>;
  children(tenantId: string, parentUserId: number): Promise<User[]>;
  create(u: NewUser): Promise<User>;
  update(tenantId: string, uid: string, patch: UserPatch): Promise<void>;
  /**
   * Replaces the password hash only while the stored one is still `expected` (compare and
   * set): a background re-hash must never overwrite a password set in the meantime.
   * True when it was written.
   */
  replacePasswordHash(tenantId: string, uid: string, expected: string, next: string): Promise<boolean>;
}

export interface OAuthClient {
  clientId: string;
  tenantId: string;
  communityId: string;
  name: string;
  secretHash: string;
  grants: string[];
  roles: string[];
  userId: number | null;
  disabled: boolean;
  createdAt: number;
}

export interface ClientStore {
  byId(clientId: string): Promise<OAuthClient | null>;
  create(c: Omit<OAuthClient, "createdAt">): Promise<OAuthClient>;
}

export interface AuditEvent {
  tenantId: string;
  type: string;
  userId?: string | null;
  actorId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditLog {
  record(e: AuditEvent): Promise<void>;
  /** Writes several events in one round trip; `at` is when each happened (epoch ms). */
  recordMany(events: (AuditEvent & { at: number })[]): Promise<void>;
  list(tenantId: string, opts?: { type?: string; userId?: string; limit?: number }): Promise<(AuditEvent & { at: number })[]>;
}

export interface MailMessage {
  tenantId: string;
  to: string;
  subject: string;
  text: string;
}

export interface StoredMail extends MailMessage {
  id: number;
  createdAt: number;
}

export interface MailStore {
  save(m: MailMessage): Promise<void>;
  list(opts: { tenantId?: string; to?: string; limit?: number }): Promise<StoredMail[]>;
}

/**
 * Expiring secrets in KV, keyed by the SHA-256 of the secret (callers pass the digest).
 * KV is never the authority for "already used" or "revoked": Durable Objects decide those.
 */
export interface SecretStore {
  put<T>(prefix: string, digest: string, value: T, ttlSeconds: number): Promise<void>;
  get<T>(prefix: string, digest: string): Promise<T | null>;
  delete(prefix: string, digest: string): Promise<void>;
}

/** An SSO connection of a tenant (SP-initiated login by email domain). */
export interface SsoConnection {
  id: string;
  tenantId: string;
  communityId: string;
  name: string;
  type: "oidc" | "saml";
  domains: string[];
  issuer: string;
  clientId: string;
  clientSecretSealed: string | null;
  /** How we authenticate at the IdP's token endpoint (OIDC Core §9). */
  tokenEndpointAuthMethod: "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none";
  /** private_key_jwt: our private key (a JWK, sealed) and its public half (shown to administrators). */
  clientKeySealed: string | null;
  clientPublicJwk: Record<string, string> | null;
  discoveryUrl: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  jwksUri: string | null;
  userinfoEndpoint: string | null;
  scopes: string;
  redirectUris: string[];
  defaultRoles: string[];
  enabled: boolean;
  createdAt: number;
}

export interface SsoConnectionStore {
  /** The enabled or disabled connection bound to a lower-case email domain in a tenant. */
  byDomain(tenantId: string, domain: string): Promise<SsoConnection | null>;
  byId(tenantId: string, id: string): Promise<SsoConnection | null>;
  list(tenantId: string): Promise<SsoConnection[]>;
  /** Throws a UNIQUE violation when one of its domains is already bound in the tenant. */
  create(c: Omit<SsoConnection, "createdAt">): Promise<SsoConnection>;
  /**
   * Replaces every field of an existing connection but its id, tenant and creation time, and
   * its domain index with `c.domains`, atomically. Null when there is no such connection;
   * throws a UNIQUE violation when one of the domains is bound to another connection.
   */
  update(c: Omit<SsoConnection, "createdAt">): Promise<SsoConnection | null>;
  /** Removes a connection and its domains; false when there was no such connection. */
  delete(tenantId: string, id: string): Promise<boolean>;
}

/** One terms-and-conditions acceptance. */
export interface TermsAcceptance {
  tenantId: string;
  userId: string;
  communityId: string;
  version: string;
  acceptedAt: number;
  ip: string | null;
  userAgent: string | null;
}

export interface TermsLogStore {
  record(a: TermsAcceptance): Promise<void>;
  list(tenantId: string, userId: string, limit?: number): Promise<TermsAcceptance[]>;
}

/** A client application's saved state for one user (CloudCheckr `?app=glass|lens`). */
export interface AppState {
  tenantId: string;
  userUid: string;
  app: string;
  state: Record<string, unknown>;
  updatedAt: number;
}

export interface AppStateStore {
  get(tenantId: string, userUid: string, app: string): Promise<AppState | null>;
  /** Inserts or replaces the state of (tenant, user, app). */
  put(s: AppState): Promise<void>;
}
