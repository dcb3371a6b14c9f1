import { beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { issueSession } from "../../core/sessions/tokens";
import { parseTenantSettings } from "../../core/tenants/settings";

/**
 * Issue 7 item 5 on CloudCheckr: PUT /state (and the other bearer routes) authenticate (401),
 * then refuse a client's token (403), and only then judge the query and body (422/415).
 */
let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

function expectShape(r: { status: number; body: Record<string, unknown> }, status: number, error: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error).toBe(error);
  expect(typeof r.body.message).toBe("string");
}

async function userToken(): Promise<Record<string, string>> {
  const r = await callJson<{ access_token: string }>("POST", "/v1/auth/token", new URLSearchParams({ username: "alice", password: PASSWORD }), { host: t.host });
  expect(r.status).toBe(200);
  return { authorization: `Bearer ${r.body.access_token}` };
}

async function clientToken(): Promise<Record<string, string>> {
  const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
  const s = await issueSession(services(), scope, { sub: `client:${t.client.clientId}`, communityId: t.community.id, username: t.client.clientId, roles: ["api"], clientId: t.client.clientId }, { refresh: false, idToken: false });
  return { authorization: `Bearer ${s.accessToken}` };
}

const put = (path: string, body: unknown, headers: Record<string, string> = {}) => callJson("PUT", `/v1/auth${path}`, body, { host: t.host, headers });

describe("PUT /v1/auth/state: authentication, then the kind of token, then the input", () => {
  it("an anonymous or forged caller gets 401 for a bad body, a bad ?app= and a wrong media type", async () => {
    for (const headers of [{}, { authorization: "Bearer a.b.c" }] as Record<string, string>[]) {
      expectShape(await put("/state?app=glass", { nope: 1 }, headers), 401, "invalid_token");
      expectShape(await put("/state?app=bogus", { state: {} }, headers), 401, "invalid_token");
      expectShape(await put("/state?app=glass", "state=1", { ...headers, "content-type": "application/x-www-form-urlencoded" }), 401, "invalid_token");
    }
    expectShape(await callJson("GET", "/v1/auth/state?app=bogus", undefined, { host: t.host }), 401, "invalid_token");
    expectShape(await callJson("PATCH", "/v1/auth/token?app=bogus", undefined, { host: t.host }), 401, "invalid_token");
  });

  it("a client's token gets 403 before its body is judged", async () => {
    const h = await clientToken();
    expectShape(await put("/state?app=glass", { nope: 1 }, h), 403, "forbidden");
    expectShape(await put("/state?app=bogus", { state: 1 }, h), 403, "forbidden");
  });

  it("a user with a bad body gets 422, with a wrong media type 415, and nothing is saved", async () => {
    const h = await userToken();
    expectShape(await put("/state?app=glass", { nope: 1 }, h), 422, "validation_failed");
    expectShape(await put("/state?app=glass", "state=1", { ...h, "content-type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type");
    const saved = await callJson("GET", "/v1/auth/state?app=glass", undefined, { host: t.host, headers: h });
    expect(saved.status).toBe(200);
    expect(saved.body.state).toBeNull();
    expect((await put("/state?app=glass", { state: { tab: 2 } }, h)).status).toBe(200);
  });
});

describe("415 on public CloudCheckr routes", () => {
  it("a form body on the JSON reset routes is 415 in the CloudCheckr shape", async () => {
    for (const method of ["POST", "PUT"]) {
      const r = await callJson(method, "/v1/auth/resetpassword", "email_address=a@b.c", { host: t.host, headers: { "content-type": "application/x-www-form-urlencoded" } });
      expectShape(r, 415, "unsupported_media_type");
    }
  });
});
