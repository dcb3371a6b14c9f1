import { env } from "cloudflare:test";
import { createLicense } from "../../src/core/licenses/licenses";
import { decryptEnvelope, deriveSharedKey, encryptEnvelope, generateKeyPair, verifyDataSignature } from "../../src/crypto/envelope";
import { servicesFor } from "../../src/http/services";
import type { Env } from "../../src/env";
import type { LicenseLevel } from "../../src/storage/ports-licenses";
import { app } from "../../src/app";
import { call } from "./http";

/**
 * A licensed Authn caller for workerd tests of the login and utility endpoints: its own key
 * pair, a license of the given level, and helpers that speak the envelope (DESIGN.md "The
 * Authn API envelope"), decrypt the answer and check `signature_token`.
 */
export interface AuthnCaller {
  licenseKey: string;
  licenseId: string;
  privateKey: string;
  publicKey: string;
  sharedKey: Uint8Array;
  servicePublicKey: string;
}

export interface AuthnResult<T = Record<string, unknown>> {
  status: number;
  /** The raw JSON body (`{data, publicKey, signature_token?}` or an error). */
  body: Record<string, unknown>;
  /** The decrypted `data` on success; the error body otherwise. */
  data: T;
  /** True when signature_token was present and verified over data. */
  signed: boolean;
  headers: Headers;
}

const workerEnv = () => env as unknown as Env;

export async function authnCaller(opts: { tenantId: string | null; level: LicenseLevel; communities: string[] }): Promise<AuthnCaller> {
  const platform = servicesFor(workerEnv()).authn;
  const { license, licenseKey } = await createLicense(platform.licenses, { tenantId: opts.tenantId, authLevel: opts.level, communities: opts.communities });
  const service = await platform.keyring.serviceKey();
  const pair = generateKeyPair(service.curve);
  return {
    licenseKey,
    licenseId: license.id,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    sharedKey: deriveSharedKey(pair.privateKey, service.publicKey, service.curve),
    servicePublicKey: service.publicKey,
  };
}

export interface AuthnCallOptions {
  host?: string;
  ip?: string;
  headers?: Record<string, string>;
  /** Send the payload as plaintext `{data: payload}` (preview mode). */
  preview?: boolean;
  /** Send the payload as it is, as the document shows plain-JSON endpoints (no envelope). */
  plain?: boolean;
  /** Raw body to send instead of the envelope of `payload`. */
  rawBody?: string;
  /** Serve the request from the app with this env (e.g. preview off, as in production) instead of SELF. */
  env?: Env;
}

/** Calls a licensed Authn endpoint with a fresh request id. */
export async function authnCall<T = Record<string, unknown>>(
  caller: AuthnCaller,
  method: string,
  path: string,
  payload: unknown,
  opts: AuthnCallOptions = {},
): Promise<AuthnResult<T>> {
  const requestid = JSON.stringify({ ts: Math.floor(Date.now() / 1000), appid: "tests", uuid: crypto.randomUUID() });
  const headers: Record<string, string> = {
    publickey: caller.publicKey,
    licensekey: await encryptEnvelope(caller.licenseKey, caller.sharedKey),
    requestid: await encryptEnvelope(requestid, caller.sharedKey),
    "content-type": "application/json",
    ...(opts.headers ?? {}),
  };
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (payload !== undefined && opts.plain) body = JSON.stringify(payload);
  else if (payload !== undefined) body = opts.preview ? JSON.stringify({ data: payload }) : JSON.stringify({ data: await encryptEnvelope(JSON.stringify(payload), caller.sharedKey) });
  const host = opts.host ?? "authn.test";
  const res = opts.env
    ? await app.request(`http://${host}/authn${path}`, { method, headers: { ...headers, "cf-connecting-ip": opts.ip ?? "203.0.113.7" }, ...(body !== undefined ? { body } : {}) }, opts.env)
    : await call(method, `/authn${path}`, body, { host, headers, ...(opts.ip ? { ip: opts.ip } : {}) });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { raw: text };
  }
  let data: unknown = json;
  let signed = false;
  if (res.status < 300 && typeof json.data === "string") {
    data = JSON.parse(await decryptEnvelope(json.data, caller.sharedKey));
    if (typeof json.signature_token === "string") {
      const service = await servicesFor(workerEnv()).authn.keyring.serviceKey();
      signed = verifyDataSignature(json.data, json.signature_token, caller.servicePublicKey, service.curve);
    }
  } else if (res.status < 300 && json.data !== undefined) {
    data = json.data;
  }
  return { status: res.status, body: json, data: data as T, signed, headers: res.headers };
}
