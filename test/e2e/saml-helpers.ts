/**
 * Shared by the SAML and WS-Fed e2e files (saml-idp, saml-sp, wsfed): an Authn API client
 * written with Node's own crypto (the envelope of DESIGN.md, as authn.e2e.ts's client; kept
 * here so those files do not import each other's tests), the provisioning calls they make
 * through it (service providers, external IdPs, the community's IdP certificate), and a
 * browser driver that plays the hosted login until the auto-posted form lands on a loopback ACS.
 */
import { createCipheriv, createDecipheriv, createECDH, randomBytes, randomUUID } from "node:crypto";
import type { Page, Response as PwResponse } from "playwright-core";
import type { StartedWorker } from "./harness";

export interface AuthnAnswer<T = any> {
  status: number;
  /** The decrypted `data` of a 2xx envelope answer, else the plain body. */
  data: T;
  body: Record<string, unknown>;
}

/** An Authn caller with its own secp256k1 key pair and a license (the demo's by default). */
export class AuthnClient {
  private readonly ecdh = createECDH("secp256k1");
  readonly publicKey: string;
  private key: Buffer | null = null;

  constructor(
    readonly url: string,
    readonly licenseKey: string,
    keys?: { privateKey: string },
  ) {
    if (keys) this.ecdh.setPrivateKey(Buffer.from(keys.privateKey, "base64"));
    else this.ecdh.generateKeys();
    this.publicKey = this.ecdh.getPublicKey().subarray(1).toString("base64");
  }

  async init(): Promise<this> {
    const res = await fetch(`${this.url}/authn/publickeys`);
    const service = ((await res.json()) as { publicKey: string }).publicKey;
    this.key = this.ecdh.computeSecret(Buffer.concat([Buffer.from([4]), Buffer.from(service, "base64")]));
    return this;
  }

  private encrypt(plaintext: string): string {
    const iv = randomBytes(16);
    const c = createCipheriv("aes-256-gcm", this.key!, iv);
    const ct = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
    return Buffer.concat([iv, ct, c.getAuthTag()]).toString("base64");
  }

  private decrypt(b64: string): string {
    const raw = Buffer.from(b64, "base64");
    const d = createDecipheriv("aes-256-gcm", this.key!, raw.subarray(0, 16));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(16, raw.length - 16)), d.final()]).toString("utf8");
  }

  /** One licensed call; the payload always goes enveloped (every Authn endpoint takes that form). */
  async call<T = any>(method: string, path: string, payload?: unknown): Promise<AuthnAnswer<T>> {
    const headers: Record<string, string> = {
      publickey: this.publicKey,
      licensekey: this.encrypt(this.licenseKey),
      requestid: this.encrypt(JSON.stringify({ ts: Math.floor(Date.now() / 1000), appid: "e2e.saml", uuid: randomUUID() })),
    };
    let body: string | undefined;
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify({ data: this.encrypt(JSON.stringify(payload)) });
    }
    const res = await fetch(`${this.url}/authn${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { raw: text };
    }
    const data = res.ok && typeof json.data === "string" ? JSON.parse(this.decrypt(json.data)) : json;
    return { status: res.status, data: data as T, body: json };
  }
}

/** The demo tenant's system license (the dev seed's `authn` block) as an enveloped caller. */
export async function demoAuthnClient(w: StartedWorker): Promise<AuthnClient> {
  const a = w.demo.authn as { licenseKey?: string; privateKey?: string };
  if (!a.licenseKey) throw new Error("the demo seed has no Authn license (demo.authn.licenseKey)");
  return new AuthnClient(w.url, a.licenseKey, a.privateKey ? { privateKey: a.privateKey } : undefined).init();
}

/** `/tenant/<t>/community/<c>` of the demo community (Authn paths below /authn). */
export const communityPath = (w: StartedWorker) => `/tenant/${encodeURIComponent(w.demo.tenantId)}/community/${encodeURIComponent(w.demo.communityId)}`;

/** Fails with the answer when the status is not the expected one. */
export function expectStatus<T>(r: AuthnAnswer<T>, status: number, what: string): AuthnAnswer<T> {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status}: ${JSON.stringify(r.data).slice(0, 600)}`);
  return r;
}

/** Registers a SAML service provider (seed 004 PUT serviceprovider) in the demo community; answers its object. */
export async function registerSamlSp(client: AuthnClient, w: StartedWorker, name: string, samlConfig: Record<string, unknown>): Promise<{ _id: string; saml_config: Record<string, unknown> }> {
  const r = await client.call("PUT", `${communityPath(w)}/serviceprovider`, { name, type: "saml", saml_config: samlConfig });
  return expectStatus(r, 200, `PUT serviceprovider ${name}`).data;
}

/** A PEM certificate from the bare base64 of its DER (what idp_config and KeyDescriptor hold). */
export function pemOf(certB64OrPem: string): string {
  if (certB64OrPem.includes("-----BEGIN")) return certB64OrPem.trim() + "\n";
  const b64 = certB64OrPem.replace(/\s+/g, "");
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** The bare base64 of a certificate, whatever its form. */
export const certB64 = (pemOrB64: string) => pemOrB64.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");

/**
 * The community's SAML signing certificate as an SP pins it: the IdP metadata is fetched first
 * (its credential is generated and stored as the community's idp_config on first use), then the
 * certificate is read back through the Authn API (GET idp_config), a channel other than the
 * metadata it is compared with.
 */
export async function communityIdpCert(client: AuthnClient, w: StartedWorker): Promise<{ certPem: string; entityId: string; metadata: string }> {
  const res = await fetch(`${w.url}/saml/${encodeURIComponent(w.demo.communityId)}/metadata`);
  const metadata = await res.text();
  if (res.status !== 200) throw new Error(`IdP metadata answered ${res.status}: ${metadata.slice(0, 300)}`);
  const cfg = expectStatus(await client.call<{ signingCert: string; entityId: string }>("GET", `${communityPath(w)}/idp_config`), 200, "GET idp_config");
  return { certPem: pemOf(cfg.data.signingCert), entityId: cfg.data.entityId, metadata };
}

export interface Arrival {
  /** The hosted pages acted on before the form arrived at the ACS ("login"; "continue": a button that posts it). */
  seen: string[];
}

/**
 * Opens `url` (or submits what `start` does) in `page` and plays the hosted login until the
 * browser's navigation reaches `acsUrl` (the auto-posted form). Fails with the page's text when
 * a page it cannot act on stays up (an error page).
 */
export async function arriveAtAcs(page: Page, start: string | (() => Promise<unknown>), acsUrl: string, login?: { username: string; password: string }): Promise<Arrival> {
  const seen: string[] = [];
  const atAcs = () => page.url().startsWith(acsUrl);
  if (typeof start === "string") await page.goto(start);
  else await start();
  for (let step = 0; step < 6; step++) {
    if (atAcs()) return { seen };
    const username = page.getByLabel("Username", { exact: true });
    // A form to the application behind a visible button (a page that posts without script).
    const proceed = page.getByRole("button", { name: "Continue", exact: true });
    const which = await Promise.race([
      page.waitForURL((u) => u.href.startsWith(acsUrl), { timeout: 20_000 }).then(() => "acs" as const),
      username.waitFor({ state: "visible", timeout: 20_000 }).then(() => "login" as const),
      proceed.waitFor({ state: "visible", timeout: 20_000 }).then(() => "continue" as const),
    ]).catch(() => "stuck" as const);
    if (which === "acs") return { seen };
    if (which === "continue" && !seen.includes("continue")) {
      seen.push("continue");
      await proceed.click();
      continue;
    }
    if (which === "login" && login && !seen.includes("login")) {
      seen.push("login");
      await username.fill(login.username);
      await page.getByLabel("Password", { exact: true }).fill(login.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      continue;
    }
    const text = (await page.locator("body").innerText().catch(() => "")).slice(0, 600);
    throw new Error(`stuck at ${page.url()} (${which}; seen: ${seen.join(", ") || "none"}):\n${text}`);
  }
  throw new Error(`no POST to ${acsUrl} after 6 pages (seen: ${seen.join(", ")})`);
}

/** Opens `url` and answers the navigation's response: for requests that must be refused with a page. */
export async function openRefused(page: Page, url: string): Promise<{ status: number; text: string; response: PwResponse | null }> {
  const response = await page.goto(url);
  return { status: response?.status() ?? 0, text: await page.locator("body").innerText().catch(() => ""), response };
}

/** The XML of a base64 SAML message (HTTP-POST binding: not deflated). */
export const xmlOf = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

/** An attribute of the root element (its ID, InResponseTo...), read without a parser. */
export function rootAttr(xml: string, name: string): string | undefined {
  const root = /<(?:\w+:)?\w+\s[^>]*>/.exec(xml.replace(/^<\?xml[^>]*\?>\s*/, ""))?.[0] ?? "";
  return new RegExp(`\\s${name}="([^"]*)"`).exec(root)?.[1];
}

/** The ID attribute of the first element named `local` (any prefix). */
export function idOfElement(xml: string, local: string, attr = "ID"): string | undefined {
  return new RegExp(`<(?:\\w+:)?${local}\\s[^>]*?\\b${attr}="([^"]+)"`).exec(xml)?.[1];
}
