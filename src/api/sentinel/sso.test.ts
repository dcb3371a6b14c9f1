import { env, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestIdp, type TestIdp } from "../../../test/helpers/oidc-idp";
import { services } from "../../../test/helpers/tenant";
import { createSentinelTenant, jwtPayload, type SentinelTenant } from "../../../test/helpers/sentinel";
import type { Scope } from "../../core/context";
import { forgetDiscoveryCache } from "../../core/federation/oidc-connection";
import { createSsoConnection } from "../../core/federation/sso-connections";
import { externalSubjectOf } from "../../core/federation/provision";
import { forgetJwksCache } from "../../core/federation/remote-jwks";
import { parseTenantSettings } from "../../core/tenants/settings";
import { setOutboundFetch } from "../../http/services";

let t: SentinelTenant;
let idp: TestIdp;
let domain: string;
const APP = "https://app.example/sso/done";
const ISSUER = "https://idp.example/oauth2/default";

function scopeOf(tt: SentinelTenant): Scope {
  return { tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "127.0.0.1", userAgent: null };
}

beforeAll(async () => {
  t = await createSentinelTenant();
  idp = await createTestIdp(ISSUER);
  setOutboundFetch(async (input, init) => idp.handle(new Request(input as RequestInfo, init)));
  forgetJwksCache();
  forgetDiscoveryCache();
  domain = `${t.community.id}.example`;
  // Admin creation through the core function (as the dev seed does), with discovery.
  await createSsoConnection(services(), scopeOf(t), {
    name: "Test IdP",
    type: "oidc",
    corpId: t.other.name,
    domains: [domain],
    issuer: ISSUER,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    redirectUris: [APP, "https://app.example/other"],
    defaultRoles: ["USER"],
  });
});
afterAll(() => setOutboundFetch(null));

const post = (path: string, body: unknown) => callJson("POST", `/v1.0/auth${path}`, body, { host: t.host });

/** GET on our callback without following the redirect (SELF.fetch follows by default). */
function callback_(pathAndQuery: string): Promise<Response> {
  return SELF.fetch(`http://${t.host}${pathAndQuery}`, { headers: { host: t.host, "cf-connecting-ip": "203.0.113.7" }, redirect: "manual" });
}

/** Runs the browser's part: initiate, the IdP's authorize redirect, and our callback. */
async function ssoLogin(email: string, extra: Record<string, string> = {}): Promise<{ location: string; fragment: URLSearchParams; authorizationUrl: URL }> {
  const r = await post("/sso/initiate", { email, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const authorizationUrl = new URL(r.body.authorizationUrl as string);
  const atIdp = await idp.handle(new Request(authorizationUrl));
  expect(atIdp.status).toBe(302);
  const callback = new URL(atIdp.headers.get("location")!);
  const back = await callback_(`${callback.pathname}${callback.search}`);
  expect(back.status, back.status === 302 ? "" : await back.text()).toBe(302);
  const location = back.headers.get("location")!;
  return { location, fragment: new URLSearchParams(location.split("#")[1] ?? ""), authorizationUrl };
}

describe("SSO with an OIDC connection", () => {
  it("initiate returns the IdP's authorization URL with code flow, PKCE S256, state and nonce", async () => {
    const r = await post("/sso/initiate", { email: `Jane@${domain.toUpperCase()}` });
    expect(r.status).toBe(200);
    const u = new URL(r.body.authorizationUrl as string);
    expect(`${u.origin}${u.pathname}`).toBe(`${ISSUER}/authorize`);
    const q = u.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe(idp.clientId);
    expect(q.get("redirect_uri")).toBe(`http://${t.host}/v1.0/auth/sso/callback`);
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("state")!.length).toBeGreaterThanOrEqual(43);
    expect(q.get("nonce")!.length).toBeGreaterThanOrEqual(43);
    expect(q.get("scope")).toContain("openid");
  });

  it("completes a login: creates the user on first login, in the connection's organisation, and redirects with our token", async () => {
    idp.nextUser = { sub: "idp-jane", email: `jane@${domain}`, email_verified: true, given_name: "Jane", family_name: "Doe" };
    const { location, fragment } = await ssoLogin(`jane@${domain}`, { state: "app-state-123" });
    expect(location.startsWith(`${APP}#`)).toBe(true);
    expect(fragment.get("token_type")).toBe("Bearer");
    expect(fragment.get("state")).toBe("app-state-123");
    const token = fragment.get("token")!;
    const claims = jwtPayload(token);
    const user = await services().users.byExternalSubject(t.tenant.id, externalSubjectOf(ISSUER, "idp-jane"));
    expect(user).toMatchObject({ username: `jane@${domain}`, communityId: t.other.id, roles: ["USER"], firstName: "Jane", passwordHash: null });
    expect(claims).toMatchObject({ sub: user!.uid, corpId: t.other.name, roles: ["USER"] });
    // The code was exchanged with the PKCE verifier and our callback as redirect_uri.
    const req = idp.tokenRequests.at(-1)!;
    expect(req.get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(req.get("redirect_uri")).toBe(`http://${t.host}/v1.0/auth/sso/callback`);
    // The token works on the API.
    const refreshed = await callJson("GET", "/v1.0/auth/refreshToken", undefined, { host: t.host, headers: { authorization: `Bearer ${token}` } });
    expect(refreshed.status).toBe(200);

    // A second login finds the same user; roles an administrator set are kept.
    await services().users.update(t.tenant.id, user!.uid, { roles: ["USER", "LOGIN_AS"] });
    const again = await ssoLogin(`jane@${domain}`, { redirectUri: "https://app.example/other" });
    expect(again.location.startsWith("https://app.example/other#")).toBe(true);
    expect(jwtPayload(again.fragment.get("token")!)).toMatchObject({ sub: user!.uid, roles: ["USER", "LOGIN_AS"] });
  });

  it("answers 404 in the Sentinel shape when no connection matches the domain", async () => {
    const r = await post("/sso/initiate", { email: "someone@unconfigured.example" });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ status: 404, error: "Not Found", code: "not_found", path: "/v1.0/auth/sso/initiate" });
  });

  it("refuses an app redirect URI the connection does not list", async () => {
    const r = await post("/sso/initiate", { email: `jane@${domain}`, redirectUri: "https://evil.example/steal" });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_request");
  });

  it("passes an IdP refusal to the app as an error fragment", async () => {
    const r = await post("/sso/initiate", { email: `jane@${domain}` });
    const state = new URL(r.body.authorizationUrl as string).searchParams.get("state")!;
    const back = await callback_(`/v1.0/auth/sso/callback?state=${encodeURIComponent(state)}&error=access_denied`);
    expect(back.status).toBe(302);
    const f = new URLSearchParams(back.headers.get("location")!.split("#")[1]);
    expect(f.get("error")).toBe("access_denied");
    expect(f.get("token")).toBeNull();
  });

  it("stores the client secret sealed, never as given", async () => {
    const row = await env.DB.prepare("SELECT client_secret_sealed FROM sso_connections WHERE tenant_id = ?").bind(t.tenant.id).first<{ client_secret_sealed: string }>();
    expect(row?.client_secret_sealed).toBeTruthy();
    expect(row!.client_secret_sealed).not.toContain(idp.clientSecret);
  });
});
