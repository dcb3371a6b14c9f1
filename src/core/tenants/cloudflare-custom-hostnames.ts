/**
 * The outbound port for Cloudflare for SaaS custom hostnames, and its implementation over
 * `fetch` (Cloudflare API v4). Core code depends on `CustomHostnameApi` only; tests give the
 * adapter a stand-in fetch (or replace it through `svc.fetch`).
 *
 * Published shapes this follows (read, not copied):
 *  - the API reference, "Custom Hostnames": POST/GET `/zones/{zone_id}/custom_hostnames`
 *    (create; list, filtered by `?hostname=`), GET/DELETE `.../custom_hostnames/{id}`
 *    https://developers.cloudflare.com/api/resources/custom_hostnames/
 *  - the v4 envelope `{success, errors: [{code, message}], messages, result}`
 *  - the status codes page (201/200 on success; 409 + code 1406 "Duplicate custom hostname
 *    found"; 400 + 1407..1411 for hostnames Cloudflare will not take)
 *    https://developers.cloudflare.com/cloudflare-for-platforms/cloudflare-for-saas/reference/status-codes/custom-hostnames/
 *  - hostname validation: `ownership_verification` (TXT) and `ownership_verification_http`
 *    decide `status`; `ssl.validation_records` decide `ssl.status`
 *    https://developers.cloudflare.com/cloudflare-for-platforms/cloudflare-for-saas/domain-support/hostname-validation/
 */

/** Cloudflare's custom hostname `status` values (API schema); others are kept as strings. */
export type HostnameStatus =
  | "pending"
  | "active"
  | "active_redeploying"
  | "moved"
  | "pending_deletion"
  | "deleted"
  | "pending_blocked"
  | "pending_migration"
  | "pending_provisioned"
  | "provisioned"
  | "blocked"
  | (string & {});

/** A DNS record or HTTP token the tenant (or Cloudflare itself) must make visible. */
export interface VerificationRecord {
  /** routing: sends the traffic to us; ownership: proves the hostname; certificate: DCV. */
  purpose: "routing" | "ownership" | "certificate";
  /** HTTP: a token served at `name` (a URL) with body `value`. */
  type: "CNAME" | "TXT" | "HTTP";
  name: string;
  value: string;
}

/** What we keep of a custom hostname answer. */
export interface CustomHostnameState {
  id: string;
  hostname: string;
  status: HostnameStatus;
  /** `ssl.status` (initializing, pending_validation, pending_issuance, pending_deployment, active, ...). */
  sslStatus: string | null;
  /** Ownership and certificate records, in Cloudflare's order (the routing CNAME is ours to add). */
  records: VerificationRecord[];
  /** `verification_errors` and `ssl.validation_errors[].message`, as Cloudflare words them. */
  errors: string[];
}

export type SslMethod = "http" | "txt";

/** The port core uses. Every method throws CloudflareApiError on failure. */
export interface CustomHostnameApi {
  create(hostname: string, method: SslMethod): Promise<CustomHostnameState>;
  get(id: string): Promise<CustomHostnameState | null>;
  findByHostname(hostname: string): Promise<CustomHostnameState | null>;
  /** True when deleted, false when Cloudflare no longer had it. */
  delete(id: string): Promise<boolean>;
}

/**
 * A failed call. `kind`: `duplicate` (409/1406 in our zone), `conflict` (another 409: the
 * hostname is taken elsewhere), `refused` (Cloudflare will not take this hostname: 1407-1411),
 * `upstream` (anything else: network, timeout, 5xx, 401/403 token, malformed answer).
 */
export class CloudflareApiError extends Error {
  constructor(
    readonly kind: "duplicate" | "conflict" | "refused" | "upstream",
    message: string,
    readonly status: number | null,
    readonly codes: number[] = [],
  ) {
    super(message);
    this.name = "CloudflareApiError";
  }
}

export interface CloudflareOptions {
  zoneId: string;
  apiToken: string;
  fetch: typeof fetch;
  /** Default https://api.cloudflare.com/client/v4. */
  baseUrl?: string;
  /** Per call; default 10 s. */
  timeoutMs?: number;
}

const DEFAULT_BASE = "https://api.cloudflare.com/client/v4";
const DUPLICATE = 1406;
/** 1407 invalid hostname, 1408 non-ASCII, 1409 reserved TLD, 1410 unparsable, 1411 example.* */
const REFUSED = new Set([1407, 1408, 1409, 1410, 1411]);
/** Longest Cloudflare message we repeat (its messages may be long lists of characters). */
const MAX_MESSAGE = 200;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Reads one custom hostname object of an answer's `result`; null when it is not one. */
export function parseCustomHostname(v: unknown): CustomHostnameState | null {
  if (!isObject(v)) return null;
  const id = str(v.id);
  const hostname = str(v.hostname);
  const status = str(v.status);
  if (!id || !hostname || !status) return null;
  const records: VerificationRecord[] = [];
  const errors: string[] = [];
  const ov = isObject(v.ownership_verification) ? v.ownership_verification : null;
  if (ov && str(ov.name) && str(ov.value)) records.push({ purpose: "ownership", type: "TXT", name: str(ov.name)!, value: str(ov.value)! });
  const oh = isObject(v.ownership_verification_http) ? v.ownership_verification_http : null;
  if (oh && str(oh.http_url) && str(oh.http_body)) records.push({ purpose: "ownership", type: "HTTP", name: str(oh.http_url)!, value: str(oh.http_body)! });
  const ssl = isObject(v.ssl) ? v.ssl : null;
  for (const r of ssl && Array.isArray(ssl.validation_records) ? ssl.validation_records : []) {
    if (!isObject(r)) continue;
    if (str(r.txt_name) && str(r.txt_value)) records.push({ purpose: "certificate", type: "TXT", name: str(r.txt_name)!, value: str(r.txt_value)! });
    if (str(r.http_url) && str(r.http_body)) records.push({ purpose: "certificate", type: "HTTP", name: str(r.http_url)!, value: str(r.http_body)! });
  }
  for (const e of Array.isArray(v.verification_errors) ? v.verification_errors : []) if (str(e)) errors.push(str(e)!);
  for (const e of ssl && Array.isArray(ssl.validation_errors) ? ssl.validation_errors : []) if (isObject(e) && str(e.message)) errors.push(str(e.message)!);
  return { id, hostname: hostname.toLowerCase(), status, sslStatus: ssl ? str(ssl.status) : null, records, errors };
}

/**
 * Cloudflare's custom hostnames API for one zone. Every call has a deadline and follows no
 * redirect; the token goes only in the Authorization header and never into an error message.
 */
export function CloudflareCustomHostnames(opts: CloudflareOptions): CustomHostnameApi {
  const base = `${(opts.baseUrl ?? DEFAULT_BASE).replace(/\/+$/, "")}/zones/${encodeURIComponent(opts.zoneId)}/custom_hostnames`;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  /** One call; answers the envelope's `result` (with the HTTP status) or throws. */
  async function call(label: string, method: string, url: string, body?: unknown): Promise<{ status: number; result: unknown }> {
    let res: Response;
    try {
      res = await opts.fetch(url, {
        method,
        headers: { authorization: `Bearer ${opts.apiToken}`, accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const name = e instanceof Error ? e.name : "network error";
      throw new CloudflareApiError("upstream", `Cloudflare ${label}: ${name === "TimeoutError" || name === "AbortError" ? "no answer in time" : "unreachable"}`, null);
    }
    const text = await res.text().catch(() => "");
    let env: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (isObject(parsed)) env = parsed;
    } catch {
      env = null;
    }
    const errs = env && Array.isArray(env.errors) ? env.errors.filter(isObject) : [];
    const codes = errs.map((e) => (typeof e.code === "number" ? e.code : Number(e.code))).filter((n) => Number.isFinite(n));
    const said = errs
      .map((e) => `${str(String(e.code ?? "")) ?? "?"}: ${str(e.message) ?? ""}`)
      .join("; ")
      .slice(0, MAX_MESSAGE);
    const ok = res.status >= 200 && res.status < 300 && env !== null && env.success === true;
    if (ok) return { status: res.status, result: env!.result };
    if (res.status === 404 && method !== "POST") return { status: 404, result: null };
    if (env === null) throw new CloudflareApiError("upstream", `Cloudflare ${label}: answered ${res.status} without a JSON envelope`, res.status);
    const detail = said ? ` (${said})` : "";
    if (res.status === 409 && codes.includes(DUPLICATE)) throw new CloudflareApiError("duplicate", `Cloudflare ${label}: the hostname already exists in the zone${detail}`, res.status, codes);
    if (res.status === 409) throw new CloudflareApiError("conflict", `Cloudflare ${label}: the hostname is taken${detail}`, res.status, codes);
    if (res.status === 400 && codes.some((c) => REFUSED.has(c))) throw new CloudflareApiError("refused", `Cloudflare refused the hostname${detail}`, res.status, codes);
    throw new CloudflareApiError("upstream", `Cloudflare ${label}: answered ${res.status}${detail}`, res.status, codes);
  }

  function one(label: string, result: unknown): CustomHostnameState {
    const state = parseCustomHostname(result);
    if (!state) throw new CloudflareApiError("upstream", `Cloudflare ${label}: the answer is not a custom hostname`, null);
    return state;
  }

  return {
    async create(hostname, method) {
      // ssl: a DV certificate validated by HTTP (Cloudflare serves the token once the CNAME
      // points to the zone) or TXT (the tenant publishes it, before moving traffic).
      const body = { hostname, ssl: { method, type: "dv", settings: { min_tls_version: "1.2" } } };
      return one("create", (await call("create", "POST", base, body)).result);
    },
    async get(id) {
      const r = await call("get", "GET", `${base}/${encodeURIComponent(id)}`);
      return r.status === 404 ? null : one("get", r.result);
    },
    async findByHostname(hostname) {
      const r = await call("list", "GET", `${base}?hostname=${encodeURIComponent(hostname)}`);
      if (r.status === 404) return null;
      if (!Array.isArray(r.result)) throw new CloudflareApiError("upstream", "Cloudflare list: the answer is not a list", null);
      const match = r.result.map(parseCustomHostname).find((s) => s?.hostname === hostname.toLowerCase());
      return match ?? null;
    },
    async delete(id) {
      const r = await call("delete", "DELETE", `${base}/${encodeURIComponent(id)}`);
      return r.status !== 404;
    },
  };
}
