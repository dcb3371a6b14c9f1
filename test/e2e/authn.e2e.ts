import { request as httpRequest } from "node:http";
import { createCipheriv, createDecipheriv, createECDH, createPublicKey, randomBytes, randomUUID, verify } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type StartedWorker } from "./harness";

/**
 * The Authn API over real HTTP against `wrangler dev`, driven by a client written here with
 * Node's own crypto (createECDH + AES-256-GCM), independent of the service's code: if both
 * implement DESIGN.md's envelope, they understand each other. And the CLI round-trips tenant
 * and license creation.
 */
const BOOT = `e2e-bootstrap-${randomBytes(16).toString("hex")}`;
const exec = promisify(execFile);
let w: StartedWorker;

beforeAll(async () => {
  // Preview off, as in production: plain bodies below are the document's form, not the preview.
  w = await startWorker({ vars: { BOOTSTRAP_SYSTEM_LICENSE: BOOT, AUTHN_PREVIEW: "false" } });
});
afterAll(async () => {
  await w?.stop();
});

/** A caller per DESIGN.md: base64 32-byte private scalar, base64 64-byte public point without 0x04. */
export class NodeEnvelopeClient {
  readonly ecdh = createECDH("secp256k1");
  readonly publicKey: string;
  private key: Buffer | null = null;
  servicePublicKey = "";

  constructor(
    readonly url: string,
    readonly licenseKey: string,
    keys?: { privateKey: string; publicKey: string },
  ) {
    if (keys) this.ecdh.setPrivateKey(Buffer.from(keys.privateKey, "base64"));
    else this.ecdh.generateKeys();
    this.publicKey = this.ecdh.getPublicKey().subarray(1).toString("base64");
  }

  async init(): Promise<void> {
    const res = await fetch(`${this.url}/authn/publickeys`);
    this.servicePublicKey = ((await res.json()) as { publicKey: string }).publicKey;
    // ECDH x-coordinate = the AES-256-GCM key.
    this.key = this.ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(this.servicePublicKey, "base64")]));
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(16);
    const c = createCipheriv("aes-256-gcm", this.key!, iv);
    const ct = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
    return Buffer.concat([iv, ct, c.getAuthTag()]).toString("base64");
  }

  decrypt(b64: string): string {
    const raw = Buffer.from(b64, "base64");
    const d = createDecipheriv("aes-256-gcm", this.key!, raw.subarray(0, 16));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(16, raw.length - 16)), d.final()]).toString("utf8");
  }

  headers(uuid = randomUUID()): Record<string, string> {
    return {
      publickey: this.publicKey,
      licensekey: this.encrypt(this.licenseKey),
      requestid: this.encrypt(JSON.stringify({ ts: Math.floor(Date.now() / 1000), appid: "e2e.node", uuid })),
    };
  }

  /** Verifies a signature_token: ECDSA-SHA256 over the data string, r||s, with the service key. */
  verifySignature(data: string, signature: string): boolean {
    const pub = Buffer.from(this.servicePublicKey, "base64");
    const jwk = { kty: "EC", crv: "secp256k1", x: pub.subarray(0, 32).toString("base64url"), y: pub.subarray(32).toString("base64url") };
    return verify("sha256", Buffer.from(data, "utf8"), { key: createPublicKey({ key: jwk, format: "jwk" }), dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64"));
  }

  async call(method: string, path: string, payload?: unknown, extraHeaders: Record<string, string> = {}) {
    const headers: Record<string, string> = { ...this.headers(), ...extraHeaders };
    let body: string | undefined;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify({ data: this.encrypt(JSON.stringify(payload)) });
    }
    const res = await fetch(`${this.url}${path}`, { method, headers, ...(body ? { body } : {}) });
    const json = (await res.json()) as Record<string, unknown>;
    const data = res.ok && typeof json.data === "string" ? JSON.parse(this.decrypt(json.data)) : json;
    return { status: res.status, body: json, data };
  }
}

describe("Authn over HTTP with an independent Node client", () => {
  it("serves healthz with a stamped version and the service key", async () => {
    const r = await fetch(`${w.url}/authn/healthz`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, string>;
    expect(body.status).toBe("all services operational");
    expect(body.code).toBe("200");
    expect(Buffer.from(body.publicKey!, "base64")).toHaveLength(64);
    expect(typeof body.version).toBe("string");
  });

  it("performs a full enveloped call (management) and reads the encrypted answer", async () => {
    const c = new NodeEnvelopeClient(w.url, BOOT);
    await c.init();
    const id = `e2e-${randomBytes(4).toString("hex")}`;
    const r = await c.call("PUT", "/authn/manage/tenant", { tenantId: id, name: "E2E", communityName: "main" });
    expect(r.status).toBe(200);
    expect(r.body.publicKey).toBe(c.servicePublicKey);
    // Management answers are signed: Node's crypto verifies the service's ECDSA signature.
    expect(c.verifySignature(r.body.data as string, r.body.signature_token as string)).toBe(true);
    expect(c.verifySignature(`${r.body.data}x`, r.body.signature_token as string)).toBe(false);
    expect(r.data).toMatchObject({ tenant: { id, name: "E2E" }, community: { tenantId: id, name: "main" } });
    // The same request id again is a replay.
    const h = c.headers(randomUUID());
    const body = JSON.stringify({ data: c.encrypt(JSON.stringify({ tenantId: id })) });
    const first = await fetch(`${w.url}/authn/manage/license/list`, { method: "POST", headers: { ...h, "content-type": "application/json" }, body });
    expect(first.status).toBe(200);
    const again = await fetch(`${w.url}/authn/manage/license/list`, { method: "POST", headers: { ...h, "content-type": "application/json" }, body });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ statusCode: 401, error: "Unauthorized" });
  });

  it("seeds the demo tenant's license and caller keys (npm run dev does the same)", async () => {
    const a = w.demo.authn as { licenseKey?: string; privateKey?: string; publicKey?: string; authLevel?: string; servicePublicKey?: string };
    expect(a.licenseKey).toBeTruthy();
    expect(a.authLevel).toBe("system");
    const c = new NodeEnvelopeClient(w.url, a.licenseKey!, { privateKey: a.privateKey!, publicKey: a.publicKey! });
    expect(c.publicKey).toBe(a.publicKey);
    await c.init();
    expect(c.servicePublicKey).toBe(a.servicePublicKey);
    // A tenant's system license cannot use the deployment-wide management API.
    const r = await c.call("POST", "/authn/manage/license/list", { tenantId: w.demo.tenantId });
    expect(r.status).toBe(403);
  });
});

describe("CLI (npm run admin) against wrangler dev", () => {
  const admin = async (...args: string[]) => {
    const { stdout } = await exec(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/admin.ts", ...args, "--url", w.url, "--license", BOOT], { cwd: process.cwd() });
    return JSON.parse(stdout) as { status: number; data: Record<string, any> };
  };

  it("creates a tenant, a community and a license, lists and disables it; the license works", async () => {
    const id = `cli-${randomBytes(4).toString("hex")}`;
    const t = await admin("create-tenant", "--id", id, "--name", "CLI tenant", "--community-name", "main", "--community-id", `${id}-main`);
    expect(t.status).toBe(200);
    expect(t.data.tenant).toEqual({ id, name: "CLI tenant" });
    const c = await admin("create-community", "--tenant", id, "--name", "second");
    expect(c.data.community.tenantId).toBe(id);
    const l = await admin("create-license", "--tenant", id, "--level", "service", "--community", `${id}-main`, "--name", "svc");
    expect(l.status).toBe(200);
    expect(l.data.licenseKey).toMatch(/^[0-9a-f]{64}$/);
    const list = await admin("list-licenses", "--tenant", id);
    expect(list.data.licenses.map((x: { id: string }) => x.id)).toEqual([l.data.license.id]);
    expect(JSON.stringify(list)).not.toContain(l.data.licenseKey);

    // The new service license calls scheme/fetch in the document's plain form through the Node client.
    const svc = new NodeEnvelopeClient(w.url, l.data.licenseKey);
    await svc.init();
    const fetchPath = `/authn/tenant/${id}/community/${id}-main/scheme/fetch`;
    const ok = await fetch(`${w.url}${fetchPath}`, { method: "POST", headers: { ...svc.headers(), "content-type": "application/json" }, body: JSON.stringify({ default: true, fetchModules: false }) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([]);

    const d = await admin("disable-license", "--id", l.data.license.id);
    expect(d.data.license.disabled).toBe(true);
    const after = await fetch(`${w.url}${fetchPath}`, { method: "POST", headers: { ...svc.headers(), "content-type": "application/json" }, body: JSON.stringify({ default: true }) });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { message: string }).message).toContain("disabled");
  });

  it("changes a tenant's settings and binds a custom domain; the Worker answers for it at once", async () => {
    const id = `cli-${randomBytes(4).toString("hex")}`;
    expect((await admin("create-tenant", "--id", id, "--name", "Settings tenant", "--community-id", `${id}-main`)).status).toBe(200);
    const host = `${id}.example.test`;
    const b = await admin("bind-hostname", id, host);
    expect(b.status).toBe(200);
    const patched = await admin("tenant-settings", id, "--patch", JSON.stringify({ accessTokenTtlSeconds: 600, cors: { allowedOrigins: ["https://app.example.test"] } }));
    expect(patched.status).toBe(200);
    const shown = await admin("tenant-settings", id);
    expect(shown.data.settings).toMatchObject({ accessTokenTtlSeconds: 600, cors: { allowedOrigins: ["https://app.example.test"] } });
    // An invalid patch is refused with its path, and nothing changes.
    await expect(admin("tenant-settings", id, "--patch", JSON.stringify({ accessTokenTtlSeconds: "soon" }))).rejects.toMatchObject({ code: 1 });
    expect((await admin("tenant-settings", id)).data.settings.accessTokenTtlSeconds).toBe(600);
    // The bound host now selects the tenant, with its CORS policy, over plain HTTP.
    // (node:http, because fetch does not let a caller set Host.)
    const pre = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const u = new URL(`${w.url}/v1/login`);
      const req = httpRequest(
        { host: u.hostname, port: u.port, path: u.pathname, method: "OPTIONS", headers: { host, origin: "https://app.example.test", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } },
        (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe("https://app.example.test");
    expect((await admin("unbind-hostname", id, host)).status).toBe(200);
  });

  it("calls any endpoint with the envelope and exits non-zero on errors", async () => {
    const r = await admin("call", "POST", "/authn/manage/license/list", "--data", JSON.stringify({ tenantId: null }));
    expect(r.status).toBe(200);
    expect(Array.isArray(r.data.licenses)).toBe(true);
    await expect(admin("create-license", "--tenant", "no-such-tenant", "--level", "app")).rejects.toMatchObject({ code: 1 });
  });
});

describe("Authn login endpoints over HTTP with the independent Node client", () => {
  it("authenticates the demo user, reads the signed answer, verifies the proof, and redeems a ktoken once", async () => {
    const a = w.demo.authn as { licenseKey: string; privateKey: string; publicKey: string };
    const c = new NodeEnvelopeClient(w.url, a.licenseKey, { privateKey: a.privateKey, publicKey: a.publicKey });
    await c.init();
    const base = `/authn/tenant/${w.demo.tenantId}/community/${w.demo.communityId}`;
    const r = await c.call("POST", `${base}/authenticate`, { credentials: { username: w.demo.user.username, password: w.demo.user.password } });
    expect(r.status).toBe(200);
    expect(c.verifySignature(r.body.data as string, r.body.signature_token as string)).toBe(true);
    expect(r.data.user).toMatchObject({ username: w.demo.user.username, uid: w.demo.user.uid, tenantId: w.demo.tenantId, communityId: w.demo.communityId, disabled: false });
    const proof = r.data.proof_of_authentication_jwt as string;
    const claims = JSON.parse(Buffer.from(proof.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: w.demo.user.uid, amr: ["pwd"], aal: 1, acr: "aal1", tenant: w.demo.tenantId });

    const v = await fetch(`${w.url}/authn/jwt/verifyToken`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: proof }) });
    expect(v.status).toBe(200);

    const wrong = await c.call("POST", `${base}/authenticate`, { credentials: { username: w.demo.user.username, password: "not the password" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });

    const k = await c.call("POST", `${base}/ktoken`, { jwt: proof });
    expect(k.status).toBe(200);
    const redeemed = await c.call("POST", `${base}/authenticate_with_ktoken`, { ktoken: k.data.ktoken, attributes: ["uid", "username"] });
    expect(redeemed.status).toBe(200);
    expect(redeemed.data.user).toEqual({ uid: w.demo.user.uid, username: w.demo.user.username });
    expect((await c.call("POST", `${base}/authenticate_with_ktoken`, { ktoken: k.data.ktoken })).status).toBe(401);
  });
});

describe("Authn as its document shows it, over HTTP (preview off)", () => {
  const demo = () => w.demo.authn as { licenseKey: string; privateKey: string; publicKey: string };
  const base = () => `/authn/tenant/${w.demo.tenantId}/community/${w.demo.communityId}`;
  async function client(): Promise<NodeEnvelopeClient> {
    const c = new NodeEnvelopeClient(w.url, demo().licenseKey, { privateKey: demo().privateKey, publicKey: demo().publicKey });
    await c.init();
    return c;
  }

  it("schemes and the SP catalog take the document's plain bodies and answer plain; the envelope is answered enveloped", async () => {
    const c = await client();
    const plain = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${w.url}${path}`, { method, headers: { ...c.headers(), ...(body !== undefined ? { "content-type": "application/json" } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>) };
    };
    const tag = `e2e-${randomBytes(3).toString("hex")}`;
    // The document's PUT scheme example, verbatim but for the tag.
    const created = await plain("PUT", `${base()}/scheme`, { tag, enabled: true, isDefault: false, dbModule: { id: "id123456", type: "Example type", method: "Example type", name: "Example name", criteria: "required" }, modules: [{}] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tag, __v: 0 });
    expect(created.body).not.toHaveProperty("publicKey");
    const list = await plain("POST", `${base()}/scheme/fetch`, { default: false, fetchModules: false });
    expect(list.status).toBe(200);
    expect((list.body as unknown as { tag: string }[]).map((s) => s.tag)).toContain(tag);
    const enveloped = await c.call("POST", `${base()}/scheme/fetch`, {});
    expect(typeof enveloped.body.data).toBe("string");
    expect((enveloped.data as { tag: string }[]).map((s) => s.tag)).toContain(tag);
    expect((await plain("DELETE", `${base()}/scheme/${created.body!._id as string}`)).status).toBe(204);

    const item = { name: `sp-${tag}`, logo: "logo", sso_url: "http://sso.test", template: "template", type: "salesforce", description: "string" };
    const put = await plain("PUT", "/authn/spcatalog/item", item);
    expect(put).toEqual({ status: 200, body: { [`sp_catalog.sp-${tag}`]: item } });
    const catalog = await plain("GET", "/authn/spcatalog/list");
    expect(catalog.body).toMatchObject({ [`sp-${tag}`]: item });
    // Without the licensed headers: 401, plain body or not.
    const bare = await fetch(`${w.url}/authn/spcatalog/item`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(item) });
    expect(bare.status).toBe(401);
    // A login endpoint keeps the envelope: a bare body is refused outside preview.
    const login = await plain("POST", `${base()}/authenticate`, { credentials: { username: w.demo.user.username, password: w.demo.user.password } });
    expect(login.status).toBe(400);
  });

  it("the user object has the document's shape, and v2 verifyToken takes the document's call (x-forwarded-for, no license)", async () => {
    const c = await client();
    // The demo license is a system license: its x-forwarded-for is the end user's address in the proof.
    const r = await c.call("POST", `${base()}/authenticate`, { credentials: { username: w.demo.user.username, password: w.demo.user.password } }, { "x-forwarded-for": "198.51.100.77" });
    expect(r.status).toBe(200);
    const user = r.data.user as Record<string, unknown> & { address: Record<string, unknown> };
    expect(user.type).toBe("basic");
    for (const k of ["firstname", "middlename", "lastname", "email", "phone"]) expect(typeof user[k], k).toBe("string");
    expect(Object.keys(user.address).sort()).toEqual(["city", "country", "house", "streetname", "zip"]);
    expect(typeof user.address.city).toBe("string");

    const proof = r.data.proof_of_authentication_jwt as string;
    const verify = (xff: string) =>
      fetch(`${w.url}/authn/v2/jwt/verifyToken`, { method: "POST", headers: { "x-forwarded-for": xff, "content-type": "application/json" }, body: JSON.stringify({ token: proof }) });
    const ok = await verify("198.51.100.77");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ sub: w.demo.user.uid, ip: "198.51.100.77" });
    const wrong = await verify("198.51.100.78");
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ statusCode: 401, error: "Unauthorized" });
  });
});
