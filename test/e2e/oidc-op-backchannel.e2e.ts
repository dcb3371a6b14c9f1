import { randomBytes } from "node:crypto";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startWorker, type StartedWorker } from "./harness";

/**
 * The provider's back channel as an unmodified openid-client 6 sees it: discovery (issuer
 * equality), the code exchange with PKCE and RFC 9207 `iss`, ID token validation, userinfo,
 * refresh, introspection and revocation. The code comes from the dev-only POST /dev/oidc-codes
 * (what the hosted login does after a sign-in; the browser flow is tested with the hosted login).
 */
let w: StartedWorker;
let issuer: string;
let config: oidc.Configuration;
const secret = randomBytes(32).toString("base64url");
let minted: { clientId: string; redirectUri: string; verifier: string; codes: string[] };

beforeAll(async () => {
  w = await startWorker();
  issuer = `${w.url}/oidc/${w.demo.communityId}`;
  const r = await request<typeof minted>(w, "POST", "/dev/oidc-codes", { tenantId: w.demo.tenantId, communityId: w.demo.communityId, uid: w.demo.user.uid, clientSecret: secret, count: 3 });
  expect(r.status).toBe(200);
  minted = r.body;
  config = await oidc.discovery(new URL(issuer), minted.clientId, secret, oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
}, 120_000);
afterAll(() => w?.stop());

describe("openid-client 6 against a community's provider", () => {
  it("discovers the issuer it was given", () => {
    expect(config.serverMetadata().issuer).toBe(issuer);
    expect(config.serverMetadata().token_endpoint).toBe(`${issuer}/token`);
  });

  it("code + PKCE, userinfo, refresh, introspection, revocation", async () => {
    const callback = new URL(minted.redirectUri);
    callback.searchParams.set("code", minted.codes[0]!);
    callback.searchParams.set("iss", issuer);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: minted.verifier, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(w.demo.user.uid);
    expect(claims.iss).toBe(issuer);
    expect(claims.aud).toBe(minted.clientId);
    expect(typeof claims.auth_time).toBe("number");

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.sub).toBe(w.demo.user.uid);
    expect(info.email).toBe("alice@localhost");

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.claims()!.sub).toBe(w.demo.user.uid);

    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
    await oidc.tokenRevocation(config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
  });

  it("a replayed code is refused with invalid_grant", async () => {
    const callback = new URL(minted.redirectUri);
    callback.searchParams.set("code", minted.codes[1]!);
    callback.searchParams.set("iss", issuer);
    await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: minted.verifier });
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: minted.verifier })).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("a response whose iss names another issuer is refused by the client (mix-up, RFC 9207)", async () => {
    const callback = new URL(minted.redirectUri);
    callback.searchParams.set("code", minted.codes[2]!);
    callback.searchParams.set("iss", `${w.url}/oidc/another-community`);
    await expect(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: minted.verifier })).rejects.toThrow();
  });
});
