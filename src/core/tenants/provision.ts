import { sha256Hex } from "../../crypto/hash";
import { hashPassword } from "../../crypto/password";
import type { Community, OAuthClient, Tenant, User } from "../../storage/ports";
import type { Services } from "../context";
import { AuthError } from "../errors";
import { checkPasswordPolicy } from "../users/password-policy";
import { DuplicateKeyError } from "../../storage/ports-authn";
import { parseTenantSettings, tenantSettingsSchema } from "./settings";

/**
 * Reusable provisioning: tenants with their first community and bound hostnames, users with a
 * password, OAuth clients with a secret. Used by the development seed (POST /dev/seed) and by
 * management APIs, so that every way of creating these objects goes through the same stores,
 * the same password hashing and the same policy checks, and a seed cannot drift from the code
 * that later authenticates against it.
 */

export interface ProvisionTenantInput {
  tenantId?: string;
  name: string;
  settings?: Record<string, unknown>;
  communityId?: string;
  communityName: string;
  /** Hostnames that select this tenant and community (the `domains` table). */
  hostnames?: string[];
}

export interface ProvisionedTenant {
  tenant: Tenant;
  community: Community;
  /** False when the tenant already existed and was returned as is. */
  created: boolean;
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$/;

/** A DNS hostname (lower-cased before the test) or a dotted IPv4 address: what `domains` may hold. */
export function isValidHostname(h: string): boolean {
  return h.length <= 253 && (HOSTNAME.test(h.toLowerCase()) || /^\d{1,3}(\.\d{1,3}){3}$/.test(h));
}

/**
 * Creates a tenant with one community and binds its hostnames. Idempotent on the tenant id:
 * when the tenant exists, nothing is written and the existing tenant and its community (the
 * one named `communityId`, else its first) are returned with `created: false`. A taken
 * community id or a hostname bound to any tenant is a `conflict`, refused before any write.
 */
export async function provisionTenant(svc: Services, input: ProvisionTenantInput): Promise<ProvisionedTenant> {
  for (const h of input.hostnames ?? []) {
    if (!isValidHostname(h)) {
      throw new AuthError("invalid_request", `invalid hostname: ${h}`);
    }
  }
  if (input.tenantId) {
    const existing = await svc.tenants.getTenant(input.tenantId);
    if (existing) {
      const community =
        (input.communityId ? await svc.tenants.getCommunity(input.communityId) : null) ??
        (await svc.tenants.listCommunities(existing.id))[0] ??
        null;
      if (!community || community.tenantId !== existing.id) throw new AuthError("conflict", "tenant exists without the expected community");
      return { tenant: existing, community, created: false };
    }
  }
  // Everything is checked before anything is stored, so bad input never leaves a half tenant.
  const settingsCheck = tenantSettingsSchema.safeParse(input.settings ?? {});
  if (!settingsCheck.success) throw new AuthError("invalid_request", "invalid tenant settings");
  if (input.communityId && (await svc.tenants.getCommunity(input.communityId))) throw new AuthError("conflict", "community id is taken");
  for (const h of input.hostnames ?? []) {
    // Binding upserts: without this check a new tenant could take over another's domain.
    if (await svc.tenants.domain(h)) throw new AuthError("conflict", `hostname ${h.toLowerCase()} is already bound`);
  }
  // One batch: a failure midway (or a concurrent request taking an id or hostname checked
  // above) leaves nothing behind. A lost race on the tenant id returns the winner's tenant.
  try {
    const { tenant, community } = await svc.tenants.createTenantWithCommunity(
      { ...(input.tenantId ? { id: input.tenantId } : {}), name: input.name, settings: input.settings ?? {} },
      { ...(input.communityId ? { id: input.communityId } : {}), name: input.communityName },
      input.hostnames ?? [],
    );
    return { tenant, community, created: true };
  } catch (e) {
    if (!(e instanceof DuplicateKeyError)) throw e;
    if (input.tenantId && (await svc.tenants.getTenant(input.tenantId))) return provisionTenant(svc, { ...input, hostnames: [] });
    throw new AuthError("conflict", "a community id or hostname was taken meanwhile");
  }
}

export interface ProvisionUserInput {
  tenantId: string;
  communityId: string;
  username: string;
  password: string;
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  roles: string[];
  groups?: string[];
  /** The user must set a new password at the next login (NEW_PASSWORD_REQUIRED). */
  mustChangePassword?: boolean;
  /**
   * Check the password against the tenant's rules (default true). Seeds of users who must
   * change their password anyway may turn it off for a deliberately weak initial password.
   */
  enforcePolicy?: boolean;
}

/**
 * Creates a user with a password hashed the same way the login path verifies it (PBKDF2,
 * peppered; src/crypto/password.ts). Answers `conflict` when the username is taken in the
 * community (usernames compare in lower case).
 */
export async function provisionUser(svc: Services, input: ProvisionUserInput): Promise<User> {
  const tenant = await svc.tenants.getTenant(input.tenantId);
  if (!tenant) throw new AuthError("tenant_not_found", "unknown tenant");
  const community = await svc.tenants.getCommunity(input.communityId);
  if (!community || community.tenantId !== tenant.id) throw new AuthError("tenant_not_found", "unknown community");
  if (input.enforcePolicy !== false) {
    checkPasswordPolicy(parseTenantSettings(tenant.settings), input.password, { username: input.username });
  }
  if (await svc.users.byUsername(community.id, input.username)) throw new AuthError("conflict", "username is taken");
  const passwordHash = await hashPassword(input.password, svc.config.passwordPepper);
  return svc.users.create({
    tenantId: tenant.id,
    communityId: community.id,
    username: input.username,
    email: input.email ?? null,
    firstName: input.firstName ?? null,
    lastName: input.lastName ?? null,
    roles: input.roles,
    groups: input.groups ?? [],
    passwordHash,
    // An initial password was set for the user, not changed by them (croit's
    // passwordWasNeverChanged reads this); setUserPassword stamps the first real change.
    passwordChangedAt: null,
    mustChangePassword: input.mustChangePassword ?? false,
  });
}

export interface ProvisionClientInput {
  tenantId: string;
  communityId: string;
  clientId: string;
  /** The client secret in clear; only its SHA-256 is stored (src/core/clients/client-credentials.ts). */
  secret: string;
  name: string;
  grants?: string[];
  roles?: string[];
  userId?: number | null;
}

/** Shortest client secret accepted: secrets are machine-generated, 128 bits at least. */
export const MIN_CLIENT_SECRET_LENGTH = 22;

/**
 * Creates an OAuth client (RFC 6749 §2.3.1 client password). The secret is stored as its
 * SHA-256, which is enough because client secrets are long random values, not passwords.
 */
export async function provisionClient(svc: Services, input: ProvisionClientInput): Promise<OAuthClient> {
  if (input.secret.length < MIN_CLIENT_SECRET_LENGTH) throw new AuthError("invalid_request", `client secret must have at least ${MIN_CLIENT_SECRET_LENGTH} characters`);
  const community = await svc.tenants.getCommunity(input.communityId);
  if (!community || community.tenantId !== input.tenantId) throw new AuthError("tenant_not_found", "unknown community");
  if (await svc.clients.byId(input.clientId)) throw new AuthError("conflict", "client id is taken");
  return svc.clients.create({
    clientId: input.clientId,
    tenantId: input.tenantId,
    communityId: input.communityId,
    name: input.name,
    secretHash: await sha256Hex(input.secret),
    grants: input.grants ?? ["client_credentials"],
    roles: input.roles ?? [],
    userId: input.userId ?? null,
    disabled: false,
  });
}
