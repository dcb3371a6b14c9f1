import { env } from "cloudflare:test";
import { hashPassword } from "../../src/crypto/password";
import { sha256Hex } from "../../src/crypto/hash";
import { servicesFor } from "../../src/http/services";
import type { Community, OAuthClient, Tenant, User } from "../../src/storage/ports";
import type { Env } from "../../src/env";

export const PASSWORD = "correct horse battery staple";

export interface TestTenant {
  tenant: Tenant;
  community: Community;
  /** Host bound to the tenant: send it as the Host header. */
  host: string;
  admin: User;
  alice: User;
  /** Must change password (NEW_PASSWORD_REQUIRED). */
  newbie: User;
  client: OAuthClient;
  clientSecret: string;
}

let counter = 0;

/** Services over the test's real local bindings. */
export function services() {
  return servicesFor(env as unknown as Env);
}

/**
 * Creates a fresh tenant with one community bound to a unique host, three users and an OAuth
 * client. Every test file gets its own, so tests never share counters or sessions.
 */
export async function createTestTenant(settings: Record<string, unknown> = {}): Promise<TestTenant> {
  const svc = services();
  const n = `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const tenant = await svc.tenants.createTenant({ id: `t-${n}`, name: `Tenant ${n}`, settings });
  const community = await svc.tenants.createCommunity({ id: `c-${n}`, tenantId: tenant.id, name: `default-${n}` });
  const host = `${n}.tenant.test`;
  await svc.tenants.bindDomain({ hostname: host, tenantId: tenant.id, communityId: community.id });
  const passwordHash = await hashPassword(PASSWORD, svc.config.passwordPepper);
  const base = { tenantId: tenant.id, communityId: community.id, passwordHash, passwordChangedAt: Date.now() };
  const admin = await svc.users.create({ ...base, username: "admin", email: `admin@${host}`, roles: ["admin", "user"] });
  const alice = await svc.users.create({ ...base, username: "Alice", email: `alice@${host}`, roles: ["user"], firstName: "Alice" });
  const newbie = await svc.users.create({ ...base, username: "newbie", email: `newbie@${host}`, roles: ["user"], mustChangePassword: true });
  const clientSecret = `secret-${n}-0123456789abcdef`;
  const client = await svc.clients.create({
    clientId: `client-${n}`,
    tenantId: tenant.id,
    communityId: community.id,
    name: "Test client",
    secretHash: await sha256Hex(clientSecret),
    grants: ["client_credentials"],
    roles: ["api"],
    userId: null,
    disabled: false,
  });
  return { tenant, community, host, admin, alice, newbie, client, clientSecret };
}
