import { SELF } from "cloudflare:test";
import { sha256Hex } from "../../src/crypto/hash";
import { base32Encode } from "../../src/crypto/otp";
import { randomBytes, randomToken } from "../../src/crypto/random";
import { seal } from "../../src/crypto/secret-box";
import { s256Challenge } from "../../src/protocols/oidc/pkce";
import type { User } from "../../src/storage/ports";
import { PASSWORD, services, type TestTenant } from "./tenant";

/**
 * Helpers for the hosted login's tests: register an OIDC client and the community's scopes
 * straight in storage, and a browser with a cookie jar that follows nothing by itself.
 */

let n = 0;
const hex24 = () => Array.from(randomBytes(12), (b) => b.toString(16).padStart(2, "0")).join("");

export interface RegisteredClient {
  clientId: string;
  secret: string;
  redirectUri: string;
  spId: string;
}

export async function registerClient(
  t: TestTenant,
  opts: { redirectUris?: string[]; postLogoutRedirectUris?: string[]; public?: boolean; name?: string; scope?: string; forceReauthentication?: boolean; grantTypes?: string[]; tenantId?: string; communityId?: string } = {},
): Promise<RegisteredClient> {
  const svc = services();
  const clientId = `app-${Date.now().toString(36)}-${n++}`;
  const secret = randomToken();
  const redirectUris = opts.redirectUris ?? ["https://app.example/callback"];
  const id = hex24();
  const now = Date.now();
  await svc.identity.serviceProviders.create({
    id,
    tenantId: opts.tenantId ?? t.tenant.id,
    communityId: opts.communityId ?? t.community.id,
    type: "oidc",
    featured: null,
    name: opts.name ?? "Demo App",
    clientId,
    entityId: null,
    secretHash: opts.public ? null : await sha256Hex(secret),
    sealedSecrets: null,
    body: {
      ...(opts.forceReauthentication ? { forceReauthentication: true } : {}),
      oidc_config: {
        client_id: clientId,
        client_name: opts.name ?? "Demo App",
        redirect_uris: redirectUris,
        post_logout_redirect_uris: opts.postLogoutRedirectUris ?? ["https://app.example/signed-out"],
        grant_types: opts.grantTypes ?? ["authorization_code", "refresh_token"],
        token_endpoint_auth_method: opts.public ? "none" : "client_secret_basic",
        ...(opts.scope ? { scope: opts.scope } : {}),
      },
    },
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
  return { clientId, secret, redirectUri: redirectUris[0]!, spId: id };
}

export async function defineScopes(t: TestTenant, scopes: { name: string; display_name: string; consent_required: boolean }[]): Promise<void> {
  const now = Date.now();
  await services().identity.idps.create({
    id: hex24(),
    tenantId: t.tenant.id,
    communityId: t.community.id,
    type: "oidc",
    body: { type: "oidc", oidc_config: { name: "idp", scopes: scopes.map((s) => ({ ...s, claims: [] })) } },
    version: 1,
    createdAt: now,
    updatedAt: now,
  });
}

/** A user with TOTP enrolled; answers the user and its base32 secret. */
export async function userWithTotp(t: TestTenant, username: string): Promise<{ user: User; secret: string }> {
  const svc = services();
  const { hashPassword } = await import("../../src/crypto/password");
  const secret = base32Encode(randomBytes(20));
  const user = await svc.users.create({
    tenantId: t.tenant.id,
    communityId: t.community.id,
    username,
    email: `${username}@${t.host}`,
    roles: ["user"],
    passwordHash: await hashPassword(PASSWORD, svc.config.passwordPepper),
    passwordChangedAt: Date.now() - 5000,
    totpSecretSealed: await seal(svc.config.keyEncryptionSecret, "totp-secret", secret),
  });
  return { user, secret };
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export async function pkce(): Promise<Pkce> {
  const verifier = randomToken() + randomToken().slice(0, 10);
  return { verifier, challenge: await s256Challenge(verifier) };
}

/** The query of an authorization request. */
export function authorizeQuery(client: RegisteredClient, challenge: string, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: "code",
    scope: "openid",
    state: "st-123",
    nonce: "n-456",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  }).toString();
}

/** Hidden fields of the page's (first) form. */
export function hiddenFields(html: string): { tx: string; csrf: string } {
  const tx = /name="tx" value="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!tx || !csrf) throw new Error(`no form fields in page: ${html.slice(0, 400)}`);
  return { tx, csrf };
}

/** The Set-Cookie lines of a response (workers-types does not declare getSetCookie yet). */
export function setCookies(res: Response): string[] {
  return (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie();
}

/** A browser: keeps cookies by name, sends them back, never follows redirects. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly host: string,
    readonly ip = "203.0.113.9",
  ) {}

  async request(method: string, path: string, body?: URLSearchParams | string, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { host: this.host, "cf-connecting-ip": this.ip, ...headers };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (body !== undefined && !h["content-type"]) h["content-type"] = "application/x-www-form-urlencoded";
    const res = await SELF.fetch(`http://${this.host}${path}`, { method, headers: h, redirect: "manual", ...(body !== undefined ? { body: body.toString() } : {}) });
    for (const line of setCookies(res)) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (attrs.some((a: string) => /^\s*max-age=0$/i.test(a)) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  get(path: string) {
    return this.request("GET", path);
  }

  post(path: string, fields: Record<string, string>) {
    return this.request("POST", path, new URLSearchParams(fields));
  }
}
