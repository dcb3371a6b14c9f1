import { env } from "cloudflare:test";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { LICENSE_CACHE_MS } from "../core/licenses/licenses";
import { decryptEnvelope, encryptEnvelope, generateKeyPair } from "../crypto/envelope";
import { fromBase64, toBase64 } from "../crypto/encoding";
import type { Env } from "../env";
import { renderAuthnError } from "../api/authn/errors";
import { servicesFor } from "./services";
import { authnContext, authnGuard, authnRespond, type AuthnGuardOptions } from "./authn-guard";
import { surfaceApp } from "./openapi";
import { provideServices } from "./services";
import type { AppEnv } from "./types";
import { authnCaller, issueTestLicense, type AuthnCaller } from "../../test/helpers/authn";
import { createTestTenant, services, type TestTenant } from "../../test/helpers/tenant";

/**
 * Hostile requests against the guard, through a small app that mounts it with each option
 * the real routes use, on the real local D1, KV and ReplayGuard Durable Object.
 */
function guardedApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", provideServices);
  const surface = surfaceApp(renderAuthnError);
  const echo = (opts: AuthnGuardOptions) => [authnGuard(opts), async (c: Parameters<typeof authnRespond>[0]) => {
    const a = authnContext(c);
    return authnRespond(c, { payload: a.payload ?? null, level: a.license.authLevel, ip: a.clientIp, scopeIp: c.get("scope")?.ip ?? null }, { signed: true });
  }] as const;
  surface.post("/tenant/:tenantId/community/:communityId/community", ...echo({ levels: "any", community: true }));
  surface.post("/tenant/:tenantId/community/:communityId/service", ...echo({ levels: ["system", "service", "service_ext"], community: true }));
  surface.post("/system", ...echo({ levels: ["system"], community: false }));
  surface.get("/any", ...echo({ levels: "any", community: false }));
  surface.post("/plain", ...echo({ levels: "any", community: false, form: "plain" }));
  surface.post("/plain-typed", ...echo({ levels: "any", community: false, form: "plain", payload: z.object({ n: z.number().int() }) }));
  surface.post("/plain-optional", ...echo({ levels: "any", community: false, form: "plain", payload: z.object({ n: z.number().int().optional() }) }));
  app.route("/authn", surface);
  return app;
}

const app = guardedApp();
const E = env as unknown as Env;
const productionEnv = { ...E, AUTHN_PREVIEW: "false" } as Env;

let t: TestTenant;
let other: TestTenant;
let appKey: string;
let serviceKey: string;
let otherCommunityKey: string;
let caller: AuthnCaller;

async function send(c: AuthnCaller, path: string, payload: unknown, o: { headers?: Record<string, string>; raw?: string; env?: Env; plaintext?: boolean; method?: string; ip?: string; rawHeaders?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json", "cf-connecting-ip": o.ip ?? "198.51.100.9", ...(o.rawHeaders ?? (await c.headers())), ...(o.headers ?? {}) };
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (payload !== undefined) body = JSON.stringify(o.plaintext ? { data: payload } : { data: await encryptEnvelope(JSON.stringify(payload), c.sharedKey) });
  const res = await app.request(`http://${t.host}${path}`, { method: o.method ?? "POST", headers, ...(body !== undefined ? { body } : {}) }, o.env ?? E);
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status).toBeLessThan(500);
  return { status: res.status, body: json };
}

const communityPath = () => `/authn/tenant/${t.tenant.id}/community/${t.community.id}/community`;
const servicePath = () => `/authn/tenant/${t.tenant.id}/community/${t.community.id}/service`;

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  appKey = (await issueTestLicense(t.tenant.id, "app", [t.community.id])).licenseKey;
  serviceKey = (await issueTestLicense(t.tenant.id, "service", [t.community.id])).licenseKey;
  otherCommunityKey = (await issueTestLicense(other.tenant.id, "service", [other.community.id])).licenseKey;
  caller = await authnCaller(t.host, appKey);
});

describe("authn guard: credentials", () => {
  it("accepts a good request and answers a signed envelope the caller can read", async () => {
    const r = await send(caller, communityPath(), { hello: "world" });
    expect(r.status).toBe(200);
    expect(typeof r.body.signature_token).toBe("string");
    const data = JSON.parse(await decryptEnvelope(r.body.data as string, caller.sharedKey));
    expect(data).toMatchObject({ payload: { hello: "world" }, level: "app" });
  });

  it("401 for each missing header", async () => {
    const h = await caller.headers();
    for (const drop of ["publickey", "licensekey", "requestid"]) {
      const rawHeaders = { ...h };
      delete rawHeaders[drop as keyof typeof rawHeaders];
      const r = await send(caller, communityPath(), {}, { rawHeaders });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });
      expect(String(r.body.message)).toContain(drop);
    }
  });

  it("401 for headers encrypted under another key pair (wrong key)", async () => {
    const intruder = await authnCaller(t.host, appKey);
    const h = await intruder.headers();
    const r = await send(caller, communityPath(), {}, { rawHeaders: { ...h, publickey: caller.publicKey } });
    expect(r.status).toBe(401);
  });

  it("401 for a public key that is not a point, or not base64", async () => {
    const h = await caller.headers();
    for (const publickey of [toBase64(new Uint8Array(64)), "%%%", toBase64(new Uint8Array(10)), generateKeyPair("P-256").publicKey.slice(0, 40)]) {
      expect((await send(caller, communityPath(), {}, { rawHeaders: { ...h, publickey } })).status).toBe(401);
    }
  });

  it("401 for a tampered ciphertext or tag, and truncated base64, in licensekey and requestid", async () => {
    for (const name of ["licensekey", "requestid"] as const) {
      const h = await caller.headers();
      const raw = fromBase64(h[name]!);
      for (const at of [3, 20, raw.length - 1]) {
        const bad = raw.slice();
        bad[at]! ^= 0x40;
        expect((await send(caller, communityPath(), {}, { rawHeaders: { ...h, [name]: toBase64(bad) } })).status).toBe(401);
      }
      expect((await send(caller, communityPath(), {}, { rawHeaders: { ...h, [name]: h[name]!.slice(0, -5) } })).status).toBe(401);
      expect((await send(caller, communityPath(), {}, { rawHeaders: { ...h, [name]: h[name]!.slice(0, 20) } })).status).toBe(401);
    }
  });

  it("401 for an unknown license key", async () => {
    const h = await caller.headers({ licenseKey: "0".repeat(64) });
    expect((await send(caller, communityPath(), {}, { rawHeaders: h })).status).toBe(401);
  });
});

describe("authn guard: request id", () => {
  const now = () => Math.floor(Date.now() / 1000);
  it("401 when ts is 61 s old or 61 s ahead; 59 s is fine", async () => {
    expect((await send(caller, communityPath(), {}, { rawHeaders: await caller.headers({ ts: now() - 61 }) })).status).toBe(401);
    expect((await send(caller, communityPath(), {}, { rawHeaders: await caller.headers({ ts: now() + 61 }) })).status).toBe(401);
    expect((await send(caller, communityPath(), {}, { rawHeaders: await caller.headers({ ts: now() - 59 }) })).status).toBe(200);
  });

  it("401 when ts is in milliseconds, a string, null or missing", async () => {
    for (const ts of [Date.now(), String(now()), null, undefined, "abc", Number.MAX_SAFE_INTEGER]) {
      const r = await send(caller, communityPath(), {}, { rawHeaders: await caller.headers({ ts }) });
      expect(r.status).toBe(401);
      expect(String(r.body.message)).toContain("ts");
    }
  });

  it("401 when requestid is not JSON or has no uuid", async () => {
    const h = await caller.headers();
    const notJson = await encryptEnvelope("not json", caller.sharedKey);
    expect((await send(caller, communityPath(), {}, { rawHeaders: { ...h, requestid: notJson } })).status).toBe(401);
    const noUuid = await encryptEnvelope(JSON.stringify({ ts: now(), appid: "x" }), caller.sharedKey);
    expect((await send(caller, communityPath(), {}, { rawHeaders: { ...h, requestid: noUuid } })).status).toBe(401);
  });

  it("401 for a replayed uuid", async () => {
    const h = await caller.headers({ uuid: crypto.randomUUID() });
    expect((await send(caller, communityPath(), {}, { rawHeaders: h })).status).toBe(200);
    const again = await send(caller, communityPath(), {}, { rawHeaders: h });
    expect(again.status).toBe(401);
    expect(String(again.body.message)).toContain("already been used");
    // Same uuid, freshly encrypted, new ts: still a replay.
    const h2 = await caller.headers({ uuid: JSON.parse(await decryptEnvelope(h.requestid!, caller.sharedKey)).uuid });
    expect((await send(caller, communityPath(), {}, { rawHeaders: h2 })).status).toBe(401);
  });

  it("accepts exactly one of 50 concurrent requests with the same uuid", async () => {
    const uuid = crypto.randomUUID();
    const all = await Promise.all(Array.from({ length: 50 }, async () => send(caller, communityPath(), { n: 1 }, { rawHeaders: await caller.headers({ uuid }) })));
    expect(all.filter((r) => r.status === 200)).toHaveLength(1);
    expect(all.filter((r) => r.status === 401)).toHaveLength(49);
  });

  it("keeps uuids per caller key: another caller may use the same uuid", async () => {
    const uuid = crypto.randomUUID();
    const second = await authnCaller(t.host, appKey);
    expect((await send(caller, communityPath(), {}, { rawHeaders: await caller.headers({ uuid }) })).status).toBe(200);
    expect((await send(second, communityPath(), {}, { rawHeaders: await second.headers({ uuid }) })).status).toBe(200);
  });
});

describe("authn guard: license rules", () => {
  it("403 for an app license on a service endpoint; a service license passes", async () => {
    const r = await send(caller, servicePath(), {});
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ statusCode: 403, error: "Forbidden" });
    const svc = await authnCaller(t.host, serviceKey);
    expect((await send(svc, servicePath(), {})).status).toBe(200);
  });

  it("403 for a license of another tenant and community", async () => {
    const foreign = await authnCaller(t.host, otherCommunityKey);
    expect((await send(foreign, communityPath(), {})).status).toBe(403);
    expect((await send(foreign, servicePath(), {})).status).toBe(403);
  });

  it("403 for a license of the same tenant not authorized for the community", async () => {
    const community = await services().tenants.createCommunity({ tenantId: t.tenant.id, name: `second-${Date.now()}` });
    const { licenseKey } = await issueTestLicense(t.tenant.id, "service", [community.id]);
    const c2 = await authnCaller(t.host, licenseKey);
    expect((await send(c2, communityPath(), {})).status).toBe(403);
    const wildcard = await authnCaller(t.host, (await issueTestLicense(t.tenant.id, "app", ["*"])).licenseKey);
    expect((await send(wildcard, communityPath(), {})).status).toBe(200);
  });

  it("403 for a non-system license on a system endpoint; the bootstrap system license passes everywhere", async () => {
    const svc = await authnCaller(t.host, serviceKey);
    expect((await send(svc, "/authn/system", {})).status).toBe(403);
    const boot = await authnCaller(t.host, "test-bootstrap-system-license-0123456789");
    expect((await send(boot, "/authn/system", {})).status).toBe(200);
    expect((await send(boot, servicePath(), {})).status).toBe(200);
  });

  it("401 for an expired license", async () => {
    const store = servicesFor(E).authn.licenses;
    const { license, licenseKey } = await issueTestLicense(t.tenant.id, "app", [t.community.id]);
    await E.DB.prepare("UPDATE licenses SET expires_at = ? WHERE id = ?").bind(Date.now() - 1000, license.id).run();
    expect((await store.byId(license.id))?.expiresAt).toBeLessThan(Date.now());
    const c = await authnCaller(t.host, licenseKey);
    const r = await send(c, communityPath(), {});
    expect(r.status).toBe(401);
    expect(String(r.body.message)).toContain("expired");
  });

  it(`refuses a license disabled elsewhere within the cache bound (${LICENSE_CACHE_MS} ms)`, async () => {
    const { license, licenseKey } = await issueTestLicense(t.tenant.id, "app", [t.community.id]);
    const c = await authnCaller(t.host, licenseKey);
    expect((await send(c, communityPath(), {})).status).toBe(200);
    // Disabled by another isolate: straight in D1, this isolate's cache does not know.
    await E.DB.prepare("UPDATE licenses SET disabled = 1 WHERE id = ?").bind(license.id).run();
    await new Promise((r) => setTimeout(r, LICENSE_CACHE_MS + 100));
    const r = await send(c, communityPath(), {});
    expect(r.status).toBe(401);
    expect(String(r.body.message)).toContain("disabled");
  }, 20_000);
});

describe("authn guard: bodies", () => {
  it("400 for malformed JSON, data that does not decrypt, or does not decrypt to JSON", async () => {
    expect((await send(caller, communityPath(), undefined, { raw: "{not json" })).status).toBe(400);
    expect((await send(caller, communityPath(), undefined, { raw: JSON.stringify({ data: "AAAA" }) })).status).toBe(400);
    const notJson = await encryptEnvelope("plain words", caller.sharedKey);
    expect((await send(caller, communityPath(), undefined, { raw: JSON.stringify({ data: notJson }) })).status).toBe(400);
  });

  it("413 for an oversized body, in the Authn error shape", async () => {
    const r = await send(caller, communityPath(), undefined, { raw: JSON.stringify({ data: "A".repeat(70 * 1024) }) });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ statusCode: 413 });
  });

  it("accepts plaintext only in preview mode, and answers it in plaintext", async () => {
    const preview = await send(caller, communityPath(), { hi: 1 }, { plaintext: true });
    expect(preview.status).toBe(200);
    expect(preview.body.data).toMatchObject({ payload: { hi: 1 } });
    const prod = await send(caller, communityPath(), { hi: 1 }, { plaintext: true, env: productionEnv });
    expect(prod.status).toBe(400);
    const enc = await send(caller, communityPath(), { hi: 1 }, { env: productionEnv });
    expect(enc.status).toBe(200);
  });
});

describe("authn guard: the plain form (endpoints whose document shows plain JSON)", () => {
  it("takes a plain body as the payload and answers the JSON itself, preview off as in production", async () => {
    const r = await send(caller, "/authn/plain", undefined, { raw: JSON.stringify({ hi: 1 }), env: productionEnv });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ payload: { hi: 1 }, level: "app" });
    expect(r.body).not.toHaveProperty("publicKey");
    // This route signs, so its plain answer carries signature_token beside the fields, as the
    // document shows for auth_policy/evaluate (docs/api/authn.md "Verifying signature_token").
    expect(typeof r.body.signature_token).toBe("string");
  });

  it("takes the envelope too and answers it enveloped (signed where the route signs)", async () => {
    const r = await send(caller, "/authn/plain", { hi: 2 }, { env: productionEnv });
    expect(r.status).toBe(200);
    expect(typeof r.body.data).toBe("string");
    expect(typeof r.body.signature_token).toBe("string");
    expect(JSON.parse(await decryptEnvelope(r.body.data as string, caller.sharedKey))).toMatchObject({ payload: { hi: 2 } });
  });

  it("refuses, in production: {data: <object>} (the preview's shape), data that does not decrypt, non-JSON; never 5xx", async () => {
    for (const raw of [JSON.stringify({ data: { hi: 1 } }), JSON.stringify({ data: "AAAA" }), JSON.stringify({ data: 5 }), "{oops", "\u0000"]) {
      const r = await send(caller, "/authn/plain", undefined, { raw, env: productionEnv });
      expect(r.status, raw).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
    }
  });

  it("validates the payload in the guard: 400 naming the field, for null, arrays and wrong types; the uuid is not burnt", async () => {
    for (const raw of ["null", "[]", "7", JSON.stringify({ n: "7" }), JSON.stringify({ n: 1.5 }), JSON.stringify({ data: await encryptEnvelope("null", caller.sharedKey) })]) {
      const r = await send(caller, "/authn/plain-typed", undefined, { raw, env: productionEnv });
      expect(r.status, raw).toBe(400);
    }
    // No body is {} for an all-optional payload; a body of null is not.
    expect((await send(caller, "/authn/plain-optional", undefined, { env: productionEnv })).status).toBe(200);
    expect((await send(caller, "/authn/plain-optional", undefined, { raw: "null", env: productionEnv })).status).toBe(400);
    const named = await send(caller, "/authn/plain-typed", undefined, { raw: JSON.stringify({ n: "7" }), env: productionEnv });
    expect(String(named.body.message)).toMatch(/^n: /);
    const uuid = crypto.randomUUID();
    expect((await send(caller, "/authn/plain-typed", undefined, { raw: JSON.stringify({ n: "x" }), rawHeaders: await caller.headers({ uuid }), env: productionEnv })).status).toBe(400);
    expect((await send(caller, "/authn/plain-typed", undefined, { raw: JSON.stringify({ n: 1 }), rawHeaders: await caller.headers({ uuid }), env: productionEnv })).status).toBe(200);
    expect((await send(caller, "/authn/plain-typed", undefined, { raw: JSON.stringify({ n: 1 }), rawHeaders: await caller.headers({ uuid }), env: productionEnv })).status).toBe(401);
  });

  it("still requires every licensed header", async () => {
    for (const drop of ["publickey", "licensekey", "requestid"]) {
      const headers = { ...(await caller.headers()), [drop]: "" };
      const r = await send(caller, "/authn/plain", undefined, { raw: "{}", rawHeaders: headers, env: productionEnv });
      expect(r.status).toBe(401);
    }
  });
});

describe("authn guard: client IP", () => {
  it("believes X-Forwarded-For only from service-level licenses", async () => {
    const app1 = await send(caller, communityPath(), {}, { headers: { "x-forwarded-for": "192.0.2.55, 10.0.0.1" } });
    expect(JSON.parse(await decryptEnvelope(app1.body.data as string, caller.sharedKey)).ip).toBe("198.51.100.9");
    const svc = await authnCaller(t.host, serviceKey);
    const r = await send(svc, servicePath(), {}, { headers: { "x-forwarded-for": "192.0.2.55, 10.0.0.1" } });
    const d = JSON.parse(await decryptEnvelope(r.body.data as string, svc.sharedKey));
    expect(d.ip).toBe("192.0.2.55");
    expect(d.scopeIp).toBe("192.0.2.55");
  });
});

describe("authn guard: refused requests keep their uuid", () => {
  it("a request refused for its body can be sent again, fixed, with the same uuid", async () => {
    const uuid = crypto.randomUUID();
    const bad = await send(caller, communityPath(), undefined, { raw: "{broken", rawHeaders: await caller.headers({ uuid }) });
    expect(bad.status).toBe(400);
    expect((await send(caller, communityPath(), { ok: 1 }, { rawHeaders: await caller.headers({ uuid }) })).status).toBe(200);
    expect((await send(caller, communityPath(), { ok: 1 }, { rawHeaders: await caller.headers({ uuid }) })).status).toBe(401);
  });
});

describe("authn guard: garbage never yields a 5xx", () => {
  it("random headers and bodies are answered 4xx in the Authn shape", async () => {
    const junk = ["", " ", "null", "{}", "[]", "AAAA", "====", "a".repeat(5000), "\u00ff\u00fe", JSON.stringify({ ts: 1 }), toBase64(new Uint8Array(48))];
    const h = await caller.headers();
    let i = 0;
    for (const a of junk) {
      for (const name of ["publickey", "licensekey", "requestid"] as const) {
        const headers: Record<string, string> = { ...h, [name]: a };
        const body = junk[i++ % junk.length]!;
        const res = await app.request(`http://${t.host}${communityPath()}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body }, E);
        expect(res.status, `${name}=${a.slice(0, 20)}`).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        const json = (await res.json()) as Record<string, unknown>;
        expect(json.statusCode).toBe(res.status);
      }
    }
  });
});
