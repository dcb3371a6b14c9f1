import { beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { services } from "../../../test/helpers/tenant";
import { bearer, createSentinelTenant, sentinelLogin, type SentinelTenant, expectSentinelError as expectError } from "../../../test/helpers/sentinel";
import type { Scope } from "../../core/context";
import { registerTestIdp, type TestExternalIdp } from "../../core/saml-sp/test-idp";
import { parseTenantSettings } from "../../core/tenants/settings";

/**
 * POST and PATCH /sso/connections for `type: "saml"`: the connection names an external SAML IdP
 * of its organisation by entityID (issuer); the OIDC client fields are refused; initiate then
 * answers an AuthnRequest URL at that IdP.
 */
let t: SentinelTenant;
let other: SentinelTenant;
let idp: TestExternalIdp;
let otherTenantIdp: TestExternalIdp;
let otherOrgIdp: TestExternalIdp;
let sys: Record<string, string>;
const APP = "https://app.example/sso/done";

const scopeOf = (x: SentinelTenant, community = x.community): Scope => ({ tenant: x.tenant, settings: parseTenantSettings(x.tenant.settings), community, ip: "203.0.113.7", userAgent: null });

beforeAll(async () => {
  [t, other] = await Promise.all([createSentinelTenant(), createSentinelTenant()]);
  idp = await registerTestIdp(services(), scopeOf(t), { origin: `http://${t.host}`, acsUrl: `http://${t.host}/v1.0/auth/sso/saml/acs`, usersInIdpStore: true });
  otherTenantIdp = await registerTestIdp(services(), scopeOf(other), { origin: `http://${other.host}` });
  otherOrgIdp = await registerTestIdp(services(), scopeOf(t, t.other), { origin: `http://${t.host}` });
  sys = bearer(await sentinelLogin(t, "sysadmin"));
});

const api = (method: string, path: string, body: unknown, headers: Record<string, string> = sys) => callJson(method, `/v1.0/auth${path}`, body, { host: t.host, headers });

let n = 0;
const uniqueDomain = () => `s${n++}-${t.community.id}.example`;
const samlBody = (domains: string[], extra: Record<string, unknown> = {}) => ({ name: "SAML IdP", type: "saml", domains, issuer: idp.entityId, redirectUris: [APP], defaultRoles: ["USER"], ...extra });

async function initiate(email: string) {
  return callJson<{ authorizationUrl: string }>("POST", "/v1.0/auth/sso/initiate", { email, state: "st" }, { host: t.host, headers: { "cf-connecting-ip": "203.0.113.9" } });
}

describe("Sentinel admin: saml SSO connections", () => {
  it("creates a saml connection; list and read show it; initiate answers an AuthnRequest URL at the external IdP", async () => {
    const domain = uniqueDomain();
    const r = await api("POST", "/sso/connections", samlBody([domain]));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ type: "saml", issuer: idp.entityId, clientId: "", hasClientSecret: false, clientJwk: null, tokenEndpointAuthMethod: "none", discoveryUrl: null, authorizationEndpoint: null, scopes: "", domains: [domain], redirectUris: [APP], defaultRoles: ["USER"], communityId: t.community.id, enabled: true });
    const id = r.body.id as string;
    const one = await api("GET", `/sso/connections/${id}`, undefined);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id, type: "saml", issuer: idp.entityId });
    const list = await api("GET", "/sso/connections", undefined);
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).toContain(id);
    const init = await initiate(`bob@${domain}`);
    expect(init.status, JSON.stringify(init.body)).toBe(200);
    const u = new URL(init.body.authorizationUrl);
    expect(`${u.origin}${u.pathname}`).toBe("https://idp.example/sso");
    expect(u.searchParams.get("SAMLRequest")).toBeTruthy();
  });

  it("PATCH changes domains and redirectUris; initiate follows the new domain; the old one is free", async () => {
    const [d1, d2] = [uniqueDomain(), uniqueDomain()];
    const id = (await api("POST", "/sso/connections", samlBody([d1]))).body.id as string;
    const p = await api("PATCH", `/sso/connections/${id}`, { domains: [d2], redirectUris: ["https://app2.example/done"] });
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body).toMatchObject({ type: "saml", domains: [d2], redirectUris: ["https://app2.example/done"], clientId: "", issuer: idp.entityId });
    expect((await initiate(`bob@${d2}`)).status).toBe(200);
    expect((await api("POST", "/sso/connections", samlBody([d1]))).status).toBe(201);
    const dis = await api("PATCH", `/sso/connections/${id}`, { enabled: false });
    expect(dis.body).toMatchObject({ enabled: false });
  });

  it("refuses an unknown entityID, another tenant's IdP and another organisation's IdP: 400, nothing stored", async () => {
    for (const issuer of ["https://unknown-idp.example/metadata", otherTenantIdp.entityId, otherOrgIdp.entityId, "", " "]) {
      const domain = uniqueDomain();
      const r = await api("POST", "/sso/connections", samlBody([domain], { issuer }));
      expectError(r, 400);
      expect(String(r.body.message)).toMatch(/issuer/);
      expect((await initiate(`bob@${domain}`)).status).not.toBe(200);
    }
    // With corpId naming that other organisation, its IdP is the right one.
    const ok = await api("POST", "/sso/connections", samlBody([uniqueDomain()], { issuer: otherOrgIdp.entityId, corpId: t.other.id }));
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.communityId).toBe(t.other.id);
  });

  it("refuses the OIDC-only fields on a saml connection, at creation and in a change", async () => {
    const fields: Record<string, unknown>[] = [
      { clientId: "abc" }, { clientSecret: "s3cret-value" }, { tokenEndpointAuthMethod: "none" }, { discoveryUrl: "https://idp.example/.well-known/openid-configuration" },
      { authorizationEndpoint: "https://idp.example/a", tokenEndpoint: "https://idp.example/t", jwksUri: "https://idp.example/j" }, { userinfoEndpoint: "https://idp.example/u" }, { scopes: "openid" },
    ];
    for (const f of fields) {
      const r = await api("POST", "/sso/connections", samlBody([uniqueDomain()], f));
      expectError(r, 400);
      expect(String(r.body.message)).toMatch(/saml/);
    }
    const id = (await api("POST", "/sso/connections", samlBody([uniqueDomain()]))).body.id as string;
    for (const f of [...fields, { clientSecret: null }, { discoveryUrl: null }]) {
      const r = await api("PATCH", `/sso/connections/${id}`, f);
      expectError(r, 400);
    }
    const unknown = await api("PATCH", `/sso/connections/${id}`, { issuer: otherTenantIdp.entityId });
    expectError(unknown, 400);
    expect((await api("GET", `/sso/connections/${id}`, undefined)).body).toMatchObject({ issuer: idp.entityId, clientId: "", hasClientSecret: false });
  });

  it("type cannot change; hostile bodies are 400s, never a 5xx; another tenant cannot read or change it", async () => {
    const id = (await api("POST", "/sso/connections", samlBody([uniqueDomain()]))).body.id as string;
    expectError(await api("PATCH", `/sso/connections/${id}`, { type: "oidc" }), 400);
    for (const body of [samlBody([uniqueDomain()], { type: "wsfed" }), samlBody([uniqueDomain()], { issuer: 42 }), samlBody([uniqueDomain()], { issuer: "x".repeat(5000) }), { type: "saml" }]) {
      expectError(await api("POST", "/sso/connections", body), 400);
    }
    const text = await api("POST", "/sso/connections", "nope");
    expect(text.status).toBeGreaterThanOrEqual(400);
    expect(text.status).toBeLessThan(500);
    const otherSys = bearer(await sentinelLogin(other, "sysadmin"));
    const r = await callJson("PATCH", `/v1.0/auth/sso/connections/${id}`, { domains: [uniqueDomain()] }, { host: other.host, headers: otherSys });
    expectError(r, 404);
  });

  it("an oidc connection still needs clientId", async () => {
    const r = await api("POST", "/sso/connections", { name: "x", type: "oidc", domains: [uniqueDomain()], issuer: "https://idp.example", redirectUris: [APP], authorizationEndpoint: "https://idp.example/a", tokenEndpoint: "https://idp.example/t", jwksUri: "https://idp.example/j" });
    expectError(r, 400);
    expect(String(r.body.message)).toMatch(/clientId/);
  });
});
