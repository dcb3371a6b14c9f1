import { env } from "cloudflare:test";
import { createLicense } from "../../src/core/licenses/licenses";
import { decryptEnvelope, deriveSharedKey, encryptEnvelope, generateKeyPair, type EnvelopeCurve } from "../../src/crypto/envelope";
import type { Env } from "../../src/env";
import { servicesFor } from "../../src/http/services";
import type { License, LicenseLevel } from "../../src/storage/ports-licenses";
import { call } from "./http";

/**
 * A test caller of the Authn API: its own key pair, a license, and the envelope. Requests
 * are built exactly as a client library does (DESIGN.md "The Authn API envelope").
 */
export interface AuthnCaller {
  publicKey: string;
  privateKey: string;
  licenseKey: string;
  license: License | null;
  servicePublicKey: string;
  sharedKey: Uint8Array;
  /** Sends an enveloped request; `payload` undefined sends no body. Decrypts the answer. */
  call(method: string, path: string, payload?: unknown, opts?: CallOverrides): Promise<AuthnResult>;
  /** The three headers for a request id (fresh uuid unless given). */
  headers(overrides?: { ts?: unknown; uuid?: string; appid?: string; licenseKey?: string }): Promise<Record<string, string>>;
}

export interface CallOverrides {
  host?: string;
  ip?: string;
  headers?: Record<string, string>;
  ts?: unknown;
  uuid?: string;
  /** Send the payload as plaintext (preview mode). */
  plaintext?: boolean;
}

export interface AuthnResult {
  status: number;
  /** The raw JSON body. */
  body: Record<string, unknown>;
  /** The decrypted `data` of a success answer (or the plain one in preview). */
  data: unknown;
  headers: Headers;
}

const curve = (): EnvelopeCurve => ((env as unknown as Env).EC_CURVE_NAME === "P-256" ? "P-256" : "secp256k1");

/** Creates a license directly in D1 (the management API is tested separately). */
export async function issueTestLicense(tenantId: string | null, authLevel: LicenseLevel, communities: string[], extra: { expiresAt?: number | null } = {}) {
  return createLicense(servicesFor(env as unknown as Env).authn.licenses, { tenantId, authLevel, communities, ...extra });
}

export async function servicePublicKey(): Promise<string> {
  return (await servicesFor(env as unknown as Env).authn.keyring.serviceKey()).publicKey;
}

/** A caller with a fresh key pair and the given license key, addressing `host`. */
export async function authnCaller(host: string, licenseKey: string, license: License | null = null): Promise<AuthnCaller> {
  const pair = generateKeyPair(curve());
  const svcPub = await servicePublicKey();
  const sharedKey = deriveSharedKey(pair.privateKey, svcPub, curve());
  const headers: AuthnCaller["headers"] = async (o = {}) => ({
    publickey: pair.publicKey,
    licensekey: await encryptEnvelope(o.licenseKey ?? licenseKey, sharedKey),
    requestid: await encryptEnvelope(JSON.stringify({ ts: "ts" in o ? o.ts : Math.floor(Date.now() / 1000), appid: o.appid ?? "com.example.test", uuid: o.uuid ?? crypto.randomUUID() }), sharedKey),
  });
  return {
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    licenseKey,
    license,
    servicePublicKey: svcPub,
    sharedKey,
    headers,
    async call(method, path, payload, o = {}) {
      const h = { ...(await headers({ ...("ts" in o ? { ts: o.ts } : {}), ...(o.uuid ? { uuid: o.uuid } : {}) })), ...(o.headers ?? {}) };
      let body: unknown = undefined;
      if (payload !== undefined) body = o.plaintext ? { data: payload } : { data: await encryptEnvelope(JSON.stringify(payload), sharedKey) };
      const res = await call(method, path, body, { host: o.host ?? host, headers: h, ...(o.ip ? { ip: o.ip } : {}) });
      const text = await res.text();
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { raw: text };
      }
      let data: unknown = json.data;
      if (res.status < 300 && typeof json.data === "string") data = JSON.parse(await decryptEnvelope(json.data, sharedKey));
      return { status: res.status, body: json, data, headers: res.headers };
    },
  };
}
