import { z } from "zod";
import type { Services } from "../../core/context";
import { sealTotpSecret } from "../../core/mfa/totp";
import { provisionClient, provisionTenant, provisionUser } from "../../core/tenants/provision";
import type { User } from "../../storage/ports";
import { AuthnSeedInput, type AuthnSeedOutput } from "../authn/dev-seed";
import { OidcSeedInput, seedOidcDemo, type OidcSeedOutput } from "./seed-oidc";
import { seedSamlDemo, type SamlSeedOutput } from "./seed-saml";

/**
 * The demo data of `npm run dev` and of the end-to-end harness, created through the same core
 * provisioning code as everything else (src/core/tenants/provision.ts). The caller (the dev
 * script, the harness) generates the secrets and keeps them; this module decides everything
 * else: ids, usernames and roles, in one place.
 */

/** Roles of the demo admin: every role some surface checks for an administrator. */
export const DEMO_ADMIN_ROLES = [
  "admin",
  "user",
  // Sentinel (core/auth/roles.ts): every capability in every organisation, SSO connections.
  "SYSTEM_ADMIN",
  // Sentinel: may impersonate users (POST /loginAs). CHANGE_PASSWORD is never a user's role:
  // only reset tokens hold it.
  "LOGIN_AS",
] as const;
export const DEMO_USER_ROLES = ["user"] as const;
export const DEMO_CLIENT_ROLES = ["api"] as const;

export const DEMO = {
  tenantId: "demo",
  tenantName: "Demo tenant",
  communityId: "demo-community",
  communityName: "default",
  hostnames: ["localhost", "127.0.0.1"],
  usernames: { admin: "admin", user: "alice", newbie: "newbie", totp: "bob" },
  clientId: "demo-client",
} as const;

const password = z.string().min(8).max(128);

export const SeedRequest = z.object({
  passwords: z.object({ admin: password, user: password, newbie: password }),
  clientSecret: z.string().min(22).max(256),
  /** Optional tenant settings for a new demo tenant (the harness raises limits for benchmarks). */
  settings: z.record(z.string(), z.unknown()).optional(),
  /** Further users with the ordinary role (e.g. benchmark users); created when missing. */
  extraUsers: z
    .array(z.object({ username: z.string().min(1).max(64).regex(/^[a-z0-9._-]+$/), password }))
    .max(100)
    .optional(),
  // AUTHN: the Authn helper adds its seed input here (e.g. a license key it generated).
  authn: AuthnSeedInput.optional(),
  /**
   * A user with TOTP enrolled (RFC 6238, SHA-1, 6 digits, 30 s), so the hosted login's TOTP page
   * can be seen and tested: the caller generates the base32 secret and computes the codes.
   */
  totp: z.object({ password, secret: z.string().regex(/^[A-Z2-7]{32}$/, "32 base32 characters (160 bits)") }).optional(),
  /** The OpenID Provider demo (seed-oidc.ts): registered when given. */
  oidc: OidcSeedInput.optional(),
});
export type SeedRequest = z.infer<typeof SeedRequest>;

export interface SeededUser {
  uid: string;
  id: number;
  username: string;
  roles: string[];
  mustChangePassword: boolean;
}

export interface SeedResponse {
  /** False when the demo tenant already existed: nothing was seeded again. */
  created: boolean;
  tenant: { id: string; name: string };
  community: { id: string; name: string };
  hostnames: string[];
  users: { admin: SeededUser; user: SeededUser; newbie: SeededUser; extra: SeededUser[]; totp?: SeededUser };
  client: { clientId: string; grants: string[]; roles: string[] };
  // AUTHN: the Authn helper adds `authn: {...}` here (license id and level, service key pair
  // public half); the dev script stores it under "authn" in .demo-credentials.json.
  authn?: AuthnSeedOutput;
  /** The demo IdP definition and OIDC clients (seed-oidc.ts), when the request asked for them. */
  oidc?: OidcSeedOutput;
  /** The demo SAML service provider (seed-saml.ts), seeded with the OIDC demo. */
  saml?: SamlSeedOutput;
}

const seeded = (u: User): SeededUser => ({ uid: u.uid, id: u.id, username: u.username, roles: u.roles, mustChangePassword: u.mustChangePassword });

/**
 * Seeds the demo tenant once. When the tenant exists, nothing is written (but missing extra
 * users are added) and the existing ids are answered, so running the dev script again keeps
 * the data and its credentials.
 */
export async function seedDemo(svc: Services, req: SeedRequest): Promise<SeedResponse> {
  const { tenant, community, created } = await provisionTenant(svc, {
    tenantId: DEMO.tenantId,
    name: DEMO.tenantName,
    communityId: DEMO.communityId,
    communityName: DEMO.communityName,
    hostnames: [...DEMO.hostnames],
    ...(req.settings ? { settings: req.settings } : {}),
  });
  const base = { tenantId: tenant.id, communityId: community.id };
  const ensure = async (username: string, make: () => Promise<User>): Promise<User> =>
    (await svc.users.byUsername(community.id, username)) ?? make();

  const admin = await ensure(DEMO.usernames.admin, () =>
    provisionUser(svc, { ...base, username: DEMO.usernames.admin, password: req.passwords.admin, email: "admin@localhost", firstName: "Ada", lastName: "Admin", roles: [...DEMO_ADMIN_ROLES] }),
  );
  const user = await ensure(DEMO.usernames.user, () =>
    provisionUser(svc, { ...base, username: DEMO.usernames.user, password: req.passwords.user, email: "alice@localhost", firstName: "Alice", lastName: "User", roles: [...DEMO_USER_ROLES] }),
  );
  const newbie = await ensure(DEMO.usernames.newbie, () =>
    provisionUser(svc, { ...base, username: DEMO.usernames.newbie, password: req.passwords.newbie, email: "newbie@localhost", firstName: "Ned", lastName: "Newbie", roles: [...DEMO_USER_ROLES], mustChangePassword: true }),
  );
  const extra: User[] = [];
  for (const x of req.extraUsers ?? []) {
    extra.push(await ensure(x.username, () => provisionUser(svc, { ...base, username: x.username, password: x.password, email: `${x.username}@localhost`, roles: [...DEMO_USER_ROLES] })));
  }
  const totpInput = req.totp;
  const totp = totpInput
    ? await ensure(DEMO.usernames.totp, async () => {
        const u = await provisionUser(svc, { ...base, username: DEMO.usernames.totp, password: totpInput.password, email: "bob@localhost", firstName: "Bob", lastName: "Twofactor", roles: [...DEMO_USER_ROLES] });
        const totpSecretSealed = await sealTotpSecret(svc, totpInput.secret);
        await svc.users.update(tenant.id, u.uid, { totpSecretSealed });
        return { ...u, totpSecretSealed };
      })
    : null;
  const client =
    (await svc.clients.byId(DEMO.clientId)) ??
    (await provisionClient(svc, { ...base, clientId: DEMO.clientId, secret: req.clientSecret, name: "Demo client", grants: ["client_credentials"], roles: [...DEMO_CLIENT_ROLES] }));

  // AUTHN: the Authn helper provisions the demo license and service key pair here.
  // (Done by POST /dev/seed itself, which has the bindings: src/api/authn/dev-seed.ts.)

  const oidc = req.oidc ? await seedOidcDemo(svc, tenant.id, community.id, req.oidc) : undefined;
  const saml = req.oidc ? await seedSamlDemo(svc, tenant.id, community.id) : undefined;

  return {
    created,
    tenant: { id: tenant.id, name: tenant.name },
    community: { id: community.id, name: community.name },
    hostnames: [...DEMO.hostnames],
    users: { admin: seeded(admin), user: seeded(user), newbie: seeded(newbie), extra: extra.map(seeded), ...(totp ? { totp: seeded(totp) } : {}) },
    client: { clientId: client.clientId, grants: client.grants, roles: client.roles },
    ...(oidc ? { oidc } : {}),
    ...(saml ? { saml } : {}),
  };
}
