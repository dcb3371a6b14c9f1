import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authnCaller, type AuthnCaller } from "../../../test/helpers/authn";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { decryptEnvelope, encryptEnvelope } from "../../crypto/envelope";
import type { Env } from "../../env";
import { servicesFor, setOutboundFetch } from "../../http/services";
import worker from "../../index";
import { CloudflareApiError, CloudflareCustomHostnames, parseCustomHostname } from "./cloudflare-custom-hostnames";

/**
 * Tenants' hostnames through Cloudflare for SaaS (core/tenants/custom-hostnames.ts), against a
 * local stand-in of Cloudflare's custom hostnames API built from its published shapes (the API
 * reference "Custom Hostnames", the v4 envelope, and the SaaS status-codes page; see
 * cloudflare-custom-hostnames.ts). The Worker runs with CF_SAAS_ZONE_ID and CF_API_TOKEN set;
 * its outbound fetch (svc.fetch) reaches the stand-in. The last describe is the path without
 * Cloudflare for SaaS, which must not change.
 */

const BOOT = "test-bootstrap-system-license-0123456789";
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
const TOKEN = "cf-test-token-0123456789";
const TARGET = "customers.saas.test";
const APP = "https://app.example.com";
const n = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

type Failure = "5xx" | "malformed" | "timeout" | "token" | "other-zone";

/** Cloudflare's custom hostnames API for one zone, in memory. */
class CloudflareStandIn {
  readonly hostnames = new Map<string, Record<string, unknown>>();
  readonly calls: { method: string; path: string; auth: string | null; body: unknown }[] = [];
  private failures: Failure[] = [];

  failNext(f: Failure): void {
    this.failures.push(f);
  }

  clearFailures(): void {
    this.failures = [];
  }

  byName(hostname: string): Record<string, unknown> | undefined {
    return [...this.hostnames.values()].find((h) => h.hostname === hostname);
  }

  /** Seeds a custom hostname as if created earlier (an orphan of a bind whose row was lost). */
  seed(hostname: string): string {
    const rec = this.newHostname(hostname, "http");
    return rec.id as string;
  }

  /** What Cloudflare reports once the tenant's DNS is in place: ownership, then the certificate. */
  verify(hostname: string, sslStatus = "active"): void {
    const h = this.byName(hostname)!;
    h.status = "active";
    delete h.verification_errors;
    const ssl = h.ssl as Record<string, unknown>;
    ssl.status = sslStatus;
    if (sslStatus === "active") delete ssl.validation_records;
  }

  private newHostname(hostname: string, method: string): Record<string, unknown> {
    const id = crypto.randomUUID();
    const dcv = crypto.randomUUID().replace(/-/g, "");
    const rec: Record<string, unknown> = {
      id,
      hostname,
      status: "pending",
      verification_errors: ["custom hostname does not CNAME to this zone."],
      ownership_verification: { type: "txt", name: `_cf-custom-hostname.${hostname}`, value: crypto.randomUUID() },
      ownership_verification_http: { http_url: `http://${hostname}/.well-known/cf-custom-hostname-challenge/${id}`, http_body: crypto.randomUUID() },
      ssl: {
        id: crypto.randomUUID(),
        type: "dv",
        method,
        status: "pending_validation",
        settings: { min_tls_version: "1.2" },
        validation_records:
          method === "txt"
            ? [{ status: "pending", txt_name: `_acme-challenge.${hostname}`, txt_value: dcv }]
            : [{ status: "pending", http_url: `http://${hostname}/.well-known/pki-validation/${dcv}.txt`, http_body: dcv }],
        validation_errors: [],
      },
      created_at: new Date().toISOString(),
    };
    this.hostnames.set(id, rec);
    return rec;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const text = await req.text();
    this.calls.push({ method: req.method, path: `${url.pathname}${url.search}`, auth: req.headers.get("authorization"), body: text ? JSON.parse(text) : null });
    const envelope = (status: number, result: unknown, errors: { code: number; message: string }[] = []) =>
      Response.json({ success: errors.length === 0, errors, messages: [], result }, { status });
    const failure = this.failures.shift();
    if (failure === "timeout") throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    if (failure === "malformed") return new Response("<html>502 Bad Gateway</html>", { status: 200, headers: { "content-type": "text/html" } });
    if (failure === "5xx") return envelope(503, null, [{ code: 1000, message: "Service temporarily unavailable" }]);
    if (failure === "token" || req.headers.get("authorization") !== `Bearer ${TOKEN}`) return envelope(403, null, [{ code: 10000, message: "Authentication error" }]);
    const base = `/client/v4/zones/${ZONE}/custom_hostnames`;
    if (url.hostname !== "api.cloudflare.com" || !url.pathname.startsWith(base)) return envelope(404, null, [{ code: 7003, message: "Could not route to this path" }]);
    const id = url.pathname.slice(base.length + 1);
    if (req.method === "POST" && !id) {
      const body = JSON.parse(text) as { hostname: string; ssl: { method: string } };
      // Our assumption of another account's claim: a 409 that is not the zone's own duplicate.
      if (failure === "other-zone") return envelope(409, null, [{ code: 1414, message: "The hostname is already in use by another zone." }]);
      if (/\.example\.(com|net|org)$/.test(body.hostname)) return envelope(400, null, [{ code: 1411, message: "Custom hostnames ending in example.com, example.net, or example.org are prohibited." }]);
      if (this.byName(body.hostname)) return envelope(409, null, [{ code: 1406, message: "Duplicate custom hostname found." }]);
      return envelope(201, this.newHostname(body.hostname, body.ssl.method));
    }
    if (req.method === "GET" && !id) {
      const h = url.searchParams.get("hostname");
      const list = [...this.hostnames.values()].filter((r) => !h || r.hostname === h);
      return Response.json({ success: true, errors: [], messages: [], result: list, result_info: { page: 1, per_page: 20, count: list.length, total_count: list.length } });
    }
    const rec = this.hostnames.get(id);
    if (!rec) return envelope(404, null, [{ code: 1436, message: "The custom hostname was not found." }]);
    if (req.method === "GET") return envelope(200, rec);
    if (req.method === "DELETE") {
      this.hostnames.delete(id);
      return envelope(200, { id });
    }
    return envelope(405, null, [{ code: 1000, message: "method not allowed" }]);
  };
}

const cf = new CloudflareStandIn();
const saasEnv = { ...(env as unknown as Env), CF_SAAS_ZONE_ID: ZONE, CF_API_TOKEN: TOKEN, CF_SAAS_CNAME_TARGET: TARGET } as Env;
let boot: AuthnCaller;

beforeAll(async () => {
  setOutboundFetch(cf.fetch);
  boot = await authnCaller("manage.saas.test", BOOT);
});
afterAll(() => setOutboundFetch(null));

interface Answer {
  status: number;
  data: Record<string, unknown>;
}

/** A request to the Worker running with `e` (Cloudflare for SaaS configured by default). */
async function send(req: Request, e: Env = saasEnv): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** An enveloped management call, as the Authn client library makes it. */
async function manage(method: string, path: string, payload: unknown, e: Env = saasEnv): Promise<Answer> {
  const headers = { ...(await boot.headers()), host: "manage.saas.test", "cf-connecting-ip": "203.0.113.9", "content-type": "application/json" };
  const body = JSON.stringify({ data: await encryptEnvelope(JSON.stringify(payload), boot.sharedKey) });
  const res = await send(new Request(`http://manage.saas.test/authn${path}`, { method, headers, body }), e);
  const json = (await res.json()) as Record<string, unknown>;
  const data = res.ok && typeof json.data === "string" ? (JSON.parse(await decryptEnvelope(json.data, boot.sharedKey)) as Record<string, unknown>) : json;
  return { status: res.status, data };
}

const bind = (t: TestTenant, hostname: string, extra: Record<string, unknown> = {}) => manage("PUT", `/manage/tenant/${t.tenant.id}/hostname`, { hostname, ...extra });
const status = (t: TestTenant, hostname: string) => manage("POST", `/manage/tenant/${t.tenant.id}/hostname/status`, { hostname });
const unbind = (t: TestTenant, hostname: string) => manage("DELETE", `/manage/tenant/${t.tenant.id}/hostname`, { hostname });
/** A CORS preflight addressed to `host`: 204 once it resolves to a tenant allowing APP, else 404. */
const preflight = (host: string) => send(new Request(`https://${host}/v1/login`, { method: "OPTIONS", headers: { host, origin: APP, "access-control-request-method": "POST" } }));
const row = (hostname: string) => services().customHostnames.get(hostname);
const mapping = (hostname: string) => services().tenants.domain(hostname);

interface CustomHostnameOut {
  id: string;
  status: string;
  sslStatus: string | null;
  sslMethod: string;
  records: { purpose: string; type: string; name: string; value: string }[];
  errors: string[];
  activeAt: number | null;
}
const ch = (a: Answer) => a.data.customHostname as CustomHostnameOut;

async function runCron(): Promise<void> {
  // Every pending row becomes due (the re-check skips rows asked about within the last minute).
  await env.DB.prepare("UPDATE custom_hostnames SET checked_at = checked_at - 120000 WHERE active_at IS NULL").run();
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), saasEnv, ctx);
  await waitOnExecutionContext(ctx);
}

describe("binding through Cloudflare for SaaS", () => {
  let a: TestTenant;
  let b: TestTenant;
  const host = `login-${n()}.customer.test`;
  beforeAll(async () => {
    a = await createTestTenant({ cors: { allowedOrigins: [APP] } });
    b = await createTestTenant();
  });

  it("bind creates the custom hostname and answers a pending binding with the records to publish; nothing is mapped", async () => {
    const before = cf.calls.length;
    const r = await bind(a, host.toUpperCase());
    expect(r.status).toBe(200);
    expect(r.data.binding).toEqual({ hostname: host, tenantId: a.tenant.id, communityId: a.community.id });
    expect(r.data.mapped).toBe(false);
    const c = ch(r);
    expect(c).toMatchObject({ status: "pending", sslStatus: "pending_validation", sslMethod: "http", activeAt: null });
    expect(c.id).toBe((cf.byName(host) as { id: string }).id);
    expect(c.records[0]).toEqual({ purpose: "routing", type: "CNAME", name: host, value: TARGET });
    expect(c.records).toContainEqual(expect.objectContaining({ purpose: "ownership", type: "TXT", name: `_cf-custom-hostname.${host}` }));
    expect(c.records).toContainEqual(expect.objectContaining({ purpose: "ownership", type: "HTTP" }));
    expect(c.records).toContainEqual(expect.objectContaining({ purpose: "certificate", type: "HTTP" }));
    expect(c.errors).toEqual(["custom hostname does not CNAME to this zone."]);
    // One POST, shaped as the API reference has it, with the token as a bearer.
    const post = cf.calls.slice(before);
    expect(post).toEqual([{ method: "POST", path: `/client/v4/zones/${ZONE}/custom_hostnames`, auth: `Bearer ${TOKEN}`, body: { hostname: host, ssl: { method: "http", type: "dv", settings: { min_tls_version: "1.2" } } } }]);
    expect((await row(host))?.tenantId).toBe(a.tenant.id);
    expect(await mapping(host)).toBeNull();
    expect((await preflight(host)).status).toBe(404);
  });

  it("txt validation answers the TXT certificate record", async () => {
    const h = `txt-${n()}.customer.test`;
    const r = await bind(a, h, { sslMethod: "txt" });
    expect(r.status).toBe(200);
    expect(ch(r).sslMethod).toBe("txt");
    expect(ch(r).records).toContainEqual(expect.objectContaining({ purpose: "certificate", type: "TXT", name: `_acme-challenge.${h}` }));
    expect((cf.calls.at(-1)!.body as { ssl: { method: string } }).ssl.method).toBe("txt");
  });

  it("status asks Cloudflare again and does not map while the hostname or its certificate is pending", async () => {
    const r = await status(a, host);
    expect(r.status).toBe(200);
    expect(r.data.mapped).toBe(false);
    expect(ch(r).status).toBe("pending");
    expect(cf.calls.at(-1)).toMatchObject({ method: "GET", path: `/client/v4/zones/${ZONE}/custom_hostnames/${ch(r).id}` });
    // Ownership verified, certificate still on its way: still not mapped.
    cf.verify(host, "pending_deployment");
    const half = await status(a, host);
    expect(ch(half)).toMatchObject({ status: "active", sslStatus: "pending_deployment", activeAt: null });
    expect(half.data.mapped).toBe(false);
    expect(await mapping(host)).toBeNull();
    expect((await preflight(host)).status).toBe(404);
  });

  it("active: status maps the hostname, and requests to that Host resolve to the tenant", async () => {
    cf.verify(host);
    const r = await status(a, host);
    expect(r.status).toBe(200);
    expect(r.data.mapped).toBe(true);
    expect(ch(r)).toMatchObject({ status: "active", sslStatus: "active", errors: [] });
    expect(ch(r).activeAt).toEqual(expect.any(Number));
    expect(await mapping(host)).toEqual({ hostname: host, tenantId: a.tenant.id, communityId: a.community.id });
    const pre = await preflight(host);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(APP);
    // A second bind of the same hostname by its tenant is a refresh: no new custom hostname.
    const posts = cf.calls.filter((c) => c.method === "POST").length;
    const again = await bind(a, host);
    expect(again.status).toBe(200);
    expect(again.data.mapped).toBe(true);
    expect(cf.calls.filter((c) => c.method === "POST").length).toBe(posts);
  });

  it("another tenant's hostname is refused (409), pending or mapped, and Cloudflare is not asked", async () => {
    const pending = `pend-${n()}.customer.test`;
    expect((await bind(a, pending)).status).toBe(200);
    const before = cf.calls.length;
    for (const h of [pending, host]) {
      expect((await bind(b, h)).status).toBe(409);
      expect((await status(b, h)).status).toBe(409);
      expect((await unbind(b, h)).status).toBe(409);
    }
    // A hostname another tenant bound by hand (no Cloudflare binding) is refused as well.
    expect((await bind(b, a.host)).status).toBe(409);
    expect(cf.calls.length).toBe(before);
    expect((await row(pending))?.tenantId).toBe(a.tenant.id);
    expect((await mapping(host))?.tenantId).toBe(a.tenant.id);
  });

  it("the scheduled re-check maps a hostname once Cloudflare reports it active; a failed check changes nothing", async () => {
    const h = `cron-${n()}.customer.test`;
    expect((await bind(a, h)).status).toBe(200);
    await runCron();
    expect(await mapping(h)).toBeNull();

    cf.verify(h);
    // Every call of this run fails: the row stays pending, as it was.
    for (let i = 0; i < 20; i++) cf.failNext("5xx");
    const stored = await row(h);
    await runCron();
    cf.clearFailures();
    expect(await mapping(h)).toBeNull();
    expect((await row(h))?.status).toBe(stored?.status);

    await runCron();
    expect((await mapping(h))?.tenantId).toBe(a.tenant.id);
    expect((await row(h))?.activeAt).toEqual(expect.any(Number));
    expect((await preflight(h)).status).toBe(204);
  });

  it("unbind deletes the custom hostname at Cloudflare, then the binding and the mapping", async () => {
    const id = (await row(host))!.cfId;
    const r = await unbind(a, host);
    expect(r.status).toBe(200);
    expect(r.data).toEqual({ unbound: host });
    expect(cf.calls.at(-1)).toMatchObject({ method: "DELETE", path: `/client/v4/zones/${ZONE}/custom_hostnames/${id}` });
    expect(cf.hostnames.has(id)).toBe(false);
    expect(await row(host)).toBeNull();
    expect(await mapping(host)).toBeNull();
    expect((await preflight(host)).status).toBe(404);
    expect((await unbind(a, host)).status).toBe(404);
    expect((await status(a, host)).status).toBe(404);
  });

  it("a hostname bound by hand before Cloudflare for SaaS is unbound at Cloudflare too (found by name)", async () => {
    const h = `hand-${n()}.customer.test`;
    await services().tenants.bindDomain({ hostname: h, tenantId: a.tenant.id, communityId: a.community.id });
    const id = cf.seed(h);
    expect((await status(a, h)).data).toEqual({ binding: { hostname: h, tenantId: a.tenant.id, communityId: a.community.id }, mapped: true });
    expect((await unbind(a, h)).status).toBe(200);
    expect(cf.hostnames.has(id)).toBe(false);
    expect(await mapping(h)).toBeNull();
  });
});

describe("Cloudflare's failures give clear errors and lose nothing", () => {
  let t: TestTenant;
  beforeAll(async () => {
    t = await createTestTenant();
  });

  it("create: 5xx, malformed JSON, timeout and a refused token are 502 upstream_error; nothing is stored", async () => {
    const cases: [Failure, RegExp][] = [
      ["5xx", /Cloudflare create: answered 503 \(1000: Service temporarily unavailable\)/],
      ["malformed", /Cloudflare create: answered 200 without a JSON envelope/],
      ["timeout", /Cloudflare create: no answer in time/],
      ["token", /Cloudflare create: answered 403 \(10000: Authentication error\)/],
    ];
    for (const [failure, message] of cases) {
      const h = `fail-${failure}-${n()}.customer.test`;
      cf.failNext(failure);
      const r = await bind(t, h);
      expect(r.status, failure).toBe(502);
      expect(r.data).toMatchObject({ statusCode: 502, error: "Bad Gateway" });
      expect(r.data.message).toMatch(message);
      expect(JSON.stringify(r.data)).not.toContain(TOKEN);
      expect(await row(h)).toBeNull();
      expect(await mapping(h)).toBeNull();
    }
  });

  it("a hostname claimed by another zone is 409; one Cloudflare will not take is 400", async () => {
    const other = `other-${n()}.customer.test`;
    cf.failNext("other-zone");
    const r = await bind(t, other);
    expect(r.status).toBe(409);
    expect(r.data.message).toMatch(/another zone or account/);
    expect(await row(other)).toBeNull();
    const refused = await bind(t, `login-${n()}.example.com`);
    expect(refused.status).toBe(400);
    expect(refused.data.message).toMatch(/1411/);
  });

  it("a custom hostname left at Cloudflare by a bind whose row was lost is adopted, not duplicated", async () => {
    const h = `orphan-${n()}.customer.test`;
    const id = cf.seed(h);
    const r = await bind(t, h);
    expect(r.status).toBe(200);
    expect(ch(r).id).toBe(id);
    expect([...cf.hostnames.values()].filter((x) => x.hostname === h)).toHaveLength(1);
    expect((await row(h))?.cfId).toBe(id);
  });

  it("status and unbind: a failure is 502 and the binding stays as it was", async () => {
    const h = `keep-${n()}.customer.test`;
    expect((await bind(t, h)).status).toBe(200);
    cf.verify(h);
    const stored = await row(h);
    cf.failNext("malformed");
    expect((await status(t, h)).status).toBe(502);
    expect(await row(h)).toEqual(stored);
    expect(await mapping(h)).toBeNull();

    cf.failNext("5xx");
    expect((await unbind(t, h)).status).toBe(502);
    expect(await row(h)).toEqual(stored);
    expect(cf.byName(h)).toBeDefined();
    // Deleted at Cloudflare already (the dashboard, or a retry after a lost answer): still unbinds.
    cf.hostnames.delete(stored!.cfId);
    expect((await unbind(t, h)).status).toBe(200);
    expect(await row(h)).toBeNull();
  });

  it("a custom hostname deleted at Cloudflare reads as deleted and is never mapped", async () => {
    const h = `gone-${n()}.customer.test`;
    expect((await bind(t, h)).status).toBe(200);
    cf.hostnames.delete((await row(h))!.cfId);
    const r = await status(t, h);
    expect(r.status).toBe(200);
    expect(ch(r).status).toBe("deleted");
    expect(r.data.mapped).toBe(false);
  });

  it("CF_SAAS_ZONE_ID without the CF_API_TOKEN secret refuses to bind rather than map by hand", async () => {
    const noToken = { ...saasEnv, CF_API_TOKEN: "" } as Env;
    const h = `notoken-${n()}.customer.test`;
    const r = await manage("PUT", `/manage/tenant/${t.tenant.id}/hostname`, { hostname: h }, noToken);
    expect(r.status).toBe(404);
    expect(r.data.message).toMatch(/CF_API_TOKEN/);
    expect(await mapping(h)).toBeNull();
  });

  it("the adapter: a call that never answers ends at its deadline; the token never reaches an error", async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason as Error)));
    const api = CloudflareCustomHostnames({ zoneId: ZONE, apiToken: TOKEN, fetch: hanging, timeoutMs: 50 });
    const e = await api.get("x").catch((err: unknown) => err);
    expect(e).toBeInstanceOf(CloudflareApiError);
    expect((e as CloudflareApiError).kind).toBe("upstream");
    expect((e as Error).message).toBe("Cloudflare get: no answer in time");
    // A result that is not a custom hostname is refused, not half-read.
    expect(parseCustomHostname({ id: "x", hostname: "a.test" })).toBeNull();
    expect(parseCustomHostname([])).toBeNull();
  });
});

describe("without Cloudflare for SaaS (no CF_SAAS_ZONE_ID) the path is unchanged", () => {
  it("bind maps at once and answers only the binding; status and unbind work on `domains`; Cloudflare is never called", async () => {
    const t = await createTestTenant({ cors: { allowedOrigins: [APP] } });
    const plain = env as unknown as Env;
    const h = `plain-${n()}.customer.test`;
    const before = cf.calls.length;
    const r = await manage("PUT", `/manage/tenant/${t.tenant.id}/hostname`, { hostname: h }, plain);
    expect(r.status).toBe(200);
    expect(r.data).toEqual({ binding: { hostname: h, tenantId: t.tenant.id, communityId: t.community.id } });
    expect((await servicesFor(plain).tenants.domain(h))?.tenantId).toBe(t.tenant.id);
    expect((await manage("POST", `/manage/tenant/${t.tenant.id}/hostname/status`, { hostname: h }, plain)).data).toEqual({
      binding: { hostname: h, tenantId: t.tenant.id, communityId: t.community.id },
      mapped: true,
    });
    expect((await manage("DELETE", `/manage/tenant/${t.tenant.id}/hostname`, { hostname: h }, plain)).status).toBe(200);
    expect(await mapping(h)).toBeNull();
    expect(await row(h)).toBeNull();
    expect(cf.calls.length).toBe(before);
    // The scheduled handler does nothing.
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), plain, ctx);
    await waitOnExecutionContext(ctx);
    expect(cf.calls.length).toBe(before);
  });
});
