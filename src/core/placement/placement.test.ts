import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createTestTenant, services } from "../../../test/helpers/tenant";
import { sha256Hex } from "../../crypto/hash";
import type { Env } from "../../env";
import { provideServices } from "../../http/services";
import { scopeFor } from "../../http/tenant";
import type { AppEnv } from "../../http/types";
import { forgetIsolateActiveCache, SessionAuthority } from "../sessions/authority";
import { Limiter } from "../limits/limiter";
import { OnceGuard } from "../limits/once";
import type { Scope } from "../context";
import { parseTenantSettings } from "../tenants/settings";
import { locationHintFor } from "./location-hint";
import { SHARED_TRUST_MS, SharedActiveCache } from "./shared-active-cache";

/**
 * Where the Durable Objects live (docs/architecture.md "Where the Durable Objects live"): the
 * location hint taken from request.cf, and the data center's shared "active" answers in front
 * of the TokenAuthority, against the real local TokenAuthority and the runtime's Cache API.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe("locationHintFor: request.cf -> Durable Object location hint", () => {
  const cases: [string, Record<string, string> | undefined | null | string, DurableObjectLocationHint | undefined][] = [
    ["San Francisco (by longitude)", { continent: "NA", country: "US", longitude: "-122.41", timezone: "America/Los_Angeles" }, "wnam"],
    ["Denver (by longitude)", { continent: "NA", country: "US", longitude: "-104.99" }, "wnam"],
    ["Chicago (by longitude)", { continent: "NA", country: "US", longitude: "-87.62" }, "enam"],
    ["Ashburn (by longitude)", { continent: "NA", country: "US", longitude: "-77.48" }, "enam"],
    ["Vancouver without longitude (by time zone)", { continent: "NA", country: "CA", timezone: "America/Vancouver" }, "wnam"],
    ["Toronto without longitude (by time zone)", { continent: "NA", country: "CA", timezone: "America/Toronto" }, "enam"],
    ["North America with nothing else", { continent: "NA" }, "enam"],
    ["a garbage longitude falls back to the time zone", { continent: "NA", longitude: "west", timezone: "America/Phoenix" }, "wnam"],
    ["Sao Paulo", { continent: "SA", country: "BR" }, "sam"],
    ["London", { continent: "EU", country: "GB" }, "weur"],
    ["Frankfurt", { continent: "EU", country: "DE" }, "weur"],
    ["Warsaw", { continent: "EU", country: "PL" }, "eeur"],
    ["Helsinki", { continent: "EU", country: "fi" }, "eeur"],
    ["Europe, country unknown", { continent: "EU" }, "weur"],
    ["Sydney", { continent: "OC", country: "AU" }, "oc"],
    ["Auckland", { continent: "OC", country: "NZ" }, "oc"],
    ["Tokyo", { continent: "AS", country: "JP" }, "apac"],
    ["Singapore", { continent: "AS", country: "SG" }, "apac"],
    ["Mumbai", { continent: "AS", country: "IN" }, "apac"],
    ["Dubai", { continent: "AS", country: "AE" }, "me"],
    ["Tel Aviv", { continent: "AS", country: "IL" }, "me"],
    ["Istanbul (listed in Asia)", { continent: "AS", country: "TR" }, "eeur"],
    ["Johannesburg", { continent: "AF", country: "ZA" }, "afr"],
    ["Lagos", { continent: "AF", country: "NG" }, "afr"],
    ["Antarctica", { continent: "AN" }, undefined],
    ["Tor", { country: "T1" }, undefined],
    ["no cf (local dev, tests, queue consumer, cron)", undefined, undefined],
    ["null", null, undefined],
    ["not an object", "enam", undefined],
    ["an unknown continent code", { continent: "XX" }, undefined],
  ];
  for (const [name, cf, hint] of cases) {
    it(`${name} -> ${hint ?? "none"}`, () => expect(locationHintFor(cf)).toBe(hint));
  }

  it("fields of the wrong type are ignored, never thrown on", () => {
    expect(locationHintFor({ continent: 7, country: ["US"], longitude: {} })).toBeUndefined();
    expect(locationHintFor({ continent: "NA", longitude: 12 as unknown as string, timezone: null })).toBe("enam");
  });
});

describe("Scope.locationHint comes from request.cf, never from a header", () => {
  const app = new Hono<AppEnv>();
  app.use("*", provideServices);
  app.get("/scope/:tenantId", async (c) => c.json({ hint: (await scopeFor(c, c.req.param("tenantId"), null)).locationHint ?? null }));

  it("cf's geography sets it; without cf there is none, whatever the headers say", async () => {
    const t = await createTestTenant();
    const ask = async (init: RequestInit) => (await (await app.request(`/scope/${t.tenant.id}`, init, env as unknown as Env)).json()) as { hint: string | null };
    expect(await ask({ cf: { continent: "OC", country: "AU" } } as RequestInit)).toEqual({ hint: "oc" });
    expect(await ask({ headers: { "cf-ipcontinent": "OC", "cf-ipcountry": "AU", "x-location-hint": "oc" } })).toEqual({ hint: null });
  });
});

/** A subject of its own per test (the authority is one object per `<tenant>:<sub>`). */
function subject() {
  return { tenantId: `placement-${crypto.randomUUID()}`, sub: crypto.randomUUID(), sid: crypto.randomUUID() };
}

async function open(authority: SessionAuthority, s: { tenantId: string; sub: string; sid: string }, firstHash: string | null = null) {
  const until = Date.now() + 3_600_000;
  await authority.open(s.tenantId, s.sub, s.sid, firstHash, until, until);
}

/** The TokenAuthority itself, as another data center (or a seed script) would reach it. */
function directly(s: { tenantId: string; sub: string }) {
  return env.TOKEN_AUTHORITY.get(env.TOKEN_AUTHORITY.idFromName(`${s.tenantId}:${s.sub}`));
}

describe("the data center's shared 'active' answers (Cache API)", () => {
  it("the runtime has a Cache API here (else every test below would only see the isolate cache)", () => {
    expect(typeof caches).toBe("object");
    expect(caches.default).toBeDefined();
  });

  it("an active answer is served from the shared cache, without the authority, only until 1 s after it was asked", async () => {
    const authority = services().authority;
    const s = subject();
    await open(authority, s);
    expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(true); // asked the authority, shared
    const answeredBy = Date.now(); // the answer was asked no later than this
    // Revoked behind this data center's back (another data center, bypassing SessionAuthority):
    expect(await directly(s).revokeFamily(s.sid, "test", Date.now())).toBe(true);
    await sleep(200);
    forgetIsolateActiveCache(); // only the shared cache can still answer now
    expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(true);
    // The isolate took the shared answer only until the shared answer's own end, not for a
    // second of its own: 1 s after the authority was asked, the revocation shows.
    await sleep(answeredBy + 1000 - Date.now());
    expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(false);
  });

  it("a refresh token's active answer is shared the same way, and bounded the same way", async () => {
    const authority = services().authority;
    const s = subject();
    await open(authority, s, "hash-1");
    expect(await authority.checkToken(s.tenantId, s.sub, s.sid, "hash-1")).toBe("active");
    const answeredBy = Date.now();
    expect(await directly(s).revokeFamily(s.sid, "test", Date.now())).toBe(true);
    forgetIsolateActiveCache();
    expect(await authority.checkToken(s.tenantId, s.sub, s.sid, "hash-1")).toBe("active");
    await sleep(answeredBy + 1000 - Date.now());
    expect(await authority.checkToken(s.tenantId, s.sub, s.sid, "hash-1")).toBe("revoked");
  });

  it("a revocation through SessionAuthority is seen at once, by family, by token and for all of a subject", async () => {
    const authority = services().authority;
    // revokeFamily
    const a = subject();
    await open(authority, a, "a-1");
    expect(await authority.isActive(a.tenantId, a.sub, a.sid)).toBe(true);
    expect(await authority.checkToken(a.tenantId, a.sub, a.sid, "a-1")).toBe("active");
    await authority.revokeFamily(a.tenantId, a.sub, a.sid, "logout");
    forgetIsolateActiveCache();
    expect(await authority.isActive(a.tenantId, a.sub, a.sid)).toBe(false);
    expect(await authority.checkToken(a.tenantId, a.sub, a.sid, "a-1")).toBe("revoked");
    // revokeByToken
    const b = subject();
    await open(authority, b, "b-1");
    expect(await authority.isActive(b.tenantId, b.sub, b.sid)).toBe(true);
    expect(await authority.revokeByToken(b.tenantId, b.sub, b.sid, "b-1", "revoke")).toBe(true);
    forgetIsolateActiveCache();
    expect(await authority.isActive(b.tenantId, b.sub, b.sid)).toBe(false);
    // revokeAll (the caller names no family), keeping one
    const c = subject();
    const kept = crypto.randomUUID();
    await open(authority, c);
    await open(authority, { ...c, sid: kept });
    expect(await authority.isActive(c.tenantId, c.sub, c.sid)).toBe(true);
    expect(await authority.isActive(c.tenantId, c.sub, kept)).toBe(true);
    expect(await authority.revokeAll(c.tenantId, c.sub, "password_changed", kept)).toBe(1);
    forgetIsolateActiveCache();
    expect(await authority.isActive(c.tenantId, c.sub, c.sid)).toBe(false);
    expect(await authority.isActive(c.tenantId, c.sub, kept)).toBe(true); // asked again: still live
  });

  it("only 'active' is shared: a revoked or unknown family is asked every time", async () => {
    const authority = services().authority;
    const s = subject();
    expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(false); // unknown
    await open(authority, s);
    forgetIsolateActiveCache();
    expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(true); // not hidden by the earlier "no"
  });

  it("entries are keyed by a digest under an internal host, never by the raw session id", async () => {
    const authority = services().authority;
    const s = subject();
    await open(authority, s);
    expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(true);
    const hit = await caches.default.match(`https://session-state.internal/v1/active/${await sha256Hex(`${s.tenantId}:${s.sub}:${s.sid}`)}`);
    expect(hit).toBeDefined();
    const askedAt = Number(hit!.headers.get("x-asked-at"));
    expect(askedAt).toBeGreaterThan(Date.now() - SHARED_TRUST_MS);
    expect(await caches.default.match(`https://session-state.internal/v1/active/${s.sid}`)).toBeUndefined();
  });

  it("fails open to the authority when the cache fails, and works without a cache at all", async () => {
    const failing = {
      match: () => Promise.reject(new Error("cache down")),
      put: () => Promise.reject(new Error("cache down")),
      delete: () => Promise.reject(new Error("cache down")),
    } as unknown as Cache;
    for (const shared of [new SharedActiveCache(() => failing), new SharedActiveCache(() => null), new SharedActiveCache(() => { throw new Error("no caches"); })]) {
      const authority = new SessionAuthority(env.TOKEN_AUTHORITY, shared);
      const s = subject();
      await open(authority, s, "h");
      expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(true);
      expect(await authority.checkToken(s.tenantId, s.sub, s.sid, "h")).toBe("active");
      await directly(s).revokeFamily(s.sid, "test", Date.now());
      forgetIsolateActiveCache();
      expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(false);
      expect(await authority.checkToken(s.tenantId, s.sub, s.sid, "h")).toBe("revoked");
      await expect(authority.revokeAll(s.tenantId, s.sub, "test")).resolves.toBe(0);
    }
  });
});

/**
 * The real namespace, with every get() recorded: which hint (if any) each call passed. The
 * objects answering are the real local ones; only the placement request is observed, since a
 * local runtime has one location and ignores the hint.
 */
function recording<T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>) {
  const hints: (string | null)[] = [];
  const spy = new Proxy(ns, {
    get(target, prop) {
      if (prop === "get") {
        return (id: DurableObjectId, opts?: DurableObjectNamespaceGetDurableObjectOptions) => {
          hints.push(opts?.locationHint ?? null);
          return opts ? target.get(id, opts) : target.get(id);
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { spy, hints };
}

describe("the hint reaches the objects that may be created", () => {
  it("Limiter and OnceGuard pass the caller's hint; without one they pass none", async () => {
    const t = await createTestTenant();
    const base = { tenant: t.tenant, community: t.community, settings: parseTenantSettings(t.tenant.settings), ip: "203.0.113.77", userAgent: null } as Scope;
    const rl = recording(env.RATE_LIMITER);
    const limiter = new Limiter(rl.spy);
    await limiter.attempt({ ...base, locationHint: "oc" }, "login", "hinted");
    await limiter.release({ ...base, locationHint: "oc" }, "login", "hinted");
    await limiter.limit(`${t.tenant.id}:x:${crypto.randomUUID()}`, 5, 60, { locationHint: "oc" });
    expect(rl.hints).toEqual(["oc", "oc", "oc", "oc", "oc"]);
    rl.hints.length = 0;
    await limiter.guard(base, "client", "unhinted");
    await limiter.limit(`${t.tenant.id}:x:${crypto.randomUUID()}`, 5, 60);
    expect(rl.hints).toEqual([null, null, null]);
    const rg = recording(env.REPLAY_GUARD);
    const once = new OnceGuard(rg.spy);
    expect(await once.claim(`authn-request:${crypto.randomUUID()}`, "u1", Date.now() + 60_000, "weur")).toBe(true);
    expect(await once.claim(`authn-request:${crypto.randomUUID()}`, "u1", Date.now() + 60_000)).toBe(true);
    expect(rg.hints).toEqual(["weur", null]);
  });

  it("SessionAuthority: only open() passes the login's hint; verification and revocation pass none", async () => {
    const ta = recording(env.TOKEN_AUTHORITY);
    const authority = new SessionAuthority(ta.spy, new SharedActiveCache(() => null));
    const s = subject();
    const until = Date.now() + 60_000;
    await authority.open(s.tenantId, s.sub, s.sid, "h", until, until, undefined, "apac");
    expect(await authority.isActive(s.tenantId, s.sub, s.sid)).toBe(true);
    expect(await authority.checkToken(s.tenantId, s.sub, s.sid, "h")).toBe("active");
    await authority.revokeAll(s.tenantId, s.sub, "test");
    expect(ta.hints).toEqual(["apac", null, null, null]);
  });
});
