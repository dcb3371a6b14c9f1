import { decryptEnvelope, deriveSharedKey, encryptEnvelope, generateKeyPair, parseCurveName, verifyDataSignature, type EnvelopeCurve } from "../crypto/envelope";

/**
 * A caller of the Authn API (seed 004) that speaks the envelope of DESIGN.md: the caller's key
 * pair, `licensekey` = enc(license key), `requestid` = enc({ts, appid, uuid}) with a fresh
 * uuid per request, bodies `{data: enc(JSON)}`, answers decrypted and their `signature_token`
 * checked against the service key. Runs on Node 20+, browsers and Workers (WebCrypto and
 * @noble/curves only); used by the CLI (scripts/admin.ts).
 */
export interface AuthnClientOptions {
  /** Base URL of the deployment, e.g. http://localhost:8787 (the API is under /authn). */
  baseUrl: string;
  licenseKey: string;
  /** The caller's key pair (wire encoding); a fresh one is generated when omitted. */
  privateKey?: string;
  publicKey?: string;
  /** Read from GET /authn/environment when omitted. */
  curve?: EnvelopeCurve;
  appid?: string;
  fetch?: typeof fetch;
  /** Extra headers on every request (e.g. x-forwarded-for from a service caller). */
  headers?: Record<string, string>;
}

export interface AuthnAnswer<T = unknown> {
  status: number;
  ok: boolean;
  /** Decrypted `data` on success (parsed JSON); the error body otherwise. */
  data: T;
  /** The raw JSON body. */
  body: Record<string, unknown>;
  /** True/false when the answer carried a signature_token, undefined otherwise. */
  signatureValid?: boolean;
}

/** Answer of the settings management routes. */
export interface TenantSettingsAnswer {
  tenantId: string;
  settings: Record<string, unknown>;
  /** Stored fields that are invalid and read as their defaults. */
  replaced: string[];
}

/** Answer of the hostname bind and status routes (docs/api/authn.md "Management API"). */
export interface HostnameBindingAnswer {
  binding: { hostname: string; tenantId: string; communityId: string };
  /** Requests to the hostname resolve to the tenant. Absent from a bind without Cloudflare for SaaS (mapped at once). */
  mapped?: boolean;
  /** Present when the hostname is bound through Cloudflare for SaaS. */
  customHostname?: {
    id: string;
    status: string;
    sslStatus: string | null;
    sslMethod: "http" | "txt";
    records: { purpose: "routing" | "ownership" | "certificate"; type: "CNAME" | "TXT" | "HTTP"; name: string; value: string }[];
    errors: string[];
    checkedAt: number;
    activeAt: number | null;
  };
}

export class AuthnClient {
  private readonly opts: AuthnClientOptions;
  private readonly doFetch: typeof fetch;
  private keys: { privateKey: string; publicKey: string } | null;
  private session: Promise<{ curve: EnvelopeCurve; servicePublicKey: string; sharedKey: Uint8Array }> | null = null;

  constructor(opts: AuthnClientOptions) {
    this.opts = { ...opts, baseUrl: opts.baseUrl.replace(/\/+$/, "") };
    this.doFetch = opts.fetch ?? ((i, init) => fetch(i, init));
    this.keys = opts.privateKey && opts.publicKey ? { privateKey: opts.privateKey, publicKey: opts.publicKey } : null;
  }

  /** A new caller key pair in the wire encoding (base64 scalar; base64 X||Y). */
  static generateKeys(curve: EnvelopeCurve = "secp256k1"): { privateKey: string; publicKey: string } {
    return generateKeyPair(curve);
  }

  /** The caller's public key (generated on first use when none was given). */
  async publicKey(): Promise<string> {
    await this.ready();
    return this.keys!.publicKey;
  }

  private ready() {
    this.session ??= (async () => {
      const curve = this.opts.curve ?? (await this.environmentCurve());
      this.keys ??= generateKeyPair(curve);
      const res = await this.doFetch(`${this.opts.baseUrl}/authn/publickeys`);
      if (!res.ok) throw new Error(`GET /authn/publickeys answered ${res.status}`);
      const servicePublicKey = ((await res.json()) as { publicKey: string }).publicKey;
      return { curve, servicePublicKey, sharedKey: deriveSharedKey(this.keys.privateKey, servicePublicKey, curve) };
    })();
    return this.session;
  }

  private async environmentCurve(): Promise<EnvelopeCurve> {
    const res = await this.doFetch(`${this.opts.baseUrl}/authn/environment`);
    if (!res.ok) throw new Error(`GET /authn/environment answered ${res.status}`);
    const name = String(((await res.json()) as Record<string, unknown>).EC_CURVE_NAME ?? "secp256k1");
    const curve = parseCurveName(name);
    if (!curve) throw new Error(`unsupported EC_CURVE_NAME ${name}`);
    return curve;
  }

  /** The envelope headers of one request (a fresh uuid and the current time). */
  async envelopeHeaders(): Promise<Record<string, string>> {
    const { sharedKey } = await this.ready();
    const rid = { ts: Math.floor(Date.now() / 1000), appid: this.opts.appid ?? "edge-auth-client", uuid: crypto.randomUUID() };
    const [licensekey, requestid] = await Promise.all([encryptEnvelope(this.opts.licenseKey, sharedKey), encryptEnvelope(JSON.stringify(rid), sharedKey)]);
    return { publickey: this.keys!.publicKey, licensekey, requestid };
  }

  /**
   * Calls a licensed endpoint. `path` is under the base URL (e.g. "/authn/manage/tenant");
   * `payload` (any JSON value) is sent as `{data: enc(JSON)}`, which every endpoint accepts,
   * or as it is with `{plain: true}` (the form the document shows for schemes, the SP catalog,
   * user_consent and auth_policy); undefined sends no body. A plain answer (the endpoint's
   * document form, e.g. to a request without a body) is returned as `data` unchanged.
   */
  async call<T = unknown>(method: string, path: string, payload?: unknown, opts: { plain?: boolean } = {}): Promise<AuthnAnswer<T>> {
    const { sharedKey, servicePublicKey, curve } = await this.ready();
    const headers: Record<string, string> = { ...(this.opts.headers ?? {}), ...(await this.envelopeHeaders()) };
    let body: string | undefined;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      body = opts.plain ? JSON.stringify(payload) : JSON.stringify({ data: await encryptEnvelope(JSON.stringify(payload), sharedKey) });
    }
    const res = await this.doFetch(`${this.opts.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = { raw: text };
    }
    if (!res.ok) return { status: res.status, ok: false, data: json as T, body: json };
    // An enveloped answer always names the service key; anything else is the plain answer.
    if (typeof json.data !== "string" || typeof json.publicKey !== "string") return { status: res.status, ok: true, data: (json.publicKey !== undefined ? json.data : json) as T, body: json };
    const data = JSON.parse(await decryptEnvelope(json.data, sharedKey)) as T;
    const answer: AuthnAnswer<T> = { status: res.status, ok: true, data, body: json };
    if (typeof json.signature_token === "string") answer.signatureValid = verifyDataSignature(json.data, json.signature_token, servicePublicKey, curve);
    return answer;
  }

  // Management API (docs/api/authn.md "Management API"); a deployment-wide system license.

  createTenant(input: { tenantId?: string; name: string; communityId?: string; communityName?: string; hostnames?: string[]; settings?: Record<string, unknown> }) {
    return this.call<{ tenant: { id: string; name: string }; community: { id: string; tenantId: string; name: string } }>("PUT", "/authn/manage/tenant", input);
  }

  createCommunity(tenantId: string, input: { communityId?: string; name: string }) {
    return this.call<{ community: { id: string; tenantId: string; name: string } }>("PUT", `/authn/manage/tenant/${encodeURIComponent(tenantId)}/community`, input);
  }

  createLicense(input: { tenantId: string | null; authLevel: string; communities?: string[]; name?: string; expiresAt?: number | null }) {
    return this.call<{ license: Record<string, unknown> & { id: string }; licenseKey: string }>("PUT", "/authn/manage/license", input);
  }

  listLicenses(tenantId: string | null) {
    return this.call<{ licenses: Record<string, unknown>[] }>("POST", "/authn/manage/license/list", { tenantId });
  }

  setLicenseDisabled(id: string, disabled: boolean) {
    return this.call<{ license: Record<string, unknown> }>("PATCH", `/authn/manage/license/${encodeURIComponent(id)}`, { disabled });
  }

  /** The tenant's effective settings (defaults included; secrets shown as "(present)"). */
  tenantSettings(tenantId: string) {
    return this.call<TenantSettingsAnswer>("POST", `/authn/manage/tenant/${encodeURIComponent(tenantId)}/settings/fetch`, {});
  }

  /** Changes settings with a JSON merge patch (RFC 7396: null deletes a key); validated before it is stored. */
  patchTenantSettings(tenantId: string, patch: Record<string, unknown>) {
    return this.call<TenantSettingsAnswer & { changed: string[] }>("PATCH", `/authn/manage/tenant/${encodeURIComponent(tenantId)}/settings`, patch);
  }

  /**
   * Binds a custom hostname to the tenant (its first community unless one is named). With
   * Cloudflare for SaaS the answer is a pending binding with the records to publish.
   */
  bindHostname(tenantId: string, hostname: string, communityId?: string, sslMethod?: "http" | "txt") {
    return this.call<HostnameBindingAnswer>("PUT", `/authn/manage/tenant/${encodeURIComponent(tenantId)}/hostname`, {
      hostname,
      ...(communityId ? { communityId } : {}),
      ...(sslMethod ? { sslMethod } : {}),
    });
  }

  /** A bound hostname's state; with Cloudflare for SaaS, asked again and mapped once active. */
  hostnameStatus(tenantId: string, hostname: string) {
    return this.call<HostnameBindingAnswer>("POST", `/authn/manage/tenant/${encodeURIComponent(tenantId)}/hostname/status`, { hostname });
  }

  unbindHostname(tenantId: string, hostname: string) {
    return this.call<{ unbound: string }>("DELETE", `/authn/manage/tenant/${encodeURIComponent(tenantId)}/hostname`, { hostname });
  }
}
