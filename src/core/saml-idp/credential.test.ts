import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller } from "../../../test/helpers/authn-caller";
import { putIdpConfig, type IdpConfigInput } from "../authn/idp-config";
import { parseTenantSettings } from "../tenants/settings";
import type { Scope } from "../context";
import { AuthError } from "../errors";
import { D1IdpConfigStore } from "../../storage/d1/idp-config-store";
import { generateSigningCredential, importCertificateKey, importRsaOaepCertificateKey, parseCertificate, pemToDer, signParams, type SigningAlg } from "../../crypto/x509";
import { EC_CERT, EC_SEC1_KEY, OTHER_EC_CERT, RSA_CERT, RSA_PKCS1_KEY } from "../../crypto/x509.fixtures";
import { forgetSamlCredentials, setCredentialCacheTtl, MAX_TTL_MS } from "./credential-cache";
import { encryptionCredential, loadSamlSigningCredential, samlEncryptionCredential, samlSigningCredential, SAML_BINDING, type SamlSigningCredential } from "./credential";

const scopeOf = (t: TestTenant, community = t.community): Scope => ({ tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community, ip: "127.0.0.1", userAgent: null });
const bare = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
const store = () => D1IdpConfigStore(env.DB);
const probe = new TextEncoder().encode("a SAML response");

/** The credential's key signs what its own certificate (and `cert`, when given) verifies. */
async function verifies(c: SamlSigningCredential, cert = c.certPem): Promise<boolean> {
  const sig = await crypto.subtle.sign(signParams(c.alg), c.key, probe);
  return crypto.subtle.verify(signParams(c.alg), await importCertificateKey(cert, c.alg), sig, probe);
}

const input = (cert: string, key: string, extra: Partial<IdpConfigInput> = {}): IdpConfigInput => ({
  entityId: "https://idp.example.test/saml",
  signingCert: cert,
  signingKey: key,
  encryptionCert: RSA_CERT,
  encryptionKey: RSA_PKCS1_KEY,
  authnRequestsSigned: false,
  sso_bindings: [SAML_BINDING.redirect],
  slo_bindings: [],
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<AuthError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AuthError);
  return e as AuthError;
}

afterEach(() => {
  forgetSamlCredentials();
  setCredentialCacheTtl(MAX_TTL_MS);
});

describe("a community without idp_config gets a generated credential, stored as its idp_config", () => {
  let t: TestTenant;
  let first: SamlSigningCredential;
  beforeAll(async () => {
    t = await createTestTenant();
  });

  it("RSA-2048 with a self-signed certificate and the entity ID <public origin>/saml/<communityId>", async () => {
    first = await samlSigningCredential(services(), scopeOf(t));
    expect(first.alg).toBe("RSA-SHA256");
    expect(first.entityId).toBe(`https://${t.host}/saml/${t.community.id}`);
    expect(first.key.extractable).toBe(false);
    expect(first.key.algorithm).toMatchObject({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048 });
    expect(first.certB64).toBe(bare(first.certPem));
    const cert = parseCertificate(pemToDer(first.certPem));
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(3650 * 86_400_000);
    expect(await verifies(first)).toBe(true);
  });

  it("is stored sealed as the idp_config (Redirect and POST bindings, both keys), and GET idp_config shows it", async () => {
    const row = (await store().get(t.tenant.id, t.community.id))!;
    expect(bare(row.signingCert)).toBe(first.certB64);
    expect(row.entityId).toBe(first.entityId);
    expect(row.ssoBindings).toEqual([SAML_BINDING.redirect, SAML_BINDING.post]);
    expect(row.sloBindings).toEqual([SAML_BINDING.redirect, SAML_BINDING.post]);
    expect(row.signingKeySealed).not.toContain("PRIVATE");
    expect(row.encryptionKeySealed).not.toBe("");
    const admin = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
    const got = await authnCall<Record<string, unknown>>(admin, "GET", `/tenant/${t.tenant.id}/community/${t.community.id}/idp_config`, undefined);
    expect(got.status).toBe(200);
    expect(got.data).toMatchObject({ entityId: first.entityId, hasSigningKey: true, hasEncryptionKey: true, identifier: row.identifier });
    expect(bare(got.data.signingCert as string)).toBe(first.certB64);
    expect(JSON.stringify(got.body) + JSON.stringify(got.data)).not.toContain("PRIVATE KEY");
  });

  it("every later load (another isolate, the cache gone) uses the stored one", async () => {
    forgetSamlCredentials();
    const again = await samlSigningCredential(services(), scopeOf(t));
    expect(again.certB64).toBe(first.certB64);
    expect(await verifies(again, first.certPem)).toBe(true);
    expect((await loadSamlSigningCredential(services(), scopeOf(t))).certB64).toBe(first.certB64);
  });

  it("the generated encryption credential decrypts what its certificate encrypts (RSA-OAEP)", async () => {
    expect(encryptionCredential).toBe(samlEncryptionCredential);
    const enc = (await samlEncryptionCredential(services(), scopeOf(t)))!;
    expect(enc.certB64).not.toBe(first.certB64);
    const cek = crypto.getRandomValues(new Uint8Array(32));
    const wrapped = await crypto.subtle.encrypt({ name: "RSA-OAEP" }, await importRsaOaepCertificateKey(enc.certPem), cek);
    expect(new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, enc.key, wrapped))).toEqual(cek);
  });

  it("an admin keeps the generated key through PUT idp_config with its identifier (rotation of the signing pair alone)", async () => {
    const row = (await store().get(t.tenant.id, t.community.id))!;
    // The new signing pair; the generated encryption certificate sent back as GET showed it, its key omitted (kept).
    const { encryptionKey: _omitted, ...rotation } = { ...input(EC_CERT, EC_SEC1_KEY), encryptionCert: row.encryptionCert, identifier: row.identifier };
    await putIdpConfig(services(), store(), scopeOf(t), rotation);
    const now = await samlSigningCredential(services(), scopeOf(t));
    expect(now.alg).toBe("ECDSA-SHA256");
    expect(now.certB64).toBe(bare(EC_CERT));
    expect((await encryptionCredential(services(), scopeOf(t)))!.certB64).toBe(bare(row.encryptionCert));
  });
});

describe("two isolates racing on first use end up with one credential", () => {
  it("parallel uncached loads (each isolate's miss) all answer the one stored credential", async () => {
    const t = await createTestTenant();
    const loads = await Promise.all(Array.from({ length: 6 }, () => loadSamlSigningCredential(services(), scopeOf(t))));
    const row = (await store().get(t.tenant.id, t.community.id))!;
    expect(new Set(loads.map((c) => c.certB64))).toEqual(new Set([bare(row.signingCert)]));
    for (const c of loads) expect(await verifies(c, row.signingCert)).toBe(true);
  });

  it("parallel cached calls in one isolate share one load", async () => {
    const t = await createTestTenant();
    const all = await Promise.all(Array.from({ length: 6 }, () => samlSigningCredential(services(), scopeOf(t))));
    expect(new Set(all.map((c) => c.certB64)).size).toBe(1);
    expect(new Set(all.map((c) => c.key)).size).toBe(1);
  });
});

describe("from the community's idp_config", () => {
  it.each([
    ["a PKCS#1 RSA key (BEGIN RSA PRIVATE KEY)", RSA_CERT, RSA_PKCS1_KEY, "RSA-SHA256"],
    ["a SEC1 P-256 key (BEGIN EC PRIVATE KEY)", EC_CERT, EC_SEC1_KEY, "ECDSA-SHA256"],
    ["bare base64 of both", bare(RSA_CERT), bare(RSA_PKCS1_KEY), "RSA-SHA256"],
  ] as const)("%s: the configured pair and entity ID, the algorithm from the certificate", async (_what, cert, key, alg: SigningAlg) => {
    const t = await createTestTenant();
    await putIdpConfig(services(), store(), scopeOf(t), input(cert, key));
    const c = await samlSigningCredential(services(), scopeOf(t));
    expect(c).toMatchObject({ alg, entityId: "https://idp.example.test/saml", certB64: bare(cert) });
    expect(c.certPem.startsWith("-----BEGIN CERTIFICATE-----\n")).toBe(true);
    expect(await verifies(c, cert)).toBe(true);
  });

  it("a PUT in this isolate evicts the cached credential at once", async () => {
    const t = await createTestTenant();
    const generated = await samlSigningCredential(services(), scopeOf(t));
    const row = (await store().get(t.tenant.id, t.community.id))!;
    await putIdpConfig(services(), store(), scopeOf(t), { ...input(RSA_CERT, RSA_PKCS1_KEY), identifier: row.identifier });
    const now = await samlSigningCredential(services(), scopeOf(t));
    expect(now.certB64).not.toBe(generated.certB64);
    expect(now.certB64).toBe(bare(RSA_CERT));
  });

  it("a change written elsewhere (another isolate) is seen once the cache lifetime has passed, not before", async () => {
    setCredentialCacheTtl(300);
    const t = await createTestTenant();
    await putIdpConfig(services(), store(), scopeOf(t), input(RSA_CERT, RSA_PKCS1_KEY));
    expect((await samlSigningCredential(services(), scopeOf(t))).alg).toBe("RSA-SHA256");
    // Another isolate's PUT: the row changes, this isolate hears nothing.
    const row = (await store().get(t.tenant.id, t.community.id))!;
    const other = await putIdpConfigElsewhere(t, { ...input(EC_CERT, EC_SEC1_KEY), identifier: row.identifier });
    expect(other.signingCert).toBe(EC_CERT);
    expect((await samlSigningCredential(services(), scopeOf(t))).alg).toBe("RSA-SHA256");
    await new Promise((r) => setTimeout(r, 400));
    const after = await samlSigningCredential(services(), scopeOf(t));
    expect(after.alg).toBe("ECDSA-SHA256");
    expect(await verifies(after, EC_CERT)).toBe(true);
  });

  it.each([
    ["a garbage key", RSA_CERT, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----", /signingKey is not a PKCS#8, PKCS#1 or SEC1 private key/],
    ["a key that is not PEM", RSA_CERT, "hunter2!", /signingKey is not PEM or base64/],
    ["a key of another certificate", OTHER_EC_CERT, EC_SEC1_KEY, /signingKey does not match signingCert/],
    ["an EC key for an RSA certificate", RSA_CERT, EC_SEC1_KEY, /signingKey is an EC private key, not one for RSA-SHA256/],
    ["a garbage certificate", "-----BEGIN CERTIFICATE-----\nMIIC8DCCAdigAwIBAgIQ\n-----END CERTIFICATE-----", RSA_PKCS1_KEY, /signingCert is not a DER X.509 certificate/],
  ])("refuses %s with a clear not_configured error, and caches nothing", async (_what, cert, key, message) => {
    const t = await createTestTenant();
    await putIdpConfig(services(), store(), scopeOf(t), input(cert, key));
    const e = await failure(samlSigningCredential(services(), scopeOf(t)));
    expect(e.code).toBe("not_configured");
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/BEGIN|MII/);
    // Fixed by the admin: the next call succeeds (the failure was not cached).
    const row = (await store().get(t.tenant.id, t.community.id))!;
    await putIdpConfig(services(), store(), scopeOf(t), { ...input(RSA_CERT, RSA_PKCS1_KEY), identifier: row.identifier });
    expect((await samlSigningCredential(services(), scopeOf(t))).certB64).toBe(bare(RSA_CERT));
  });

  it("an unusable encryption key is refused the same way; none configured is null", async () => {
    const t = await createTestTenant();
    expect(await encryptionCredential(services(), scopeOf(t))).toBeNull();
    await putIdpConfig(services(), store(), scopeOf(t), input(RSA_CERT, RSA_PKCS1_KEY, { encryptionCert: EC_CERT, encryptionKey: EC_SEC1_KEY }));
    const e = await failure(encryptionCredential(services(), scopeOf(t)));
    expect(e.code).toBe("not_configured");
    expect(e.message).toMatch(/encryptionKey is an EC private key/);
    const row = (await store().get(t.tenant.id, t.community.id))!;
    await putIdpConfig(services(), store(), scopeOf(t), { ...input(RSA_CERT, RSA_PKCS1_KEY), encryptionCert: (await generateSigningCredential("RSA-SHA256", "another key")).certPem, identifier: row.identifier });
    expect((await failure(encryptionCredential(services(), scopeOf(t)))).message).toMatch(/encryptionKey does not match encryptionCert/);
    // The signing credential does not depend on it.
    expect((await samlSigningCredential(services(), scopeOf(t))).certB64).toBe(bare(RSA_CERT));
  });

  it("a key sealed under another KEY_ENCRYPTION_SECRET is refused with a clear error", async () => {
    const t = await createTestTenant();
    await putIdpConfig({ ...services(), config: { ...services().config, keyEncryptionSecret: "another-secret-0123456789abcdef0123456789" } }, store(), scopeOf(t), input(RSA_CERT, RSA_PKCS1_KEY));
    const e = await failure(samlSigningCredential(services(), scopeOf(t)));
    expect(e.message).toMatch(/signingKey cannot be opened with this deployment's KEY_ENCRYPTION_SECRET/);
  });
});

describe("isolation", () => {
  it("another community of the tenant, and another tenant, never get this credential", async () => {
    const a = await createTestTenant();
    const b = await createTestTenant();
    const svc = services();
    const second = await svc.tenants.createCommunity({ id: `${a.community.id}-2`, tenantId: a.tenant.id, name: "second" });
    await putIdpConfig(svc, store(), scopeOf(a), input(RSA_CERT, RSA_PKCS1_KEY));
    const mine = await samlSigningCredential(svc, scopeOf(a));
    const sibling = await samlSigningCredential(svc, scopeOf(a, second));
    const stranger = await samlSigningCredential(svc, scopeOf(b));
    expect(mine.certB64).toBe(bare(RSA_CERT));
    expect(new Set([mine.certB64, sibling.certB64, stranger.certB64]).size).toBe(3);
    expect(sibling.entityId).toBe(`https://${a.host}/saml/${second.id}`);
    expect(stranger.entityId).toBe(`https://${b.host}/saml/${b.community.id}`);
    expect(await verifies(stranger, RSA_CERT)).toBe(false);
    // A scope naming a's community under b's tenant (a forged path) is b's business only.
    const forged = await samlSigningCredential(svc, { ...scopeOf(b), community: a.community });
    expect(forged.certB64).not.toBe(mine.certB64);
  });

  it("a tenant with no bound hostname gets no generated credential (no entity ID to give it)", async () => {
    const svc = services();
    const n = `nohost-${crypto.randomUUID().slice(0, 8)}`;
    const tenant = await svc.tenants.createTenant({ id: n, name: n, settings: {} });
    const community = await svc.tenants.createCommunity({ id: `c-${n}`, tenantId: tenant.id, name: "default" });
    const e = await failure(samlSigningCredential(svc, { tenant, settings: parseTenantSettings(tenant.settings), community, ip: "127.0.0.1", userAgent: null }));
    expect(e.code).toBe("not_configured");
    expect(await store().get(tenant.id, community.id)).toBeNull();
  });

  it("in development the request's scheme and port reach a generated entity ID; never its unbound Host", async () => {
    const t = await createTestTenant();
    const c = await samlSigningCredential(services(), scopeOf(t), { hostname: "evil.example", protocol: "http:", port: "8787" });
    expect(c.entityId).toBe(`http://${t.host}:8787/saml/${t.community.id}`);
  });

  it("a generated entity ID is on the primary hostname even when the first request came on another brand", async () => {
    const t = await createTestTenant();
    const brand = `brand-${t.host}`;
    await services().tenants.bindDomain({ hostname: brand, tenantId: t.tenant.id, communityId: t.community.id });
    const c = await samlSigningCredential(services(), scopeOf(t), { hostname: brand, protocol: "https:", port: "" });
    expect(c.entityId).toBe(`https://${t.host}/saml/${t.community.id}`);
  });
});

/** Writes the config as another isolate would: straight to the store, no eviction here. */
async function putIdpConfigElsewhere(t: TestTenant, i: IdpConfigInput & { identifier: string }) {
  const { seal } = await import("../../crypto/secret-box");
  const { IDP_KEY_PURPOSE } = await import("../authn/idp-config");
  const row = (await store().get(t.tenant.id, t.community.id))!;
  const updated = { ...row, signingCert: i.signingCert, signingKeySealed: await seal(services().config.keyEncryptionSecret, IDP_KEY_PURPOSE, i.signingKey!), updatedAt: Date.now() };
  expect(await store().update(updated)).toBe(true);
  return updated;
}

describe("through the Authn API", () => {
  it("PUT idp_config served in this isolate evicts the cached credential", async () => {
    const t = await createTestTenant();
    const generated = await samlSigningCredential(services(), scopeOf(t));
    const admin = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
    const path = `/tenant/${t.tenant.id}/community/${t.community.id}/idp_config`;
    const got = await authnCall<Record<string, unknown>>(admin, "GET", path, undefined);
    const { encryptionKey: _keep, ...body } = { ...input(EC_CERT, EC_SEC1_KEY), encryptionCert: got.data.encryptionCert as string, identifier: got.data.identifier as string };
    expect((await authnCall(admin, "PUT", path, body)).status).toBe(200);
    const now = await samlSigningCredential(services(), scopeOf(t));
    expect(now.certB64).not.toBe(generated.certB64);
    expect(now).toMatchObject({ alg: "ECDSA-SHA256", certB64: bare(EC_CERT), entityId: "https://idp.example.test/saml" });
  });
});
