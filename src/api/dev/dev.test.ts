import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../app";
import type { Env } from "../../env";
import { callJson } from "../../../test/helpers/http";
import { services } from "../../../test/helpers/tenant";
import { DEMO, DEMO_ADMIN_ROLES } from "./seed";
import { DEMO_OIDC } from "./seed-oidc";
import { oidcClientOf } from "../../core/oidc-provider/clients";
import { sha256Hex } from "../../crypto/hash";
import { matchRedirectUri } from "../../protocols/oidc/redirect-uri";
import { totpNow, verifyTotp } from "../../core/mfa/totp";
import type { Scope } from "../../core/context";

const seedBody = {
  passwords: { admin: "admin-pass-0123456789", user: "alice-pass-0123456789", newbie: "newbie-pass-0123456789" },
  clientSecret: "demo-client-secret-0123456789abcdef",
};
const host = "localhost";

describe("POST /dev/seed", () => {
  it("refuses bad input without storing anything", async () => {
    for (const body of ["{not json", { passwords: { admin: "short" } }, { ...seedBody, clientSecret: "x" }, []]) {
      const r = await callJson("POST", "/dev/seed", body, { host });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: "invalid_request" });
    }
    expect(await services().tenants.getTenant(DEMO.tenantId)).toBeNull();
  });

  it("seeds the demo tenant once, through the real core", async () => {
    const first = await callJson<Record<string, any>>("POST", "/dev/seed", seedBody, { host });
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    expect(first.body.tenant.id).toBe(DEMO.tenantId);
    expect(first.body.users.admin.roles).toEqual([...DEMO_ADMIN_ROLES]);
    expect(first.body.users.newbie.mustChangePassword).toBe(true);
    expect(first.body.client).toMatchObject({ clientId: DEMO.clientId, grants: ["client_credentials"] });
    expect(JSON.stringify(first.body)).not.toContain(seedBody.clientSecret);
    expect(JSON.stringify(first.body)).not.toContain(seedBody.passwords.admin);

    // Both hostnames select the tenant; the seeded passwords work through the login path.
    for (const h of DEMO.hostnames) {
      const login = await callJson("POST", "/v1/login", { username: "admin", password: seedBody.passwords.admin }, { host: h });
      expect(login.status).toBe(200);
      expect(typeof login.body.access_token).toBe("string");
    }
    const challenge = await callJson("POST", "/v1/login", { username: "newbie", password: seedBody.passwords.newbie }, { host });
    expect(challenge.body.challenge_name).toBe("NEW_PASSWORD_REQUIRED");

    // A second run keeps the data: same ids, nothing seeded twice, other secrets ignored.
    const again = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, passwords: { admin: "another-pass-0123456789", user: "x-pass-0123456789", newbie: "y-pass-0123456789" } }, { host });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    expect(again.body.users.admin.uid).toBe(first.body.users.admin.uid);
    expect(again.body.users.user.uid).toBe(first.body.users.user.uid);
    const stillOld = await callJson("POST", "/v1/login", { username: "admin", password: seedBody.passwords.admin }, { host });
    expect(stillOld.status).toBe(200);
    const users = await services().users.byUsernameInTenant(DEMO.tenantId, "admin");
    expect(users).toHaveLength(1);
  });

  it("adds missing extra users on a later run", async () => {
    const r = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, extraUsers: [{ username: "bench1", password: "bench-pass-0123456789" }] }, { host });
    expect(r.status).toBe(200);
    expect(r.body.users.extra).toHaveLength(1);
    const login = await callJson("POST", "/v1/login", { username: "bench1", password: "bench-pass-0123456789" }, { host });
    expect(login.status).toBe(200);
  });
});

describe("POST /dev/seed: the OpenID Provider demo", () => {
  const oidcSecret = "demo-oidc-secret-0123456789abcdefghijklmnopqrstuvwxyz";
  const spStore = () => services().identity.serviceProviders;

  it("refuses a malformed or short confidential client secret without registering anything", async () => {
    for (const oidc of [{ clientSecret: "short" }, { clientSecret: 12345 }, "secret", [], { clientSecret: "x".repeat(300) }]) {
      const r = await callJson("POST", "/dev/seed", { ...seedBody, oidc }, { host });
      expect(r.status, JSON.stringify(oidc)).toBe(400);
      expect(r.body).toMatchObject({ error: "invalid_request" });
    }
    expect(await spStore().findByClientId(DEMO.tenantId, DEMO.communityId, DEMO_OIDC.confidential.clientId)).toBeNull();
  });

  it("registers the demo IdP and both clients on a later run, secret stored hashed, then keeps them", async () => {
    const r = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, oidc: { clientSecret: oidcSecret } }, { host });
    expect(r.status).toBe(200); // the tenant existed: only the missing parts were added
    expect(r.body.oidc.issuerPath).toBe(`/oidc/${DEMO.communityId}`);
    expect(r.body.oidc.clients.confidential).toMatchObject({ clientId: DEMO_OIDC.confidential.clientId, public: false, created: true, redirectUri: "http://127.0.0.1/callback" });
    expect(r.body.oidc.clients.public).toMatchObject({ clientId: DEMO_OIDC.public.clientId, public: true, created: true, tokenEndpointAuthMethod: "none" });
    expect(r.body.oidc.idp.scopes).toEqual([{ name: "profile", consent_required: false }, { name: "email", consent_required: true }]);
    expect(JSON.stringify(r.body)).not.toContain(oidcSecret);

    // The provider's own view of the rows (core/oidc-provider/clients.ts).
    const conf = await spStore().findByClientId(DEMO.tenantId, DEMO.communityId, DEMO_OIDC.confidential.clientId);
    expect(conf?.secretHash).toBe(await sha256Hex(oidcSecret));
    expect(JSON.stringify(conf?.body)).not.toContain(oidcSecret);
    const confClient = oidcClientOf(conf!)!;
    expect(confClient).toMatchObject({ public: false, tokenEndpointAuthMethod: "client_secret_basic", requirePkce: true, grantTypes: ["authorization_code", "refresh_token"] });
    expect(confClient.allowedScopes).toEqual(["openid", "profile", "email"]);
    const pubRow = await spStore().findByClientId(DEMO.tenantId, DEMO.communityId, DEMO_OIDC.public.clientId);
    const pub = oidcClientOf(pubRow!)!;
    expect(pub).toMatchObject({ public: true, secretHash: null, requirePkce: true, tokenEndpointAuthMethod: "none" });
    // RFC 8252 §7.3: any port on the loopback redirect; nothing else.
    expect(matchRedirectUri(pub.redirectUris, "http://127.0.0.1:49152/callback")).toBe("http://127.0.0.1/callback");
    expect(matchRedirectUri(pub.redirectUris, "http://localhost:49152/callback")).toBeNull();
    expect(matchRedirectUri(pub.redirectUris, "http://127.0.0.1:49152/callback/x")).toBeNull();

    const idps = await services().identity.idps.list(DEMO.tenantId, DEMO.communityId);
    expect(idps).toHaveLength(1);
    const scopes = (idps[0]!.body.oidc_config as { scopes: { name: string; consent_required: boolean; claims: { claim_name: string }[] }[] }).scopes;
    expect(scopes.find((s) => s.name === "email")?.claims.map((c) => c.claim_name)).toEqual(["email", "email_verified"]);

    // Idempotent: another secret does not replace the stored one; nothing is registered twice.
    const again = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, oidc: { clientSecret: `${oidcSecret}-other` } }, { host });
    expect(again.status).toBe(200);
    expect(again.body.oidc.clients.confidential).toMatchObject({ created: false, spId: r.body.oidc.clients.confidential.spId });
    expect(again.body.oidc.idp).toMatchObject({ created: false, id: r.body.oidc.idp.id });
    expect((await spStore().findByClientId(DEMO.tenantId, DEMO.communityId, DEMO_OIDC.confidential.clientId))?.secretHash).toBe(await sha256Hex(oidcSecret));
    expect((await spStore().list(DEMO.tenantId, DEMO.communityId)).map((r) => r.type).sort()).toEqual(["oidc", "oidc", "saml", "saml"]);
    expect(await services().identity.idps.list(DEMO.tenantId, DEMO.communityId)).toHaveLength(1);
  });

  it("leaves OIDC out when the request does not ask for it", async () => {
    const r = await callJson<Record<string, any>>("POST", "/dev/seed", seedBody, { host });
    expect(r.status).toBe(200);
    expect(r.body.oidc).toBeUndefined();
  });
});

describe("POST /dev/seed: the demo TOTP user", () => {
  const totp = { password: "bob-pass-0123456789", secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" };

  it("refuses a secret that is not 32 base32 characters", async () => {
    for (const secret of ["short", "jbswy3dpehpk3pxpjbswy3dpehpk3pxp", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PX1", 42]) {
      const r = await callJson("POST", "/dev/seed", { ...seedBody, totp: { ...totp, secret } }, { host });
      expect(r.status, String(secret)).toBe(400);
    }
    expect(await services().users.byUsername(DEMO.communityId, DEMO.usernames.totp)).toBeNull();
  });

  it("adds bob with the caller's TOTP secret sealed; his codes verify; a later run keeps him", async () => {
    const r = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, totp }, { host });
    expect(r.status).toBe(200);
    expect(r.body.users.totp).toMatchObject({ username: "bob", roles: ["user"] });
    expect(JSON.stringify(r.body)).not.toContain(totp.secret);
    const svc = services();
    const bob = await svc.users.byUsername(DEMO.communityId, "bob");
    expect(bob?.totpSecretSealed).toBeTruthy();
    expect(bob?.totpSecretSealed).not.toContain(totp.secret);
    const scope = { tenant: await svc.tenants.getTenant(DEMO.tenantId), community: await svc.tenants.getCommunity(DEMO.communityId) } as Scope;
    expect(await verifyTotp(svc, scope, bob, await totpNow(totp.secret))).toBe(true);
    const login = await callJson("POST", "/v1/login", { username: "bob", password: totp.password }, { host });
    expect(login.status).not.toBe(401);

    const again = await callJson<Record<string, any>>("POST", "/dev/seed", { ...seedBody, totp: { ...totp, secret: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" } }, { host });
    expect(again.body.users.totp.uid).toBe(r.body.users.totp.uid);
    expect((await svc.users.byUsername(DEMO.communityId, "bob"))?.totpSecretSealed).toBe(bob?.totpSecretSealed);
  });
});

describe("POST /dev/pbkdf2", () => {
  it("performs a derivation", async () => {
    const r = await callJson("POST", "/dev/pbkdf2", undefined, { host });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
  });
});

describe("GET /dev/probe", () => {
  it("runs each primitive, and refuses unknown ops", async () => {
    for (const op of ["none", "do-read", "do-write", "kv-get", "kv-put", "d1-read", "sign"]) {
      const r = await callJson("GET", `/dev/probe?op=${op}&n=2`, undefined, { host });
      expect(r.status, op).toBe(200);
    }
    const bad = await callJson("GET", "/dev/probe?op=drop-tables", undefined, { host });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: "invalid_request" });
  });
});

describe("in production", () => {
  it("every dev route is absent", async () => {
    const prodEnv = { ...(env as unknown as Env), ENVIRONMENT: "production" };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    for (const [method, path] of [["POST", "/dev/seed"], ["POST", "/dev/pbkdf2"], ["GET", "/dev/outbox"], ["GET", "/dev/probe?op=kv-put"]] as const) {
      const res = await app.fetch(new Request(`http://localhost${path}`, { method, ...(method === "POST" ? { body: JSON.stringify(seedBody), headers: { "content-type": "application/json" } } : {}) }), prodEnv, ctx);
      expect(res.status).toBe(404);
    }
  });

  it("the worker under test is in development mode", async () => {
    const res = await SELF.fetch("http://localhost/dev/outbox");
    expect(res.status).toBe(200);
  });
});
