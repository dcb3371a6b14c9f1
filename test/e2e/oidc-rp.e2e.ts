import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startWorker, verifyWithJwks, type StartedWorker } from "./harness";
import { throughProvider } from "./oidc-provider-browser";

/**
 * The relying party (Sentinel SSO connections) against node-oidc-provider 9 as shipped, with
 * only its documented configuration: the Worker under `wrangler dev`, the provider on a loopback
 * port in this process, the test playing the browser through the provider's development
 * interactions (login, consent). Shown here:
 * - claims only in UserInfo: `conformIdTokenClaims` is on by default, so the ID token of a code
 *   flow carries `sub` and no `email`; the Worker reads the email from UserInfo;
 * - a signing-key rotation: the provider restarts with a new key set, and the first login after
 *   it succeeds (the unknown kid refetches the JWKS at once);
 * - a discovery whose issuer differs by a trailing slash: refused when the connection is created;
 * - each client authentication method at the token endpoint, registered as such at the provider.
 */
const APP = "https://app.example/sso/done";
const RUN = randomUUID().slice(0, 8);
const SECRET = `rp-secret-${RUN}-0123456789abcdef`;
const METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] as const;
type Method = (typeof METHODS)[number];

let w: StartedWorker;
let server: Server;
let issuer: string;
let handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void = (_req, res) => res.writeHead(503).end();
/** Requests the provider received, by path (counted with Koa middleware through provider.use). */
const seen = { userinfo: 0, jwks: 0, token: 0 };
/** The connection's public key for private_key_jwt, registered with the provider once known. */
let clientJwk: Record<string, string> | null = null;

const domainOf = (m: Method) => `${m.replace(/_/g, "-")}-${RUN}.example`;

function rsaKey(kid: string): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...(privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid, alg: "RS256", use: "sig" };
}

/** (Re)starts the provider on the same port with this key set: a restart with new keys is a rotation. */
function startProvider(keys: Record<string, unknown>[]): void {
  const callback = `${w.url}/v1.0/auth/sso/callback`;
  const clients = METHODS.map((m) => ({
    client_id: `rp-${m}`,
    redirect_uris: [callback],
    token_endpoint_auth_method: m,
    ...(m === "client_secret_basic" || m === "client_secret_post" ? { client_secret: SECRET } : {}),
    ...(m === "private_key_jwt" ? { jwks: { keys: clientJwk ? [clientJwk] : [] } } : {}),
  })).filter((c) => c.token_endpoint_auth_method !== "private_key_jwt" || clientJwk);
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys },
    cookies: { keys: [`cookie-${RUN}`] },
    // OIDC Core §5.4 standard claims by scope; which of them go into the ID token is left to the
    // provider's default (conformIdTokenClaims: only UserInfo when an access token is issued).
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["given_name", "family_name"] },
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: () => ({ sub, email: sub, email_verified: true, given_name: "Pat", family_name: "Lee" }) };
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === "/me") seen.userinfo++;
    if (ctx.path === "/jwks") seen.jwks++;
    if (ctx.path === "/token") seen.token++;
    await next();
  });
  handler = provider.callback();
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
let admin: string;

beforeAll(async () => {
  w = await startWorker();
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  startProvider([rsaKey("key-1")]);
  // SSO connections are administered by a SYSTEM_ADMIN: the demo seed's admin is one (src/api/dev/seed.ts).
  if (!w.demo.admin.roles.includes("SYSTEM_ADMIN")) throw new Error("the demo admin must have SYSTEM_ADMIN");
  const r = await request(w, "POST", "/v1.0/auth/token", { username: w.demo.admin.username, password: w.demo.admin.password });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  admin = r.body.token as string;
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await w?.stop();
});

/**
 * The browser: /sso/initiate, then the provider (sign in as `email`, consent) until it redirects
 * to our callback; then our callback, whose redirect to the app carries the token or the error.
 */
async function browserLogin(email: string): Promise<URLSearchParams> {
  const init = await request(w, "POST", "/v1.0/auth/sso/initiate", { email });
  expect(init.status, JSON.stringify(init.body)).toBe(200);
  expect(new URL(init.body.authorizationUrl as string).origin).toBe(issuer);
  const callback = await throughProvider(init.body.authorizationUrl as string, email, `${w.url}/v1.0/auth/sso/callback`);
  const back = await fetch(callback, { redirect: "manual" });
  expect(back.status, await back.clone().text()).toBe(302);
  const location = back.headers.get("location")!;
  expect(location.startsWith(`${APP}#`)).toBe(true);
  return new URLSearchParams(location.split("#")[1]);
}

describe("Sentinel SSO against node-oidc-provider", () => {
  it("refuses a connection whose issuer the discovery document contradicts by a trailing slash", async () => {
    const r = await request(
      w,
      "POST",
      "/v1.0/auth/sso/connections",
      { name: "Slash", type: "oidc", domains: [`slash-${RUN}.example`], issuer: `${issuer}/`, clientId: "rp-none", redirectUris: [APP] },
      bearer(admin),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body).toMatchObject({ status: 400, code: "invalid_request", message: expect.stringMatching(/names issuer/) });
    expect((await request(w, "POST", "/v1.0/auth/sso/initiate", { email: `a@slash-${RUN}.example` })).status).toBe(404);
  });

  it("creates one connection per client authentication method (the private key never leaves the Worker)", async () => {
    for (const m of METHODS) {
      const r = await request(
        w,
        "POST",
        "/v1.0/auth/sso/connections",
        {
          name: m,
          type: "oidc",
          domains: [domainOf(m)],
          issuer,
          clientId: `rp-${m}`,
          tokenEndpointAuthMethod: m,
          ...(m === "client_secret_basic" || m === "client_secret_post" ? { clientSecret: SECRET } : {}),
          redirectUris: [APP],
          defaultRoles: ["USER"],
        },
        bearer(admin),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(JSON.stringify(r.body)).not.toContain(SECRET);
      if (m === "private_key_jwt") {
        clientJwk = r.body.clientJwk as Record<string, string>;
        expect(clientJwk).not.toHaveProperty("d");
      }
    }
    // Register the public key at the provider (a restart with the same signing key).
    startProvider([rsaKey("key-1")]);
  });

  for (const m of METHODS) {
    it(`${m}: logs in; the email comes from UserInfo (the ID token has none); the token verifies`, async () => {
      const before = { ...seen };
      const email = `pat@${domainOf(m)}`;
      const fragment = await browserLogin(email);
      expect(fragment.get("error"), fragment.get("error_description") ?? "").toBeNull();
      const { payload } = await verifyWithJwks(w, fragment.get("token")!);
      expect(payload).toMatchObject({ username: email, roles: ["USER"], tenant: w.demo.tenantId });
      expect(seen.token - before.token).toBe(1);
      expect(seen.userinfo - before.userinfo).toBe(1);
    });
  }

  it("the first login after the provider rotated its signing key succeeds", async () => {
    expect((await browserLogin(`pat@${domainOf("client_secret_basic")}`)).get("token")).toBeTruthy();
    // A restart with a new key set only: tokens are now signed with a kid the Worker has not seen.
    startProvider([rsaKey(`key-2-${RUN}`)]);
    const jwksBefore = seen.jwks;
    const fragment = await browserLogin(`pat@${domainOf("client_secret_basic")}`);
    expect(fragment.get("error"), fragment.get("error_description") ?? "").toBeNull();
    expect(fragment.get("token")).toBeTruthy();
    expect(seen.jwks - jwksBefore).toBe(1);
  });
});
