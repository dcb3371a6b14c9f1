import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../../test/helpers/http";
import { createTestTenant, type TestTenant } from "../../test/helpers/tenant";
import { HSTS, securityHeaders } from "./security-headers";
import type { AppEnv } from "./types";

/** Issue 7 item 10: security headers on every answer. */
let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant();
});

function expectSecurityHeaders(res: Response, what: string): void {
  expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(res.headers.get("referrer-policy"), what).toBe("no-referrer");
  expect(res.headers.get("x-frame-options"), what).toBe("DENY");
  expect(res.headers.get("content-security-policy"), what).toMatch(/frame-ancestors 'none'/);
}

describe("every answer carries the security headers", () => {
  it("successes, errors, 404s, 405s and redirects on every surface", async () => {
    const cases: [string, string, unknown, Record<string, string>?][] = [
      ["GET", "/ping", undefined],
      ["GET", "/nowhere", undefined],
      ["GET", "/.well-known/jwks.json", undefined],
      ["GET", "/openapi/sentinel.json", undefined],
      ["POST", "/v1.0/auth/token", { username: "alice", password: "wrong" }],
      ["POST", "/v1.0/auth/loginAs", { nope: 1 }],
      ["GET", "/v1.0/auth/sso/callback?state=x&code=y", undefined],
      ["POST", "/v1/login", { username: "alice", password: "wrong" }],
      ["POST", "/v1/auth/token", "x=1", { "content-type": "text/plain" }],
      ["DELETE", "/v1/auth/ping", undefined],
      ["POST", "/api/auth/login", "", {}],
      ["GET", "/authn/healthz", undefined],
      ["GET", "/dev/outbox", undefined],
      ["OPTIONS", "/v1/login", undefined, { origin: "https://evil.example", "access-control-request-method": "POST" }],
    ];
    for (const [method, path, body, headers] of cases) {
      const res = await call(method, path, body, { host: t.host, ...(headers ? { headers } : {}) });
      await res.arrayBuffer();
      expectSecurityHeaders(res, `${method} ${path} -> ${res.status}`);
      // Development: no HSTS over local plain HTTP.
      expect(res.headers.get("strict-transport-security"), path).toBeNull();
    }
  });

  it("an unknown host's 404 carries them too", async () => {
    const res = await call("POST", "/v1/login", { username: "a", password: "b" }, { host: "unbound.example" });
    expect(res.status).toBe(404);
    expectSecurityHeaders(res, "unknown host");
  });
});

describe("the middleware alone", () => {
  const app = new Hono<AppEnv>();
  app.use("*", securityHeaders);
  app.get("/", (c) => c.json({ ok: true }));
  app.get("/page", (c) => {
    c.header("content-security-policy", "default-src 'none'");
    return c.html("<p>hi</p>");
  });
  app.get("/framed", (c) => {
    c.header("content-security-policy", "default-src 'none'; frame-ancestors 'self'");
    return c.text("x");
  });
  app.get("/boom", () => {
    throw new Error("boom");
  });
  app.onError((_e, c) => c.json({ error: "server_error" }, 500));
  const env = (ENVIRONMENT: string) => ({ ENVIRONMENT }) as unknown as AppEnv["Bindings"];

  it("sends HSTS in production only", async () => {
    expect((await app.request("/", {}, env("production"))).headers.get("strict-transport-security")).toBe(HSTS);
    expect((await app.request("/", {}, env("development"))).headers.get("strict-transport-security")).toBeNull();
    // No ENVIRONMENT at all is production (as src/env.ts reads it).
    expect((await app.request("/", {}, {} as AppEnv["Bindings"])).headers.get("strict-transport-security")).toBe(HSTS);
  });

  it("adds frame-ancestors to a page's own CSP, and keeps one a route chose", async () => {
    expect((await app.request("/page", {}, env("production"))).headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    expect((await app.request("/framed", {}, env("production"))).headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'self'");
  });

  it("covers answers made by the error handler", async () => {
    const res = await app.request("/boom", {}, env("production"));
    expect(res.status).toBe(500);
    expectSecurityHeaders(res, "500");
    expect(res.headers.get("strict-transport-security")).toBe(HSTS);
  });
});
