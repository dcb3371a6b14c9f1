import { beforeAll, describe, expect, it } from "vitest";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { scopeOf } from "../../../test/helpers/consents";
import { authorizeQuery, defineScopes, pkce, registerClient, type RegisteredClient } from "../../../test/helpers/hosted-login";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { scopesNeedingConsent } from "../../core/consents/consents";
import { consentRequiredScopes } from "../../core/idps";
import { findOidcClient } from "../../core/oidc-provider/clients";
import { redeemAuthorizationCode } from "../../core/oidc-provider/codes";
import { ACR_MFA, ACR_PASSWORD } from "../../core/oidc-provider/sso-session";

/**
 * Authn `POST .../oidc/sso` (seed 004, Authenticate): a trusted service completes an
 * authorization request for a user it authenticated. The same checks as the authorize
 * endpoint; the document's 420 when consent is still needed.
 */
type SsoAnswer = { sid: string; oidc_token: string; oidc_url_response: string };

let t: TestTenant;
let other: TestTenant;
let service: AuthnCaller;
let client: RegisteredClient;
let base: string;

const session = (uid: string, extra: Record<string, unknown> = {}) => ({ user: { uid, moduleId: "m1" }, pon_data: {}, authenticator_data: {}, jit: "j", ...extra });

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  await defineScopes(t, [
    { name: "profile", display_name: "Your profile", consent_required: false },
    { name: "email", display_name: "Your email address", consent_required: true },
  ]);
  service = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  client = await registerClient(t);
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("oidc/sso", () => {
  it("completes the request: the code in oidc_token and in the redirect with state and iss; the grant names the user and the sid", async () => {
    const { challenge } = await pkce();
    const r = await authnCall<SsoAnswer>(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: `?${authorizeQuery(client, challenge, { scope: "openid profile" })}` }, userSession: session(t.alice.uid) }, { host: t.host });
    expect(r.status).toBe(200);
    const url = new URL(r.data.oidc_url_response);
    expect(`${url.origin}${url.pathname}`).toBe(client.redirectUri);
    expect(url.searchParams.get("code")).toBe(r.data.oidc_token);
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toMatch(new RegExp(`^https?://${t.host.replace(/\./g, "\\.")}/oidc/${t.community.id}$`));
    const redeemed = await redeemAuthorizationCode(services(), scopeOf(t), r.data.oidc_token);
    expect(redeemed.status).toBe("ok");
    if (redeemed.status !== "ok") return;
    expect(redeemed.grant).toMatchObject({ uid: t.alice.uid, clientId: client.clientId, ssoSessionId: r.data.sid, nonce: "n-456", codeChallenge: challenge, scopes: ["openid", "profile"], acr: ACR_PASSWORD });
  });

  it("takes the request as a whole authorize URL or as an object of parameters; aal 2 makes the acr mfa", async () => {
    const { challenge } = await pkce();
    const asUrl = await authnCall<SsoAnswer>(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: `https://${t.host}/oidc/${t.community.id}/authorize?${authorizeQuery(client, challenge)}` }, userSession: session(t.alice.uid, { aal: 2 }) }, { host: t.host });
    expect(asUrl.status).toBe(200);
    const g = await redeemAuthorizationCode(services(), scopeOf(t), asUrl.data.oidc_token);
    expect(g.status === "ok" && g.grant.acr).toBe(ACR_MFA);
    const params = Object.fromEntries(new URLSearchParams(authorizeQuery(client, challenge)));
    const asObject = await authnCall<SsoAnswer>(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: params }, userSession: session(t.alice.uid, { aal: "AAL1" }) }, { host: t.host });
    expect(asObject.status).toBe(200);
    expect(asObject.data.sid).not.toBe(asUrl.data.sid);
  });

  it("answers 420 with the scopes while consent is needed; granted with consentGranted it records a receipt and is not asked again", async () => {
    const { challenge } = await pkce();
    const request = `?${authorizeQuery(client, challenge, { scope: "openid email profile" })}`;
    const first = await authnCall(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: request }, userSession: session(t.alice.uid) }, { host: t.host });
    expect(first.status).toBe(420);
    expect(first.body).toMatchObject({ statusCode: 420, error: "Consent Required", scopes: [{ name: "email", display_name: "Your email address" }] });

    const partial = await authnCall(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: request, consentGranted: ["profile"] }, userSession: session(t.alice.uid) }, { host: t.host });
    expect(partial.status).toBe(420);

    const granted = await authnCall<SsoAnswer>(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: request, consentGranted: ["email"] }, userSession: session(t.alice.uid) }, { host: t.host });
    expect(granted.status).toBe(200);
    const svc = services();
    const oidcClient = (await findOidcClient(svc, scopeOf(t), client.clientId))!;
    const receipts = await svc.identity.consents.list(t.tenant.id, t.community.id, `urn:edge-auth:${t.tenant.id}:${t.community.id}:user:${t.alice.uid}`, client.spId);
    expect(receipts[0]?.receipt).toMatchObject({ collectionMethod: "oidc_sso", scopes: [{ name: "email" }] });
    expect(await scopesNeedingConsent(svc, scopeOf(t), { user: t.alice, client: oidcClient, scopes: ["email"] }, consentRequiredScopes([{ name: "email", display_name: "", consent_required: true, claims: [] }]))).toEqual([]);

    const again = await authnCall<SsoAnswer>(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: request }, userSession: session(t.alice.uid) }, { host: t.host });
    expect(again.status).toBe(200);
  });
});

describe("oidc/sso refusals", () => {
  it("the authorize endpoint's checks: unknown client, unregistered redirect URI, missing PKCE, unknown scope, response_type", async () => {
    const { challenge } = await pkce();
    const cases: Record<string, string> = {
      "unknown client": authorizeQuery({ ...client, clientId: "nobody" }, challenge),
      "redirect prefix": authorizeQuery({ ...client, redirectUri: `${client.redirectUri}/../evil` }, challenge),
      "redirect host": authorizeQuery({ ...client, redirectUri: "https://evil.example/callback" }, challenge),
      "no pkce": new URLSearchParams({ client_id: client.clientId, redirect_uri: client.redirectUri, response_type: "code", scope: "openid", state: "s" }).toString(),
      "plain pkce": authorizeQuery(client, challenge, { code_challenge_method: "plain" }),
      "unknown scope": authorizeQuery(client, challenge, { scope: "openid admin" }),
      "token flow": authorizeQuery(client, challenge, { response_type: "token" }),
      "two client ids": `${authorizeQuery(client, challenge)}&client_id=${client.clientId}`,
    };
    for (const [name, q] of Object.entries(cases)) {
      const r = await authnCall(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: q }, userSession: session(t.alice.uid) }, { host: t.host });
      expect(r.status, name).toBe(400);
      expect(r.body.statusCode, name).toBe(400);
    }
  });

  it("another tenant's client at this issuer is unknown; another tenant's or an unknown user is 404", async () => {
    const { challenge } = await pkce();
    const foreign = await registerClient(other);
    const r = await authnCall(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: authorizeQuery(foreign, challenge) }, userSession: session(t.alice.uid) }, { host: t.host });
    expect(r.status).toBe(400);
    for (const uid of [other.alice.uid, crypto.randomUUID()]) {
      const u = await authnCall(service, "POST", `${base}/oidc/sso`, { OIDCPayload: { OIDCRequest: authorizeQuery(client, challenge) }, userSession: session(uid) }, { host: t.host });
      expect(u.status).toBe(404);
    }
  });

  it("licenses: app level is 403; another community's license is 403", async () => {
    const { challenge } = await pkce();
    const body = { OIDCPayload: { OIDCRequest: authorizeQuery(client, challenge) }, userSession: session(t.alice.uid) };
    const app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
    expect((await authnCall(app, "POST", `${base}/oidc/sso`, body, { host: t.host })).status).toBe(403);
    const elsewhere = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    expect((await authnCall(elsewhere, "POST", `${base}/oidc/sso`, body, { host: t.host })).status).toBe(403);
  });

  it("malformed payloads are 400 in the Authn shape, never a 5xx", async () => {
    const bodies: unknown[] = [
      {},
      { OIDCPayload: {} },
      { OIDCPayload: { OIDCRequest: 5 }, userSession: session(t.alice.uid) },
      { OIDCPayload: { OIDCRequest: "x".repeat(9000) }, userSession: session(t.alice.uid) },
      { OIDCPayload: { OIDCRequest: { client_id: ["a"] } }, userSession: session(t.alice.uid) },
      { OIDCPayload: { OIDCRequest: "client_id=x" }, userSession: { user: {} } },
      { OIDCPayload: { OIDCRequest: "client_id=x", consentGranted: "email" }, userSession: session(t.alice.uid) },
      [],
      "text",
    ];
    for (const b of bodies) {
      const r = await authnCall(service, "POST", `${base}/oidc/sso`, b, { host: t.host });
      expect(r.status, JSON.stringify(b).slice(0, 80)).toBe(400);
      expect(r.body).toHaveProperty("statusCode", 400);
    }
  });
});
