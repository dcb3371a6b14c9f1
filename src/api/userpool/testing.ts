/**
 * Helpers for the userpool and core security tests (imported by *.test.ts only; never by the
 * Worker). They drive the Worker over SELF like a client and read state through the real
 * local bindings, never through mocks.
 */
import { SignJWT, type JWTHeaderParameters } from "jose";
import { callJson, type CallOptions } from "../../../test/helpers/http";
import { services, type TestTenant } from "../../../test/helpers/tenant";
import type { Scope } from "../../core/context";
import { parseTenantSettings, tenantIssuer } from "../../core/tenants/settings";
import { sha256Hex } from "../../crypto/hash";
import type { StoredMail } from "../../storage/ports";

export type Json = Record<string, unknown>;

/** POSTs a userpool route as a client of tenant `t` (from `ip`, default the helper's). */
export function post(t: TestTenant, path: string, body: unknown, opts: Partial<CallOptions> = {}) {
  return callJson<Json>("POST", `/v1/${path}`, body, { host: t.host, ...opts });
}

/** The core Scope of a test tenant, as the tenant middleware would build it. */
export async function scopeOf(t: TestTenant, ip = "203.0.113.7"): Promise<Scope> {
  const tenant = (await services().tenants.getTenant(t.tenant.id))!;
  return { tenant, settings: parseTenantSettings(tenant.settings), community: t.community, ip, userAgent: null };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `f` yields a value (deferred work runs after the response). */
export async function eventually<T>(f: () => Promise<T | null | undefined>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(25);
  }
}

/** Mail to `to` in the D1 outbox newer than `afterId`, newest first. */
export async function mailTo(t: TestTenant, to: string, afterId = 0): Promise<StoredMail[]> {
  const all = await services().mailStore.list({ tenantId: t.tenant.id, to, limit: 50 });
  return all.filter((m) => m.id > afterId);
}

/** The id of the newest mail to `to` (0 when none), to wait for a newer one. */
export async function lastMailId(t: TestTenant, to: string): Promise<number> {
  return (await mailTo(t, to))[0]?.id ?? 0;
}

/** Waits for a reset mail newer than `afterId` and returns the code it carries. */
export async function resetCode(t: TestTenant, to: string, afterId: number): Promise<string> {
  const mail = await eventually(async () => (await mailTo(t, to, afterId))[0]);
  const m = /reset code is (\S+)/.exec(mail.text);
  if (!m) throw new Error("no code in mail");
  return m[1]!;
}

/** Asks for a reset code for `username` and returns the code mailed to `email`. */
export async function requestCode(t: TestTenant, username: string, email: string): Promise<string> {
  const before = await lastMailId(t, email);
  const r = await post(t, "forgot-password", { username });
  if (r.status !== 200) throw new Error(`forgot-password answered ${r.status}`);
  return resetCode(t, email, before);
}

/** The KV digest under which a reset code's record is stored (src/core/auth/reset.ts). */
export const resetCodeDigest = (tenantId: string, uid: string, code: string) => sha256Hex(`${tenantId}:${uid}:${code}`);

/** Decodes a JWT's payload without verifying it (to read sid, exp, ...). */
export function claimsOf(jwt: string): Json {
  const part = jwt.split(".")[1]!;
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4))) as Json;
}

/** Decodes a JWT's protected header. */
export function headerOf(jwt: string): Json {
  const part = jwt.split(".")[0]!;
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4))) as Json;
}

/**
 * Signs arbitrary claims with the deployment's real current ES256 key, so that a test can
 * isolate one claim check (no exp, expired, wrong iss or aud) from the signature check.
 */
export async function signWithDeploymentKey(claims: Json, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  const { kid, key } = await services().keyring.signingKey();
  return new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid, ...header }).sign(key);
}

/** The claims a genuine access token of `t` would carry for `sub`/`sid` (to tamper with one). */
export function accessClaims(t: TestTenant, sub: string, sid: string, now = Math.floor(Date.now() / 1000)): Json {
  return {
    iss: tenantIssuer(t.tenant.id, parseTenantSettings(t.tenant.settings)),
    aud: t.tenant.id,
    sub,
    sid,
    tenant: t.tenant.id,
    community: t.community.id,
    roles: ["user"],
    username: "alice",
    token_use: "access",
    iat: now,
    exp: now + 600,
    jti: crypto.randomUUID(),
  };
}

/** Logs in through the API and returns the token response (throws unless 200). */
export async function loginTokens(t: TestTenant, username: string, password: string): Promise<{ access_token: string; id_token: string; refresh_token: string; expires_in: number }> {
  const r = await post(t, "login", { username, password });
  if (r.status !== 200 || typeof r.body.access_token !== "string") throw new Error(`login answered ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { access_token: string; id_token: string; refresh_token: string; expires_in: number };
}
