import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestIdp, type TestIdp } from "../helpers/oidc-idp";
import { request, startWorker, verifyWithJwks, type StartedWorker } from "./harness";

/**
 * A real SP-initiated SSO login over HTTP: the Worker runs under `wrangler dev`; a local OIDC
 * IdP (its own ES256 keys, discovery, JWKS, authorize and token endpoints) listens on a free
 * localhost port in this process; the test plays the browser through POST /sso/initiate, the
 * IdP's authorize redirect and our callback, and checks the token with an independent verifier.
 */
const APP = "https://app.example/sso/done";
const DOMAIN = "e2e-sso.example";
let w: StartedWorker;
let idp: TestIdp;
let server: Server;

/** Serves a fetch-style handler with node:http. */
function serve(handle: (req: Request) => Promise<Response>): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const s = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const url = `http://${req.headers.host}${req.url}`;
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const answer = await handle(new Request(url, { method: req.method, headers, ...(body && req.method !== "GET" ? { body } : {}) }));
      res.writeHead(answer.status, Object.fromEntries(answer.headers));
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
    s.listen(0, "127.0.0.1", () => resolve({ server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` }));
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function adminToken(): Promise<string> {
  const r = await request(w, "POST", "/v1.0/auth/token", { username: w.demo.admin.username, password: w.demo.admin.password });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.token as string;
}

beforeAll(async () => {
  w = await startWorker();
  // The IdP needs its URL before it exists: listen first, then create it with that issuer.
  let handler: (req: Request) => Promise<Response> = async () => new Response("starting", { status: 503 });
  const s = await serve((req) => handler(req));
  server = s.server;
  idp = await createTestIdp(s.url, { clientId: "e2e-client", clientSecret: "e2e-client-secret-0123456789abcdef" });
  handler = (req) => idp.handle(req);
  // SSO connections are administered by a SYSTEM_ADMIN: the demo seed's admin is one (src/api/dev/seed.ts).
  if (!w.demo.admin.roles.includes("SYSTEM_ADMIN")) throw new Error("the demo admin must have SYSTEM_ADMIN");
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await w?.stop();
});

describe("Sentinel SSO through a local OIDC IdP", () => {
  it("creates a connection, initiates, logs in at the IdP and lands at the app with a verifiable token", async () => {
    const admin = await adminToken();
    const created = await request(
      w,
      "POST",
      "/v1.0/auth/sso/connections",
      { name: "E2E IdP", type: "oidc", domains: [DOMAIN], issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUris: [APP], defaultRoles: ["USER"] },
      bearer(admin),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(idp.clientSecret);

    const none = await request(w, "POST", "/v1.0/auth/sso/initiate", { email: "x@unconfigured.example" });
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ status: 404, code: "not_found" });

    idp.nextUser = { sub: "e2e-jane", email: `jane@${DOMAIN}`, email_verified: true, given_name: "Jane" };
    const init = await request(w, "POST", "/v1.0/auth/sso/initiate", { email: `jane@${DOMAIN}`, state: "app-xyz" });
    expect(init.status, JSON.stringify(init.body)).toBe(200);
    const authorizationUrl = new URL(init.body.authorizationUrl as string);
    expect(authorizationUrl.origin).toBe(idp.issuer);
    expect(authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256");

    // The browser: to the IdP, which logs the user in and redirects to our callback.
    const atIdp = await fetch(authorizationUrl, { redirect: "manual" });
    expect(atIdp.status).toBe(302);
    const callback = new URL(atIdp.headers.get("location")!);
    expect(`${callback.origin}${callback.pathname}`).toBe(`${w.url}/v1.0/auth/sso/callback`);
    const back = await fetch(callback, { redirect: "manual" });
    expect(back.status, await back.clone().text()).toBe(302);
    const location = back.headers.get("location")!;
    expect(location.startsWith(`${APP}#`)).toBe(true);
    const fragment = new URLSearchParams(location.split("#")[1]);
    expect(fragment.get("state")).toBe("app-xyz");
    const token = fragment.get("token")!;

    // Our token, checked with Node's own crypto against the published JWKS.
    const { payload } = await verifyWithJwks(w, token);
    expect(payload).toMatchObject({ username: `jane@${DOMAIN}`, roles: ["USER"], tenant: w.demo.tenantId });
    // The IdP received the PKCE verifier and our client secret (it checks both).
    expect(idp.tokenRequests.at(-1)!.get("code_verifier")).toBeTruthy();
    // The token works on the API.
    const refreshed = await request(w, "GET", "/v1.0/auth/refreshToken", undefined, bearer(token));
    expect(refreshed.status).toBe(200);

    // The callback is single use.
    const replay = await fetch(callback, { redirect: "manual" });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ code: "invalid_grant" });

    // A second login is the same user.
    const again = await request(w, "POST", "/v1.0/auth/sso/initiate", { email: `jane@${DOMAIN}` });
    const cb2 = new URL((await fetch(new URL(again.body.authorizationUrl as string), { redirect: "manual" })).headers.get("location")!);
    const back2 = await fetch(cb2, { redirect: "manual" });
    const token2 = new URLSearchParams(back2.headers.get("location")!.split("#")[1]).get("token")!;
    expect((await verifyWithJwks(w, token2)).payload.sub).toBe(payload.sub);
  });
});
