import { beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestTenant, PASSWORD, type TestTenant } from "../../../test/helpers/tenant";
import { claimsOf, headerOf, loginTokens, post } from "../../api/userpool/testing";
import { applicationOfPath } from "./application";

/**
 * RFC 9068 §2.2: every `at+jwt` carries iss, exp, aud, sub, client_id, iat and jti. A user's
 * token names the application it was issued to: the surface that issued it (application.ts),
 * or the OAuth client that authenticated. A refresh or reissue keeps it.
 */
const REQUIRED = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

function expectAccessToken(token: string, clientId: string) {
  expect(headerOf(token).typ).toBe("at+jwt");
  const claims = claimsOf(token);
  for (const name of REQUIRED) expect(claims, name).toHaveProperty(name);
  expect(claims.client_id).toBe(clientId);
}

describe("client_id in access tokens (RFC 9068 §2.2)", () => {
  it("userpool: login and refresh name the userpool surface", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    expectAccessToken(s.access_token, "userpool");
    const r = await post(t, "token-refresh", { username: "alice", refresh_token: s.refresh_token });
    expect(r.status).toBe(200);
    expectAccessToken(r.body.access_token as string, "userpool");
  });

  it("Sentinel: login and GET /refreshToken name the sentinel surface", async () => {
    const login = await callJson<{ token: string }>("POST", "/v1.0/auth/token", { username: "alice", password: PASSWORD }, { host: t.host });
    expect(login.status).toBe(200);
    expectAccessToken(login.body.token, "sentinel");
    const again = await callJson<{ token: string }>("GET", "/v1.0/auth/refreshToken", undefined, { host: t.host, headers: { authorization: `Bearer ${login.body.token}` } });
    expect(again.status).toBe(200);
    expectAccessToken(again.body.token, "sentinel");
  });

  it("CloudCheckr: login and PATCH /token name the cloudcheckr surface", async () => {
    const login = await callJson<{ access_token: string }>("POST", "/v1/auth/token", new URLSearchParams({ username: "alice", password: PASSWORD }), { host: t.host });
    expect(login.status).toBe(200);
    expectAccessToken(login.body.access_token, "cloudcheckr");
    const again = await callJson<{ access_token: string }>("PATCH", "/v1/auth/token", undefined, { host: t.host, headers: { authorization: `Bearer ${login.body.access_token}` } });
    expect(again.status).toBe(200);
    expectAccessToken(again.body.access_token, "cloudcheckr");
  });

  it("croit: the password grant names the croit surface; client credentials name the client", async () => {
    const login = await callJson<{ access_token: string }>("POST", "/api/auth/login-form", new URLSearchParams({ username: "alice", password: PASSWORD }), { host: t.host });
    expect(login.status).toBe(200);
    expectAccessToken(login.body.access_token, "croit");
    const cc = await callJson<{ access_token: string }>("POST", "/api/auth/login", new URLSearchParams({ grant_type: "client_credentials" }), {
      host: t.host,
      headers: { authorization: `Basic ${btoa(`${t.client.clientId}:${t.clientSecret}`)}` },
    });
    expect(cc.status).toBe(200);
    expectAccessToken(cc.body.access_token, t.client.clientId);
  });

  it("the surface is read from the mount, longest prefix first", () => {
    expect(applicationOfPath("/v1/login")).toBe("userpool");
    expect(applicationOfPath("/v1/auth/token")).toBe("cloudcheckr");
    expect(applicationOfPath("/v1.0/auth/token")).toBe("sentinel");
    expect(applicationOfPath("/api/auth/login")).toBe("croit");
    expect(applicationOfPath("/authn/tenant/x/community/y/authenticate")).toBe("authn");
    expect(applicationOfPath("/v10/login")).toBeNull();
    expect(applicationOfPath("/dev/seed")).toBeNull();
  });
});
