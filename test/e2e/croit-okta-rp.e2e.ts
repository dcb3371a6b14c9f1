import { createHash, generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startWorker, type StartedWorker } from "./harness";
import { throughProvider } from "./oidc-provider-browser";

/**
 * croit's Okta login (POST /api/auth/okta/login) with ID tokens from node-oidc-provider 9 as
 * shipped: the tenant's Okta settings name the issuer but no jwksUri, and this provider's keys
 * are at `<issuer>/jwks`, not Okta's `<issuer>/v1/keys`, so only the discovery document's
 * `jwks_uri` finds them. The test is the Okta UI: it runs the code flow at the provider (its
 * development interactions), exchanges the code, and posts the ID token.
 * A login whose ID token has no `groups` claim (the scope was not asked for) keeps the roles
 * mapped at the previous login.
 */
const RUN = randomUUID().slice(0, 8);
const CLIENT = `croit-ui-${RUN}`;
const SECRET = `croit-ui-secret-${RUN}-0123456789`;
const UI = "https://croit-ui.example/callback";

let w: StartedWorker;
let server: Server;
let issuer: string;
let jwksRequests = 0;
let v1KeysRequests = 0;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT, client_secret: SECRET, redirect_uris: [UI] }],
    jwks: { keys: [{ ...(privateKey.export({ format: "jwk" }) as Record<string, unknown>), kid: `croit-${RUN}`, alg: "RS256", use: "sig" }] },
    cookies: { keys: [`cookie-${RUN}`] },
    // An Okta-like setup: the groups claim by scope, and the scope-requested claims in the ID
    // token itself (the documented switch; Okta's own default for ID tokens from the code flow).
    conformIdTokenClaims: false,
    claims: { openid: ["sub"], email: ["email", "email_verified"], groups: ["groups"] },
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: () => ({ sub, email: sub, email_verified: true, groups: ["croit-admins", "Everyone"] }) };
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === "/jwks") jwksRequests++;
    if (ctx.path === "/v1/keys") v1KeysRequests++;
    await next();
  });
  server.on("request", provider.callback());
  w = await startWorker({
    settings: { okta: { baseUrl: issuer, clientId: CLIENT, issuer, audience: `api://croit-${RUN}`, mapRoles: { "croit-admins": ["admin"] } } },
  });
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await w?.stop();
});

/** The Okta UI: code flow at the provider with these scopes, then the token request; returns the ID token. */
async function idTokenFor(login: string, scope: string): Promise<string> {
  const auth = new URL(`${issuer}/auth`);
  const verifier = randomUUID() + randomUUID();
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  for (const [k, v] of Object.entries({ response_type: "code", client_id: CLIENT, redirect_uri: UI, scope, state: RUN, nonce: randomUUID(), code_challenge: challenge, code_challenge_method: "S256" })) {
    auth.searchParams.set(k, v);
  }
  const back = await throughProvider(auth, login, UI);
  const code = back.searchParams.get("code");
  expect(code, back.href).toBeTruthy();
  const res = await fetch(`${issuer}/token`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code: code!, redirect_uri: UI, code_verifier: verifier }).toString(),
  });
  const body = (await res.json()) as { id_token?: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.id_token!;
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;

describe("croit Okta login against node-oidc-provider", () => {
  it("finds the keys through discovery (no jwksUri configured), maps groups, and keeps roles when a later ID token has no groups claim", async () => {
    const login = `okta-user-${RUN}@example.com`;
    const withGroups = await idTokenFor(login, "openid email groups");
    expect(claimsOf(withGroups).groups).toEqual(["croit-admins", "Everyone"]);
    const first = await request(w, "POST", "/api/auth/okta/login", { idToken: withGroups });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.roles).toEqual(["admin"]);
    expect(jwksRequests).toBe(1);
    expect(v1KeysRequests).toBe(0);

    const withoutGroups = await idTokenFor(login, "openid email");
    expect(claimsOf(withoutGroups)).not.toHaveProperty("groups");
    const second = await request(w, "POST", "/api/auth/okta/login", { idToken: withoutGroups });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.userId).toBe(first.body.userId);
    expect(second.body.roles).toEqual(["admin"]);
    const info = await request(w, "GET", "/api/auth/token-info", undefined, { authorization: `Bearer ${second.body.access_token as string}` });
    expect(info.body.roles).toEqual(["admin"]);
  });
});
