import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../../test/helpers/http";
import { createTestTenant, PASSWORD, type TestTenant } from "../../test/helpers/tenant";

/** CORS on the token surfaces (src/http/cors.ts), per tenant settings `cors`. */
const APP = "https://app.example.com";
const SURFACES = [
  ["userpool", "/v1/login"],
  ["croit", "/api/auth/login"],
  ["Sentinel", "/v1.0/auth/token"],
  ["CloudCheckr", "/v1/auth/token"],
] as const;

let t: TestTenant;
let withCredentials: TestTenant;
let noCors: TestTenant;

beforeAll(async () => {
  t = await createTestTenant({ cors: { allowedOrigins: [APP, "http://localhost:5173"], maxAgeSeconds: 300 } });
  withCredentials = await createTestTenant({ cors: { allowedOrigins: [APP], allowCredentials: true } });
  noCors = await createTestTenant();
});

const preflight = (host: string, path: string, origin: string, requestHeaders = "authorization, content-type") =>
  call("OPTIONS", path, undefined, { host, headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders } });

function corsHeadersOf(res: Response): string[] {
  return [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));
}

describe("CORS preflight", () => {
  it.each(SURFACES)("%s: an allowed origin gets 204 with the exact origin, methods, safe headers, max age and Vary", async (_name, path) => {
    const res = await preflight(t.host, path, APP, "Authorization, Content-Type, X-Evil, Cookie");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
    expect(res.headers.get("access-control-max-age")).toBe("300");
    expect(res.headers.get("vary")).toContain("Origin");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("with credentials allowed: Allow-Credentials true and the exact origin, never *", async () => {
    const res = await preflight(withCredentials.host, "/v1/login", APP);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-max-age")).toBe("600");
  });

  it("asks for no unsafe header: no Allow-Headers at all", async () => {
    const res = await preflight(t.host, "/v1/login", APP, "x-evil");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-headers")).toBeNull();
  });

  it.each([
    ["another origin", "https://evil.example.com"],
    ["another scheme", "http://app.example.com"],
    ["another port", "https://app.example.com:8443"],
    ["a subdomain", "https://x.app.example.com"],
    ["a trailing slash", `${APP}/`],
    ["the null origin", "null"],
    ["another port of an allowed localhost origin", "http://localhost:5174"],
  ])("%s: 204 without any Access-Control-Allow-* header", async (_name, origin) => {
    const res = await preflight(t.host, "/v1/login", origin);
    expect(res.status).toBe(204);
    expect(corsHeadersOf(res)).toEqual([]);
  });

  it("a tenant without CORS settings allows no origin", async () => {
    const res = await preflight(noCors.host, "/api/auth/login", APP);
    expect(res.status).toBe(204);
    expect(corsHeadersOf(res)).toEqual([]);
  });

  it("an unknown host is a plain 404, as without CORS", async () => {
    const res = await preflight("nobody.cors.test", "/v1/login", APP);
    expect(res.status).toBe(404);
    expect(corsHeadersOf(res)).toEqual([]);
  });

  it("is not mounted on /authn (servers only) nor on /dev", async () => {
    for (const path of ["/authn/environment", "/dev/outbox"]) {
      const res = await preflight(t.host, path, APP);
      expect(res.status, path).not.toBe(204);
      expect(corsHeadersOf(res), path).toEqual([]);
      const get = await call("GET", path, undefined, { host: t.host, headers: { origin: APP } });
      expect(corsHeadersOf(get), path).toEqual([]);
    }
  });
});

describe("CORS on actual requests", () => {
  it("an allowed origin's successful login carries Allow-Origin, Vary and Expose-Headers", async () => {
    const res = await call("POST", "/v1/login", { username: "alice", password: PASSWORD }, { host: t.host, headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("vary")).toContain("Origin");
    expect(res.headers.get("access-control-expose-headers")).toBe("Retry-After, WWW-Authenticate, x-d1-bookmark");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("cache-control")).toContain("no-store");
  });

  it("an error answer (401) still carries the CORS headers, so the app can read it", async () => {
    const res = await call("GET", "/api/auth/token-info", undefined, { host: withCredentials.host, headers: { origin: APP, authorization: "Bearer not-a-token" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
    expect(res.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
    const bad = await call("POST", "/v1.0/auth/token", { username: "alice", password: "wrong password!" }, { host: withCredentials.host, headers: { origin: APP } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("access-control-allow-origin")).toBe(APP);
  });

  it("CloudCheckr's ping (no tenant middleware of its own) is covered too", async () => {
    const res = await call("GET", "/v1/auth/ping", undefined, { host: t.host, headers: { origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
  });

  it.each([
    ["a disallowed origin", "https://evil.example.com"],
    ["another scheme", "http://app.example.com"],
    ["another port", "https://app.example.com:444"],
    ["the null origin", "null"],
  ])("%s gets nothing added", async (_name, origin) => {
    const res = await call("POST", "/v1/login", { username: "alice", password: PASSWORD }, { host: t.host, headers: { origin } });
    expect(res.status).toBe(200);
    expect(corsHeadersOf(res)).toEqual([]);
  });

  it("a request without Origin gets nothing added", async () => {
    const res = await call("POST", "/v1/login", { username: "alice", password: "wrong password!" }, { host: t.host });
    expect(res.status).toBe(401);
    expect(corsHeadersOf(res)).toEqual([]);
    expect(res.headers.get("vary") ?? "").not.toContain("Origin");
  });
});
