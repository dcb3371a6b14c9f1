import { beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { call, callJson } from "../../../test/helpers/http";
import { b64url } from "../../../test/helpers/idp";
import { sha256Hex } from "../../crypto/hash";
import { signJwt } from "../../crypto/jwt";
import { tenantAudience } from "../../core/sessions/tokens";
import { parseTenantSettings, tenantIssuer } from "../../core/tenants/settings";
import { Limiter } from "../../core/limits/limiter";
import type { Scope } from "../../core/context";

let t: TestTenant;
let other: TestTenant;
beforeAll(async () => {
  [t, other] = await Promise.all([createTestTenant(), createTestTenant()]);
});

function basicRaw(text: string): string {
  return `Basic ${btoa(text)}`;
}
const goodBasic = () => basicRaw(`${t.client.clientId}:${t.clientSecret}`);

async function clientLogin(auth: string | undefined, opts: { host?: string; ip?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  return callJson("POST", "/api/auth/login", opts.body, {
    host: opts.host ?? t.host,
    ...(opts.ip ? { ip: opts.ip } : {}),
    headers: { ...(auth !== undefined ? { authorization: auth } : {}), ...(opts.headers ?? {}) },
  });
}

function expectInvalidClient(r: Awaited<ReturnType<typeof callJson>>) {
  expect(r.status).toBe(401);
  expect(r.body).toEqual({ error: "invalid_client", error_description: expect.any(String) });
  expect(r.headers.get("www-authenticate")).toBe('Basic realm="croit", charset="UTF-8"');
}

const tokenInfo = (token: string, host = t.host) => callJson("GET", "/api/auth/token-info", undefined, { host, headers: { authorization: `Bearer ${token}` } });

async function aliceToken(tt = t): Promise<string> {
  const r = await callJson("POST", "/api/auth/login-form", new URLSearchParams({ username: "alice", password: PASSWORD }), { host: tt.host });
  expect(r.status).toBe(200);
  return r.body.access_token as string;
}

describe("login: bad Basic headers answer 401 invalid_client with a challenge", () => {
  const cases: [string, string][] = [
    ["missing", ""],
    ["empty Basic", "Basic"],
    ["empty Basic with space", "Basic "],
    ["not base64", "Basic !!!not-base64!!!"],
    ["base64 with a bad length", "Basic abcde"],
    ["two tokens", `Basic ${btoa("a:b")} ${btoa("c:d")}`],
    ["no colon", basicRaw("justanidwithoutsecret")],
    ["empty id and secret", basicRaw(":")],
    ["empty secret", basicRaw("client:")],
    ["empty id", basicRaw(":secret")],
    ["not UTF-8", `Basic ${btoa("\xff\xfe:\xff")}`],
    ["bad percent-encoding", basicRaw("client%ZZ:secret%")],
    ["another scheme", "Bearer abc.def.ghi"],
    ["oversized", `Basic ${"A".repeat(8192)}`],
  ];
  for (const [name, header] of cases) {
    it(name, async () => {
      expectInvalidClient(await clientLogin(header === "" ? undefined : header));
    });
  }

  it("does not take credentials from the form body", async () => {
    const body = new URLSearchParams({ grant_type: "client_credentials", client_id: t.client.clientId, client_secret: t.clientSecret });
    expectInvalidClient(await clientLogin(undefined, { body }));
  });
});

describe("login: client authentication failures", () => {
  it("wrong secret, unknown client: the same answer", async () => {
    const wrong = await clientLogin(basicRaw(`${t.client.clientId}:wrong-secret`));
    const unknown = await clientLogin(basicRaw(`no-such-client:wrong-secret`));
    expectInvalidClient(wrong);
    expectInvalidClient(unknown);
    expect(unknown.body).toEqual(wrong.body);
  });

  it("another tenant's client, with its right secret", async () => {
    expectInvalidClient(await clientLogin(basicRaw(`${other.client.clientId}:${other.clientSecret}`)));
    // It works on its own tenant.
    expect((await clientLogin(basicRaw(`${other.client.clientId}:${other.clientSecret}`), { host: other.host })).status).toBe(200);
  });

  it("a disabled client", async () => {
    const secret = "disabled-client-secret-0123456789";
    const clientId = `${t.client.clientId}-disabled`;
    await services().clients.create({ ...t.client, clientId, secretHash: await sha256Hex(secret), disabled: true });
    expectInvalidClient(await clientLogin(basicRaw(`${clientId}:${secret}`)));
  });

  it("a client not allowed the grant answers unauthorized_client", async () => {
    const secret = "password-only-secret-0123456789";
    const clientId = `${t.client.clientId}-pwonly`;
    await services().clients.create({ ...t.client, clientId, secretHash: await sha256Hex(secret), grants: ["password"] });
    const r = await clientLogin(basicRaw(`${clientId}:${secret}`));
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: "unauthorized_client", error_description: "client is not allowed the client_credentials grant" });
  });

  it("a client whose API user is disabled answers unauthorized_client", async () => {
    const svc = services();
    const user = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "api-user-off", disabled: true, roles: ["api"] });
    const secret = "disabled-user-secret-0123456789";
    const clientId = `${t.client.clientId}-useroff`;
    await svc.clients.create({ ...t.client, clientId, secretHash: await sha256Hex(secret), userId: user.id });
    const r = await clientLogin(basicRaw(`${clientId}:${secret}`));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("unauthorized_client");
  });

  it("unsupported grant_type values, duplicates and wrong content types", async () => {
    for (const grant of ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS", "client_credentials\u0000"]) {
      const r = await clientLogin(goodBasic(), { body: new URLSearchParams({ grant_type: grant }) });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("unsupported_grant_type");
    }
    const dup = await clientLogin(goodBasic(), { body: "grant_type=client_credentials&grant_type=client_credentials", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(dup.status).toBe(400);
    expect(dup.body.error).toBe("invalid_request");
    // Issue 7 item 5: an undeclared media type is 415, still in the OAuth error shape.
    for (const type of ["application/json", "text/plain"]) {
      const r = await clientLogin(goodBasic(), { body: "grant_type=client_credentials", headers: { "content-type": type } });
      expect(r.status).toBe(415);
      expect(r.body).toEqual({ error: "invalid_request", error_description: expect.any(String) });
    }
    const multi = await clientLogin(goodBasic(), { body: "grant_type=client_credentials", headers: { "content-type": "multipart/form-data; boundary=x" } });
    expect(multi.status).toBe(400);
    expect(multi.body.error).toBe("invalid_request");
  });

  it("locks a client out after repeated wrong secrets (429 with Retry-After), even for the right secret", async () => {
    const locked = await createTestTenant({ lockout: { userThreshold: 3 } });
    const auth = (s: string) => basicRaw(`${locked.client.clientId}:${s}`);
    for (let i = 0; i < 3; i++) expectInvalidClient(await clientLogin(auth("wrong"), { host: locked.host, ip: "198.51.100.10" }));
    const r = await clientLogin(auth(locked.clientSecret), { host: locked.host, ip: "198.51.100.10" });
    expect(r.status).toBe(429);
    expect(r.body).toEqual({ error: "too_many_requests", error_description: expect.any(String) });
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("login: client authentication before the form (issue 7 item 5)", () => {
  const badForms: [string, Record<string, string>][] = [
    ["grant_type=client_credentials&grant_type=client_credentials", { "content-type": "application/x-www-form-urlencoded" }],
    [`grant_type=${"x".repeat(2000)}`, { "content-type": "application/x-www-form-urlencoded" }],
    ['{"grant_type":"client_credentials"}', { "content-type": "application/json" }],
    ["grant_type=client_credentials", { "content-type": "text/plain" }],
  ];

  it("without valid client credentials every malformed form is 401 invalid_client", async () => {
    // Its own tenant: the wrong secrets below count against its client, not the shared one.
    const tt = await createTestTenant();
    for (const auth of [undefined, basicRaw(`${tt.client.clientId}:wrong-secret`), basicRaw(`${other.client.clientId}:${other.clientSecret}`)]) {
      for (const [body, headers] of badForms) expectInvalidClient(await clientLogin(auth, { body, headers, host: tt.host, ip: "198.51.100.77" }));
    }
  });

  it("an authenticated client learns what is wrong with its form: 400 or 415", async () => {
    const statuses = [];
    for (const [body, headers] of badForms) {
      const r = await clientLogin(goodBasic(), { body, headers });
      expect(r.body.error).toBe("invalid_request");
      statuses.push(r.status);
    }
    expect(statuses).toEqual([400, 400, 415, 415]);
  });
});

describe("login-form: hostile input", () => {
  const post = (body: string, type = "application/x-www-form-urlencoded", host = t.host) =>
    callJson("POST", "/api/auth/login-form", body, { host, headers: { "content-type": type } });

  it("malformed forms never give 5xx", async () => {
    for (const body of ["%", "username=%ZZ&password=%", "&&&==&=", "username", "=alice", "username=alice&password=" + "%FF".repeat(50), "\u0000\u0001"]) {
      const r = await post(body);
      expect(r.status, body).toBeLessThan(500);
      expect(["invalid_request", "invalid_grant"]).toContain(r.body.error);
    }
  });

  it("duplicated and oversized parameters answer invalid_request", async () => {
    for (const body of [`username=alice&username=admin&password=${encodeURIComponent(PASSWORD)}`, `username[]=alice&password=x`, `username=alice&password=${"a".repeat(2000)}`, `username=${"a".repeat(300)}&password=x`]) {
      const r = await post(body);
      expect(r.status, body).toBe(400);
      expect(r.body.error).toBe("invalid_request");
    }
  });

  it("JSON and text bodies answer 415 invalid_request, multipart 400 invalid_request", async () => {
    const json = await post(JSON.stringify({ username: "alice", password: PASSWORD }), "application/json");
    const multi = await post("--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--x--\r\n", "multipart/form-data; boundary=x");
    const text = await post("username=alice", "text/plain");
    for (const r of [json, text]) {
      expect(r.status).toBe(415);
      expect(r.body.error).toBe("invalid_request");
    }
    expect(multi.status).toBe(400);
    expect(multi.body.error).toBe("invalid_request");
  });

  it("invalid input does not count as a failed login", async () => {
    const tt = await createTestTenant();
    await post("username=alice&username=bob&password=x", undefined, tt.host);
    await post("grant_type=password&username=alice", undefined, tt.host);
    await post(JSON.stringify({ username: "alice", password: "x" }), "application/json", tt.host);
    const scope: Scope = { tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "203.0.113.7", userAgent: null };
    expect(await services().limiter.failures(scope, "login", "alice")).toBe(0);
    expect(Limiter.keys(scope, "login", "alice").user).toContain(tt.tenant.id);
  });

  it("locks a user out after repeated wrong passwords (429 with Retry-After)", async () => {
    const locked = await createTestTenant({ lockout: { userThreshold: 3 } });
    const form = (password: string) => new URLSearchParams({ grant_type: "password", username: "alice", password });
    for (let i = 0; i < 3; i++) {
      const r = await callJson("POST", "/api/auth/login-form", form("wrong password!"), { host: locked.host, ip: "198.51.100.20" });
      expect(r.status).toBe(400);
    }
    const r = await callJson("POST", "/api/auth/login-form", form(PASSWORD), { host: locked.host, ip: "198.51.100.20" });
    expect(r.status).toBe(429);
    expect(r.body.error).toBe("too_many_requests");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("1 MB bodies answer 413 in the croit shape", () => {
  const big = "a=" + "x".repeat(1024 * 1024);
  for (const [path, type] of [
    ["/api/auth/login", "application/x-www-form-urlencoded"],
    ["/api/auth/login-form", "application/x-www-form-urlencoded"],
    ["/api/auth/logout", "application/octet-stream"],
    ["/api/auth/okta/login", "application/json"],
  ] as const) {
    it(path, async () => {
      const r = await call("POST", path, big, { host: t.host, headers: { "content-type": type, authorization: goodBasic() } });
      expect(r.status).toBe(413);
      expect(await r.json()).toEqual({ error: "invalid_request", error_description: "request body too large" });
    });
  }
});

describe("token-info and logout refuse forged, foreign and unfit tokens", () => {
  async function expectInvalidToken(token: string) {
    for (const r of [await tokenInfo(token), await callJson("POST", "/api/auth/logout", undefined, { host: t.host, headers: { authorization: `Bearer ${token}` } })]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: "invalid_token", error_description: expect.any(String) });
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer realm="croit", error="invalid_token"$/);
    }
  }

  it("alg none with the claims of a real token", async () => {
    const real = await aliceToken();
    const [h, p] = real.split(".");
    const header = JSON.parse(atob(h!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    await expectInvalidToken(`${b64url({ ...header, alg: "none" })}.${p}.`);
    await expectInvalidToken(`${b64url({ ...header, alg: "none" })}.${p}`);
  });

  it("HS256 signed with the public key", async () => {
    const real = await aliceToken();
    const payload = JSON.parse(atob(real.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    const jwks = (await callJson<{ keys: Record<string, unknown>[] }>("GET", "/.well-known/jwks.json", undefined, { host: t.host })).body;
    const pub = jwks.keys[0]!;
    const hs = await new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: pub.kid as string }).sign(new TextEncoder().encode(JSON.stringify(pub)));
    await expectInvalidToken(hs);
  });

  it("a tampered payload (roles raised)", async () => {
    const real = await aliceToken();
    const [h, p, s] = real.split(".");
    const payload = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    await expectInvalidToken(`${h}.${b64url({ ...payload, roles: ["admin"] })}.${s}`);
  });

  it("expired, and without exp", async () => {
    const svc = services();
    const settings = parseTenantSettings(t.tenant.settings);
    const base = { issuer: tenantIssuer(t.tenant.id, settings), audience: tenantAudience(t.tenant.id), subject: t.alice.uid };
    const claims = { sid: crypto.randomUUID(), tenant: t.tenant.id, community: t.community.id, roles: ["user"], username: "alice" };
    const expired = await signJwt(svc.keyring, claims, { ...base, kind: "access", ttlSeconds: 60, now: Math.floor(Date.now() / 1000) - 3600 });
    await expectInvalidToken(expired);
    const real = await aliceToken();
    const [h, p] = real.split(".");
    const payload = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    delete payload.exp;
    // Re-signing needs our private key, which a forger lacks; an unsigned variant must fail too.
    await expectInvalidToken(`${h}.${b64url(payload)}.${real.split(".")[2]}`);
  });

  it("a valid token of another tenant", async () => {
    const foreign = await aliceToken(other);
    expect((await tokenInfo(foreign, other.host)).status).toBe(200);
    await expectInvalidToken(foreign);
  });

  it("an ID token and a refresh token of this tenant (from the userpool login)", async () => {
    const up = await callJson("POST", "/v1/login", { username: "alice", password: PASSWORD }, { host: t.host });
    expect(up.status).toBe(200);
    await expectInvalidToken(up.body.id_token as string);
    await expectInvalidToken(up.body.refresh_token as string);
  });

  it("garbage and oversized bearer values", async () => {
    for (const token of ["x", "a.b.c", "a.b.c.d.e", "e30.e30.", "A".repeat(10_000)]) await expectInvalidToken(token);
    for (const header of ["Bearer", "Bearer ", "Basic abc", "bearer a b", "Bearer \u00e9"]) {
      const r = await callJson("GET", "/api/auth/token-info", undefined, { host: t.host, headers: { authorization: header } });
      expect(r.status, header).toBe(401);
      expect(r.body.error).toBe("invalid_token");
    }
  });

  it("a logout with a foreign token does not end the session on its own tenant", async () => {
    const foreign = await aliceToken(other);
    await call("POST", "/api/auth/logout", undefined, { host: t.host, headers: { authorization: `Bearer ${foreign}` } });
    expect((await tokenInfo(foreign, other.host)).status).toBe(200);
  });
});

describe("no route answers 5xx to junk", () => {
  it("sweeps every route with junk methods, headers and bodies", async () => {
    const routes = ["/api/auth/login", "/api/auth/login-form", "/api/auth/logout", "/api/auth/token-info", "/api/auth/okta/signInConfig", "/api/auth/okta/login", "/api/auth/nope"];
    const bodies: [string | undefined, string | undefined][] = [
      [undefined, undefined],
      ["{", "application/json"],
      ["null", "application/json"],
      ["%%%", "application/x-www-form-urlencoded"],
      ["\u0000", "application/octet-stream"],
    ];
    const auths = [undefined, "Basic Og==", `Basic ${btoa(`${t.client.clientId}:${t.clientSecret}`)}`, "Bearer a.b.c"];
    for (const path of routes) {
      const checks: Promise<void>[] = [];
      for (const method of ["GET", "POST", "DELETE"]) {
        for (const [body, type] of method === "POST" ? bodies : bodies.slice(0, 1)) {
          for (const auth of auths) {
            const headers: Record<string, string> = {};
            if (type) headers["content-type"] = type;
            if (auth) headers.authorization = auth;
            checks.push(
              call(method, path, method === "GET" ? undefined : body, { host: t.host, headers }).then(async (res) => {
                expect(res.status, `${method} ${path} ${type} ${auth}`).toBeLessThan(500);
                await res.body?.cancel();
              }),
            );
          }
        }
      }
      await Promise.all(checks);
    }
  }, 120_000);

  it("an unknown host answers 404 in the croit shape", async () => {
    const r = await callJson("POST", "/api/auth/login-form", new URLSearchParams({ username: "alice", password: PASSWORD }), { host: "nobody.unknown.test" });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: "not_found", error_description: expect.any(String) });
  });
});
