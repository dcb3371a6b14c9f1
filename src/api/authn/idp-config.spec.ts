import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { idpPrivateKeys } from "../../core/authn/idp-config";
import { parseTenantSettings } from "../../core/tenants/settings";
import { D1IdpConfigStore } from "../../storage/d1/idp-config-store";

let t: TestTenant;
let service: AuthnCaller;
let base: string;

const SIGNING_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
const ENC_KEY = "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQ";
const config = (extra: Record<string, unknown> = {}) => ({
  signingCert: "-----BEGIN CERTIFICATE-----\nMIIC8DCCAdigAwIBAgIQ\n-----END CERTIFICATE-----",
  signingKey: SIGNING_KEY,
  entityId: "https://idp.example/metadata",
  authnRequestsSigned: true,
  encryptionCert: "MIIC8DCCAdigAwIBAgIQ",
  encryptionKey: ENC_KEY,
  sso_bindings: ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"],
  slo_bindings: ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"],
  ...extra,
});

beforeAll(async () => {
  t = await createTestTenant();
  service = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("IdP config", () => {
  it("GET before any PUT is 404", async () => {
    expect((await authnCall(service, "GET", `${base}/idp_config`, undefined)).status).toBe(404);
  });

  it("PUT creates it with an identifier; private keys are sealed at rest and never answered", async () => {
    const r = await authnCall<Record<string, unknown>>(service, "PUT", `${base}/idp_config`, config());
    expect(r.status).toBe(200);
    expect(r.data).toMatchObject({ entityId: "https://idp.example/metadata", authnRequestsSigned: true, hasSigningKey: true, hasEncryptionKey: true, communityId: t.community.id });
    expect(typeof r.data.identifier).toBe("string");
    const text = JSON.stringify(r.body) + JSON.stringify(r.data);
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).not.toContain(ENC_KEY);
    const got = await authnCall<Record<string, unknown>>(service, "GET", `${base}/idp_config`, undefined);
    expect(got.data).toEqual(r.data);
    expect(got.data).not.toHaveProperty("signingKey");
    const stored = await D1IdpConfigStore(env.DB).get(t.tenant.id, t.community.id);
    expect(stored!.signingKeySealed).not.toContain("PRIVATE");
    const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "127.0.0.1", userAgent: null };
    expect(await idpPrivateKeys(services(), D1IdpConfigStore(env.DB), scope)).toEqual({ signingKey: SIGNING_KEY, encryptionKey: ENC_KEY });
  });

  it("an update needs the identifier (400 without, 404 for another); omitted keys are kept", async () => {
    const current = await authnCall<{ identifier: string }>(service, "GET", `${base}/idp_config`, undefined);
    const { signingKey: _s, encryptionKey: _e, ...noKeys } = config({ entityId: "https://idp.example/v2" });
    expect((await authnCall(service, "PUT", `${base}/idp_config`, noKeys)).status).toBe(400);
    expect((await authnCall(service, "PUT", `${base}/idp_config`, { ...noKeys, identifier: "not-it" })).status).toBe(404);
    const ok = await authnCall<Record<string, unknown>>(service, "PUT", `${base}/idp_config`, { ...noKeys, identifier: current.data.identifier });
    expect(ok.status).toBe(200);
    expect(ok.data).toMatchObject({ entityId: "https://idp.example/v2", hasSigningKey: true, identifier: current.data.identifier });
    const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "127.0.0.1", userAgent: null };
    expect((await idpPrivateKeys(services(), D1IdpConfigStore(env.DB), scope))!.signingKey).toBe(SIGNING_KEY);
  });

  it("creation requires both private keys", async () => {
    const tt = await createTestTenant();
    const c = await authnCaller({ tenantId: tt.tenant.id, level: "system", communities: [tt.community.id] });
    const { signingKey: _s, ...noSigning } = config();
    expect((await authnCall(c, "PUT", `/tenant/${tt.tenant.id}/community/${tt.community.id}/idp_config`, noSigning)).status).toBe(400);
    expect((await authnCall(c, "GET", `/tenant/${tt.tenant.id}/community/${tt.community.id}/idp_config`, undefined)).status).toBe(404);
  });

  it("levels: app, app_ext and service_ext are 403; a service license of another community is 403", async () => {
    for (const level of ["app", "app_ext", "service_ext"] as const) {
      const c = await authnCaller({ tenantId: t.tenant.id, level, communities: [t.community.id] });
      expect((await authnCall(c, "GET", `${base}/idp_config`, undefined)).status).toBe(403);
      expect((await authnCall(c, "PUT", `${base}/idp_config`, config())).status).toBe(403);
    }
    const other = await createTestTenant();
    const theirs = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    expect((await authnCall(theirs, "GET", `${base}/idp_config`, undefined)).status).toBe(403);
  });

  it("hostile payloads are 400 and change nothing", async () => {
    const before = await authnCall(service, "GET", `${base}/idp_config`, undefined);
    const cases: unknown[] = [
      {},
      config({ authnRequestsSigned: "true" }),
      config({ signingCert: "<script>alert(1)</script>" }),
      config({ signingCert: "A".repeat(20_000) }),
      config({ sso_bindings: "HTTP-POST" }),
      config({ sso_bindings: Array.from({ length: 20 }, () => "b") }),
      config({ entityId: "" }),
      config({ identifier: 42 }),
    ];
    for (const p of cases) {
      const r = await authnCall(service, "PUT", `${base}/idp_config`, p);
      expect([400, 413]).toContain(r.status);
    }
    expect((await authnCall(service, "GET", `${base}/idp_config`, undefined)).data).toEqual(before.data);
  });
});
