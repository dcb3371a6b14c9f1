import { beforeAll, describe, expect, it } from "vitest";
import { call, callJson } from "../../../test/helpers/http";
import { services, PASSWORD } from "../../../test/helpers/tenant";
import { bearer, createSentinelTenant, expectSentinelError as expectError, sentinelLogin, type SentinelTenant } from "../../../test/helpers/sentinel";

/**
 * Issue 7 item 5: a protected route authenticates (401), then checks the role (403), and only
 * then validates the body (400) or its media type (415). A body is never judged for a caller
 * who may not send it.
 */
let t: SentinelTenant;
beforeAll(async () => {
  t = await createSentinelTenant();
});

const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => callJson(method, `/v1.0/auth${path}`, body, { host: t.host, headers });

/** Protected routes with a body that fails the route's schema. */
const BAD_BODIES: [string, string, unknown][] = [
  ["POST", "/loginAs", { nope: 1 }],
  ["POST", "/setAssociatedAccountPassword", { nope: 1 }],
  ["POST", "/acceptTermsAndConditions", { version: 42 }],
  ["POST", "/password", { nope: 1 }],
  ["POST", "/sso/connections", { nope: 1 }],
  ["PATCH", "/sso/connections/not-a-valid-id-%00", { enabled: "yes" }],
];

async function impersonationToken(): Promise<Record<string, string>> {
  const r = await send("POST", "/loginAs", { username: "helpdesk" }, bearer(await sentinelLogin(t, "sysadmin")));
  expect(r.status).toBe(200);
  return bearer(r.body.token as string);
}

async function resetToken(username: string): Promise<Record<string, string>> {
  const svc = services();
  await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username, roles: ["USER"], mustChangePassword: true, passwordHash: t.alice.passwordHash, passwordChangedAt: Date.now() - 10_000 });
  const r = await send("POST", "/token", { username, password: PASSWORD });
  expect(r.status).toBe(200);
  return bearer(r.body.token as string);
}

describe("authentication before validation", () => {
  it("an anonymous or forged caller gets 401, never the schema's complaint", async () => {
    const alice = await sentinelLogin(t, "alice");
    const [h, p] = alice.split(".");
    for (const [method, path, body] of BAD_BODIES) {
      for (const headers of [{}, { authorization: "Bearer not-a-jwt" }, bearer(`${h}.${p}.${"A".repeat(86)}`)]) {
        const r = await send(method, path, body, headers);
        expectError(r, 401);
        expect(String(r.body.message)).not.toMatch(/nope|version|enabled|Required|expected/i);
      }
    }
  });

  it("the unauthenticated POST /loginAs {\"nope\":1} of the issue answers 401 invalid_token", async () => {
    const r = await send("POST", "/loginAs", { nope: 1 });
    expectError(r, 401, "invalid_token");
    expect(r.headers.get("www-authenticate")).toContain("Bearer");
  });
});

describe("role before validation", () => {
  it("POST /loginAs without LOGIN_AS: 403, whatever the body", async () => {
    for (const who of ["alice", "orgadmin"]) {
      const h = bearer(await sentinelLogin(t, who));
      expectError(await send("POST", "/loginAs", { nope: 1 }, h), 403, "forbidden");
      expectError(await send("POST", "/loginAs", "not json at all", { ...h, "content-type": "application/json" }), 403, "forbidden");
    }
  });

  it("SSO connection administration without SYSTEM_ADMIN: 403 for a malformed body or id", async () => {
    const h = bearer(await sentinelLogin(t, "helpdesk"));
    expectError(await send("POST", "/sso/connections", { nope: 1 }, h), 403, "forbidden");
    expectError(await send("PATCH", "/sso/connections/x", { enabled: "yes" }, h), 403, "forbidden");
  });

  it("an impersonation token on setAssociatedAccountPassword and acceptTermsAndConditions: 403 before the body", async () => {
    const imp = await impersonationToken();
    expectError(await send("POST", "/setAssociatedAccountPassword", { nope: 1 }, imp), 403, "forbidden");
    expectError(await send("POST", "/acceptTermsAndConditions", { version: 42 }, imp), 403, "forbidden");
    expectError(await send("POST", "/loginAs", { nope: 1 }, imp), 403, "forbidden");
  });

  it("POST /password with an access token instead of a CHANGE_PASSWORD token: 403 before the body", async () => {
    const h = bearer(await sentinelLogin(t, "alice"));
    expectError(await send("POST", "/password", { nope: 1 }, h), 403, "forbidden");
  });
});

describe("validation once the caller may act", () => {
  it("an allowed caller with a bad body gets 400 invalid_request, and nothing changes", async () => {
    const helpdesk = bearer(await sentinelLogin(t, "helpdesk"));
    expectError(await send("POST", "/loginAs", { nope: 1 }, helpdesk), 400, "invalid_request");
    const sys = bearer(await sentinelLogin(t, "sysadmin"));
    expectError(await send("POST", "/sso/connections", { nope: 1 }, sys), 400, "invalid_request");
    const alice = bearer(await sentinelLogin(t, "alice"));
    expectError(await send("POST", "/setAssociatedAccountPassword", { nope: 1 }, alice), 400, "invalid_request");
    expectError(await send("POST", "/acceptTermsAndConditions", { version: 42 }, alice), 400, "invalid_request");
    const reset = await resetToken("order-reset");
    expectError(await send("POST", "/password", { nope: 1 }, reset), 400, "invalid_request");
    // The reset token was not used up by the refused body.
    expect((await send("POST", "/password", { password: "a fresh long passphrase" }, reset)).status).toBe(200);
  });
});

describe("415 for a body of a media type the route does not accept", () => {
  it("answers 415 in the Sentinel shape on public routes", async () => {
    for (const [type, body] of [["text/plain", '{"username":"alice"}'], ["application/x-www-form-urlencoded", "username=alice&password=x"], ["application/xml", "<a/>"]] as const) {
      const r = await callJson("POST", "/v1.0/auth/token", body, { host: t.host, headers: { "content-type": type } });
      expectError(r, 415, "unsupported_media_type");
      expect(r.body.error).toBe("Unsupported Media Type");
    }
    // A body with no Content-Type at all is not JSON either.
    expectError(await callJson("POST", "/v1.0/auth/passwordReset", '{"username":"alice"}', { host: t.host }), 415, "unsupported_media_type");
  });

  it("authenticates before judging the media type on protected routes", async () => {
    const text = { "content-type": "text/plain" };
    expectError(await send("POST", "/loginAs", "username=alice", text), 401);
    const alice = bearer(await sentinelLogin(t, "alice"));
    expectError(await send("POST", "/loginAs", "username=alice", { ...alice, ...text }), 403, "forbidden");
    const helpdesk = bearer(await sentinelLogin(t, "helpdesk"));
    expectError(await send("POST", "/loginAs", "username=alice", { ...helpdesk, ...text }), 415, "unsupported_media_type");
  });

  it("JSON with a charset or a +json suffix is still accepted", async () => {
    const r = await call("POST", "/v1.0/auth/token", JSON.stringify({ username: "alice", password: PASSWORD }), { host: t.host, headers: { "content-type": "application/json; charset=utf-8" } });
    expect(r.status).toBe(200);
  });
});
