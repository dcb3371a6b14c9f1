/**
 * End-to-end harness: starts the Worker with `wrangler dev` on a free port, with its own
 * temporary persist dir (`--persist-to`) and fresh secrets (`--var`), applies the D1
 * migrations into it, seeds the demo tenant through POST /dev/seed (the real core code), and
 * stops it afterwards. Other surfaces' e2e files use it the same way:
 *
 *   let w: StartedWorker;
 *   beforeAll(async () => { w = await startWorker(); });
 *   afterAll(() => w?.stop());
 *
 * The implementation is shared with `npm run dev` and `npm run bench` (scripts/lib/worker.mjs).
 */
import { createPublicKey, verify } from "node:crypto";
// Plain JavaScript module, shared with scripts that run without a TypeScript loader.
import { startLocalWorker } from "../../scripts/lib/worker.mjs";

export interface DemoAccount {
  username: string;
  password: string;
  uid: string;
  userId: number;
  roles: string[];
}

/** The same shape as .demo-credentials.json (scripts/dev.mjs). */
export interface DemoCredentials {
  url: string;
  tenantId: string;
  communityId: string;
  hostnames: string[];
  admin: DemoAccount;
  user: DemoAccount;
  newPasswordRequired: DemoAccount;
  client: { clientId: string; clientSecret: string; grants: string[]; roles: string[] };
  /** Filled by the Authn seed (license, keys) once it exists. */
  authn: Record<string, unknown>;
  /** A user with TOTP enrolled: codes from `totpSecret` (scripts/lib/totp.mjs totpCode). */
  totpUser: DemoAccount & { totpSecret: string };
  /** The OpenID Provider demo (src/api/dev/seed-oidc.ts): [0] confidential, [1] public. */
  oidc: { issuer: string; clients: DemoOidcClient[] };
}

export interface DemoOidcClient {
  client_id: string;
  /** Only the confidential client has one. */
  client_secret?: string;
  redirect_uri: string;
  post_logout_redirect_uri: string;
  token_endpoint_auth_method: string;
  scope: string;
}

export interface StartedWorker {
  /** Base URL, e.g. http://127.0.0.1:41234 (the Host 127.0.0.1 selects the demo tenant). */
  url: string;
  demo: DemoCredentials;
  /** The raw POST /dev/seed answer (ids of extra users, ...). */
  seed: Record<string, unknown>;
  stop(): Promise<void>;
  /** Restarts wrangler on the same port, data and secrets (fresh isolates, empty caches). */
  restart(): Promise<void>;
  /** The Worker's local persistence directory (for `wrangler d1 execute --persist-to`). */
  persistTo: string;
  /** wrangler's output so far (for failure messages). */
  output(): string;
}

export interface StartOptions {
  /** Extra or overriding `--var`s (e.g. AUTHN_PREVIEW). */
  vars?: Record<string, string>;
  /** Settings of the demo tenant. */
  settings?: Record<string, unknown>;
  /** Additional ordinary users created by the seed. */
  extraUsers?: { username: string; password: string }[];
  /** Echo wrangler's output to this process (debugging). */
  log?: boolean;
}

export function startWorker(opts: StartOptions = {}): Promise<StartedWorker> {
  return startLocalWorker(opts) as Promise<StartedWorker>;
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** Sends a request with a JSON, form or raw body and parses a JSON answer. */
export async function request<T = Record<string, any>>(
  w: StartedWorker,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const h: Record<string, string> = { ...headers };
  let payload: string | undefined;
  if (typeof body === "string") payload = body;
  else if (body instanceof URLSearchParams) {
    payload = body.toString();
    h["content-type"] ??= "application/x-www-form-urlencoded";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const res = await fetch(`${w.url}${path}`, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  let parsed: T;
  try {
    parsed = JSON.parse(text) as T;
  } catch {
    parsed = { raw: text } as T;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export interface DecodedJwt {
  header: { alg: string; kid: string; typ?: string };
  payload: Record<string, any>;
}

/**
 * Verifies an ES256 JWT against the Worker's published JWKS with Node's own crypto (not jose):
 * proof that any standard verifier can read our tokens. Returns the decoded token, or throws.
 * JWS signatures are raw r||s (RFC 7518 §3.4), hence dsaEncoding "ieee-p1363".
 */
export async function verifyWithJwks(w: StartedWorker, token: string): Promise<DecodedJwt> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("not a JWS compact serialization");
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
  if (header.alg !== "ES256") throw new Error(`unexpected alg ${header.alg}`);
  const jwks = (await (await fetch(`${w.url}/.well-known/jwks.json`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`kid ${header.kid} is not in the JWKS`);
  const key = createPublicKey({ key: jwk as unknown as import("node:crypto").JsonWebKey, format: "jwk" });
  const ok = verify("sha256", Buffer.from(`${h}.${p}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url"));
  if (!ok) throw new Error("signature does not verify");
  return { header, payload: JSON.parse(Buffer.from(p, "base64url").toString("utf8")) };
}

/** The newest mail to `to` in the dev outbox (GET /dev/outbox). */
export async function lastMail(w: StartedWorker, to: string): Promise<{ subject: string; text: string } | null> {
  const r = await request<{ mail: { subject: string; text: string }[] }>(w, "GET", `/dev/outbox?to=${encodeURIComponent(to)}&limit=1`);
  return r.body.mail?.[0] ?? null;
}
