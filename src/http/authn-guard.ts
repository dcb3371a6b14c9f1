import type { Context, MiddlewareHandler, TypedResponse } from "hono";
import type { ZodType } from "zod";
import { AuthError } from "../core/errors";
import { authorizeLicense } from "../core/licenses/licenses";
import { decryptEnvelope, EnvelopeError, encryptEnvelope } from "../crypto/envelope";
import type { License, LicenseLevel } from "../storage/ports-licenses";
import { clientIp } from "./client-ip";
import { describeZodError } from "./errors";
import { scopeFor } from "./tenant";
import { locationHintFor } from "../core/placement/location-hint";
import type { AppEnv } from "./types";

/**
 * The Authn API guard (seed 004 "Security"; DESIGN.md "The Authn API envelope"): every
 * licensed endpoint carries `publickey` (the caller's public key), `licensekey` = enc(license
 * key) and `requestid` = enc({"ts", "appid", "uuid"}), encrypted under the ECDH shared key of
 * the caller's key and the service's. The guard
 *  1. decrypts both headers (bad key, tampered or truncated ciphertext: 401),
 *  2. checks |now - ts| <= 60 s (ts in epoch seconds, a number),
 *  3. looks the license up by its hash and refuses disabled or expired ones (401), levels the
 *     endpoint does not accept and other tenants or communities (403),
 *  4. reads the body in the form the endpoint's document shows (`form`): `{"data": "<enc
 *     JSON>"}` is decrypted into `authn.payload` on every endpoint; a plain JSON body is the
 *     payload itself on endpoints the document shows plain (schemes, SP catalog, ...), and
 *     elsewhere only in preview mode, which is never on in production. The answer goes back
 *     in the form the request came in (`authn.answer`),
 *  5. validates the payload against the route's schema (400 naming the field),
 *  6. claims the uuid in the ReplayGuard Durable Object of the caller's public key (a uuid
 *     already used: 401), exactly once however many requests race.
 */
export type { LicenseLevel };

/**
 * The body form an endpoint's document shows: "envelope" (`{"data": "<encrypted JSON>"}`, the
 * login and federation endpoints) or "plain" (the JSON payload itself, answered as plain
 * JSON: schemes, SP catalog, user_consent, auth_policy). Both accept the envelope.
 */
export type AuthnBodyForm = "envelope" | "plain";

/**
 * How the answer is written: "envelope" `{data: enc(JSON), publicKey}`; "plain" the JSON
 * itself; "preview" `{data: <plain JSON>, publicKey}` (development only).
 */
export type AuthnAnswerForm = "envelope" | "plain" | "preview";

export interface AuthnContext {
  license: License;
  callerPublicKey: string;
  /** The form of the answer: the request's form, or the document's when there was no body. */
  answer: AuthnAnswerForm;
  /** Decrypted JSON of body.data, the plain body, or the preview payload; undefined without a body. */
  payload: unknown;
  /** The request id's appid and uuid. */
  appid: string;
  requestUuid: string;
  /**
   * The end user's IP: the first X-Forwarded-For entry when a service-level caller (system,
   * service, service_ext) forwards one, else the connecting IP (DESIGN.md "Known traps").
   */
  clientIp: string;
  sharedKey: Uint8Array;
}

export interface AuthnGuardOptions {
  levels: LicenseLevel[] | "any";
  /** The license must be authorized for the path's :communityId. */
  community: boolean;
  /** The body form the endpoint's document shows (default "envelope"). */
  form?: AuthnBodyForm;
  /**
   * The payload's schema, checked here (400 naming the field) before the uuid is claimed, so
   * a refused payload does not burn it; the route still parses with it for typed values.
   */
  payload?: ZodType;
}

/** |now - ts| allowed for a request id, seconds (seed 004: "not more or less than 60 seconds"). */
export const REQUEST_WINDOW_SECONDS = 60;
/** Levels whose X-Forwarded-For is believed: services calling on behalf of end users. */
const FORWARDING_LEVELS: readonly LicenseLevel[] = ["system", "service", "service_ext"];
const MAX_HEADER_CHARS = 4096;

const unauthorized = (message: string) => new AuthError("invalid_credentials", message);

function header(c: Context<AppEnv>, name: string): string | null {
  const v = c.req.header(name);
  if (v === undefined || v === "") return null;
  if (v.length > MAX_HEADER_CHARS) throw unauthorized(`${name} header is too long`);
  return v;
}

async function open(cipher: string, key: Uint8Array, what: string): Promise<string> {
  try {
    return await decryptEnvelope(cipher, key);
  } catch (e) {
    if (e instanceof EnvelopeError) throw unauthorized(`${what}: ${e.message}`);
    throw e;
  }
}

interface RequestId {
  ts: number;
  appid: string;
  uuid: string;
}

function parseRequestId(plain: string): RequestId {
  let v: unknown;
  try {
    v = JSON.parse(plain);
  } catch {
    throw unauthorized("requestid is not JSON");
  }
  if (!v || typeof v !== "object") throw unauthorized("requestid must be a JSON object");
  const r = v as Record<string, unknown>;
  if (typeof r.ts !== "number" || !Number.isFinite(r.ts)) throw unauthorized("requestid.ts must be a number (epoch seconds)");
  if (typeof r.uuid !== "string" || r.uuid.length === 0 || r.uuid.length > 128) throw unauthorized("requestid.uuid must be a non-empty string");
  if (r.appid !== undefined && (typeof r.appid !== "string" || r.appid.length > 256)) throw unauthorized("requestid.appid must be a string");
  return { ts: r.ts, uuid: r.uuid, appid: typeof r.appid === "string" ? r.appid : "" };
}

/**
 * The first X-Forwarded-For entry as sent (trimmed, lower-cased), or null without the header.
 * It is the end user's address as the nearest service names it; whether to believe it is the
 * caller's decision (see forwardedIp and the verify endpoints).
 */
export function firstForwardedFor(c: Context): string | null {
  const xff = c.req.header("x-forwarded-for");
  if (xff === undefined || xff === "") return null;
  return xff.split(",")[0]!.trim().toLowerCase();
}

/** The first X-Forwarded-For entry when it looks like an IP address (bounded), else null. */
function forwardedIp(c: Context<AppEnv>): string | null {
  const first = firstForwardedFor(c);
  return first && first.length <= 64 && /^[0-9a-f:.]+$/.test(first) ? first : null;
}

async function readBody(c: Context<AppEnv>): Promise<unknown> {
  if (c.req.method === "GET" || c.req.method === "HEAD") return undefined;
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AuthError("invalid_request", "body must be JSON");
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The payload and the answer form of a request, by the one rule of the surface:
 *  - `{"data": "<string>"}` is the envelope on every endpoint: decrypted, answered enveloped;
 *  - on a plain endpoint, a body without `data` is the payload itself, answered plain;
 *  - `{"data": <not a string>}`, or a bare body on an envelope endpoint, is the development
 *    preview (answered `{data: <plain>}`), refused when preview is off (production);
 *  - no body: the payload is undefined and the answer takes the document's form.
 */
async function readPayload(c: Context<AppEnv>, form: AuthnBodyForm, sharedKey: Uint8Array, previewOn: boolean): Promise<{ payload: unknown; answer: AuthnAnswerForm }> {
  const body = await readBody(c);
  if (body === undefined) return { payload: undefined, answer: form };
  const data = isObject(body) ? body.data : undefined;
  if (typeof data === "string") {
    const plain = await open(data, sharedKey, "data").catch((e: unknown) => {
      throw e instanceof AuthError ? new AuthError("invalid_request", e.message) : e;
    });
    try {
      return { payload: JSON.parse(plain) as unknown, answer: "envelope" };
    } catch {
      throw new AuthError("invalid_request", "data does not decrypt to JSON");
    }
  }
  if (form === "plain" && data === undefined) return { payload: body, answer: "plain" };
  if (previewOn) return { payload: data !== undefined ? data : body, answer: "preview" };
  throw new AuthError(
    "invalid_request",
    form === "plain" ? 'body must be the JSON payload, or {"data": "<encrypted JSON>"}' : 'body must be {"data": "<encrypted JSON>"}',
  );
}

/**
 * The guard middleware of a licensed Authn endpoint; sets `authn` (and `scope` on
 * /tenant/:tenantId/community/:communityId paths).
 */
export function authnGuard(opts: AuthnGuardOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const publicKey = header(c, "publickey");
    const licenseCipher = header(c, "licensekey");
    const requestCipher = header(c, "requestid");
    if (!publicKey) throw unauthorized("publickey header is required");
    if (!licenseCipher) throw unauthorized("licensekey header is required");
    if (!requestCipher) throw unauthorized("requestid header is required");

    const platform = c.get("services").authn;
    let sharedKey: Uint8Array;
    try {
      sharedKey = await platform.keyring.sharedKeyFor(publicKey.trim());
    } catch (e) {
      if (e instanceof EnvelopeError) throw unauthorized(`publickey: ${e.message}`);
      throw e;
    }
    const [licenseKey, requestPlain] = await Promise.all([open(licenseCipher, sharedKey, "licensekey"), open(requestCipher, sharedKey, "requestid")]);
    const rid = parseRequestId(requestPlain);
    const nowMs = Date.now();
    if (Math.abs(nowMs / 1000 - rid.ts) > REQUEST_WINDOW_SECONDS) {
      throw unauthorized(`requestid.ts must be within ${REQUEST_WINDOW_SECONDS} seconds of now (epoch seconds)`);
    }

    const license = await platform.resolver.resolve(licenseKey);
    if (!license) throw unauthorized("invalid license key");
    const tenantId = c.req.param("tenantId") ?? null;
    const communityId = c.req.param("communityId") ?? null;
    authorizeLicense(license, { levels: opts.levels, tenantId, communityId: opts.community ? communityId : null, now: nowMs });

    const svc = c.get("services");
    const { payload, answer } = await readPayload(c, opts.form ?? "envelope", sharedKey, svc.config.authnPreview);
    if (opts.payload) {
      // No body reads as {} (all-optional payloads); a body of `null` is a payload, and wrong.
      const r = opts.payload.safeParse(payload === undefined ? {} : payload);
      if (!r.success) throw new AuthError("invalid_request", describeZodError(r.error));
    }

    const ip = (FORWARDING_LEVELS.includes(license.authLevel) ? forwardedIp(c) : null) ?? clientIp(c);
    const scope = tenantId && communityId ? await scopeFor(c, tenantId, communityId) : null;

    // Claimed last, so a refused request (credentials, license, body, unknown tenant) does not
    // burn its uuid; one synchronous check-and-insert in the Durable Object decides among
    // racing requests.
    // One ReplayGuard per caller key: created near that caller (request.cf), as its limiter is.
    const near = scope?.locationHint ?? locationHintFor(c.req.raw.cf);
    const fresh = await svc.once.claim(`authn-request:${publicKey.trim()}`, rid.uuid, rid.ts * 1000 + 2 * REQUEST_WINDOW_SECONDS * 1000, near);
    if (!fresh) throw unauthorized("requestid.uuid has already been used");

    c.set("authn", { license, callerPublicKey: publicKey.trim(), answer, payload, appid: rid.appid, requestUuid: rid.uuid, clientIp: ip, sharedKey });
    if (scope) c.set("scope", { ...scope, ip });
    await next();
  };
}

/** The guard's context; throws when the route has no guard (a programming error). */
export function authnContext(c: Context<AppEnv>): AuthnContext {
  const a = c.get("authn");
  if (!a) throw new Error("authnGuard is not installed on this route");
  return a;
}

/** Validates the decrypted payload against the route's schema; a mismatch is a 400. */
export function authnPayload<T>(c: Context<AppEnv>, schema: ZodType<T>): T {
  const payload = authnContext(c).payload;
  const r = schema.safeParse(payload === undefined ? {} : payload);
  if (!r.success) throw new AuthError("invalid_request", describeZodError(r.error));
  return r.data;
}

export interface AuthnRespondOptions {
  status?: number;
  /** Add `signature_token`: the service's ECDSA signature over the response's `data`. */
  signed?: boolean;
}

/** The wire shape of an enveloped answer (typed so zod-openapi handlers may return it). */
export interface AuthnWire {
  data: string;
  publicKey: string;
  signature_token?: string;
}

/**
 * Answers in the request's form (AuthnContext.answer): `{"data": enc(JSON), "publicKey":
 * <service key>}` (+ `signature_token` when signed); in preview `data` is the plain JSON value;
 * on a plain endpoint asked in plain JSON, the JSON itself (the document's answer).
 */
export async function authnRespond(c: Context<AppEnv>, data: unknown, opts: AuthnRespondOptions = {}): Promise<TypedResponse<AuthnWire, 200, "json">> {
  const a = authnContext(c);
  const status = (opts.status ?? 200) as 200;
  const keyring = c.get("services").authn.keyring;
  // The plain answer is the document's JSON; the type names the enveloped form for handlers.
  if (a.answer === "plain") {
    // Signed plain answers (auth_policy/evaluate shows `signature_token` beside its fields):
    // the signature covers the answer's JSON text without it, i.e. the body as sent with its
    // `,"signature_token":"..."` member removed (docs/api/authn.md "Verifying signature_token").
    if (opts.signed && isObject(data)) return c.json({ ...data, signature_token: await keyring.sign(JSON.stringify(data)) } as unknown as AuthnWire, status);
    return c.json((data ?? null) as unknown as AuthnWire, status);
  }
  const { publicKey } = await keyring.serviceKey();
  const wireData = a.answer === "preview" ? data : await encryptEnvelope(JSON.stringify(data ?? null), a.sharedKey);
  const body: Record<string, unknown> = { data: wireData, publicKey };
  if (opts.signed) body.signature_token = await keyring.sign(typeof wireData === "string" ? wireData : JSON.stringify(wireData ?? null));
  // In preview `data` is the plain value; the type names the production (encrypted) form.
  return c.json(body as unknown as AuthnWire, status);
}
