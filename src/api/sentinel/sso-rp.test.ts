import { env, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestIdp, type ClientAuthMethod, type TestIdp } from "../../../test/helpers/oidc-idp";
import { services } from "../../../test/helpers/tenant";
import { bearer, createSentinelTenant, expectSentinelError, jwtPayload, sentinelLogin, type SentinelTenant } from "../../../test/helpers/sentinel";
import { forgetDiscoveryCache } from "../../core/federation/discovery";
import { externalSubjectOf } from "../../core/federation/provision";
import { forgetJwksCache } from "../../core/federation/remote-jwks";
import { setOutboundFetch } from "../../http/services";

/**
 * The OpenID relying party against the behaviours of conformant providers (issue 7 item 6):
 * claims only in UserInfo (OIDC Core §5.4), a signing-key rotation, a discovery document that
 * names another issuer (OIDC Discovery §4.3), and each client authentication method at the
 * token endpoint (OIDC Core §9). Every test stands up its own provider at its own issuer; the
 * Worker's outbound fetch is routed to it by origin.
 */
let t: SentinelTenant;
let sys: Record<string, string>;
const idps = new Map<string, TestIdp>();
const APP = "https://app.example/sso/done";
/** Every admin answer's text, to prove no secret or private key is ever in one. */
const answers: string[] = [];

beforeAll(async () => {
  t = await createSentinelTenant();
  setOutboundFetch(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    const idp = idps.get(new URL(req.url).origin);
    return idp ? idp.handle(req) : new Response("no such host", { status: 404 });
  });
  forgetJwksCache();
  forgetDiscoveryCache();
  sys = bearer(await sentinelLogin(t, "sysadmin"));
});
afterAll(() => setOutboundFetch(null));

let n = 0;
/** A provider at a fresh origin, with its own email domain. */
async function newIdp(): Promise<{ idp: TestIdp; domain: string }> {
  const k = n++;
  const idp = await createTestIdp(`https://op-${k}-${t.community.id}.example`);
  idps.set(new URL(idp.issuer).origin, idp);
  return { idp, domain: `rp${k}-${t.community.id}.example` };
}

async function api(method: string, path: string, body?: unknown) {
  const r = await callJson(method, `/v1.0/auth${path}`, body, { host: t.host, headers: sys });
  answers.push(JSON.stringify(r.body));
  return r;
}

/** Creates a connection using discovery; `extra` overrides. */
async function connect(idp: TestIdp, domain: string, extra: Record<string, unknown> = {}) {
  return api("POST", "/sso/connections", { name: "RP", type: "oidc", domains: [domain], issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, redirectUris: [APP], ...extra });
}

/** The browser's part: initiate, the provider's authorize redirect, our callback. Returns our redirect's fragment. */
async function login(idp: TestIdp, email: string, sub = `sub-${email}`): Promise<{ fragment: URLSearchParams; authorizationUrl: URL }> {
  const r = await callJson("POST", "/v1.0/auth/sso/initiate", { email }, { host: t.host });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const authorizationUrl = new URL(r.body.authorizationUrl as string);
  idp.nextUser = { sub, email, email_verified: true, given_name: "Ann", family_name: "Lee" };
  const atIdp = await idp.handle(new Request(authorizationUrl));
  expect(atIdp.status).toBe(302);
  const cb = new URL(atIdp.headers.get("location")!);
  const back = await SELF.fetch(`http://${t.host}${cb.pathname}${cb.search}`, { headers: { host: t.host }, redirect: "manual" });
  expect(back.status, await back.clone().text()).toBe(302);
  const location = back.headers.get("location")!;
  expect(location.startsWith(`${APP}#`)).toBe(true);
  return { fragment: new URLSearchParams(location.split("#")[1]), authorizationUrl };
}

describe("a provider that puts the email only in UserInfo (OIDC Core §5.4)", () => {
  it("logs in with the email read from UserInfo with the access token", async () => {
    const { idp, domain } = await newIdp();
    idp.claimsInUserinfo = true;
    expect((await connect(idp, domain)).status).toBe(201);
    const { fragment } = await login(idp, `ann@${domain}`, "sub-ann");
    expect(fragment.get("error"), fragment.get("error_description") ?? "").toBeNull();
    expect(idp.userinfoRequests).toBe(1);
    const user = await services().users.byExternalSubject(t.tenant.id, externalSubjectOf(idp.issuer, "sub-ann"));
    expect(user).toMatchObject({ email: `ann@${domain}`, emailVerified: true, firstName: "Ann", lastName: "Lee" });
    expect(jwtPayload(fragment.get("token")!).sub).toBe(user!.uid);
  });

  it("refuses a UserInfo answer about another subject (§5.3.2): error fragment, no user", async () => {
    const { idp, domain } = await newIdp();
    idp.claimsInUserinfo = true;
    expect((await connect(idp, domain)).status).toBe(201);
    idp.tamper = { userinfoSub: "somebody-else" };
    const { fragment } = await login(idp, `eve@${domain}`, "sub-eve");
    expect(fragment.get("token")).toBeNull();
    expect(fragment.get("error")).toBe("invalid_grant");
    expect(fragment.get("error_description")).toMatch(/another subject/);
    expect(await services().users.byExternalSubject(t.tenant.id, externalSubjectOf(idp.issuer, "sub-eve"))).toBeNull();
  });

  it("asks for the email in the ID token with the claims parameter where the provider supports it (§5.5)", async () => {
    const { idp, domain } = await newIdp();
    idp.claimsInUserinfo = true;
    idp.claimsParameterSupported = true;
    expect((await connect(idp, domain)).status).toBe(201);
    const { fragment, authorizationUrl } = await login(idp, `cy@${domain}`);
    expect(JSON.parse(authorizationUrl.searchParams.get("claims")!)).toEqual({ id_token: { email: { essential: true }, email_verified: null } });
    expect(fragment.get("token")).toBeTruthy();
    expect(idp.userinfoRequests).toBe(0);
  });

  it("with explicit endpoints and no userinfoEndpoint, an ID token without email still fails closed", async () => {
    const { idp, domain } = await newIdp();
    idp.claimsInUserinfo = true;
    const base = idp.issuer;
    expect((await connect(idp, domain, { authorizationEndpoint: `${base}/authorize`, tokenEndpoint: `${base}/token`, jwksUri: `${base}/jwks` })).status).toBe(201);
    const { fragment } = await login(idp, `dee@${domain}`);
    expect(fragment.get("error")).toBe("access_denied");
    expect(fragment.get("error_description")).toMatch(/not in the connection's domains/);
    // With the endpoint configured, the same login succeeds.
    const id = (await api("GET", "/sso/connections")).body as unknown as { id: string; domains: string[] }[];
    const mine = id.find((c) => c.domains.includes(domain))!;
    expect((await api("PATCH", `/sso/connections/${mine.id}`, { userinfoEndpoint: `${base}/userinfo` })).status).toBe(200);
    expect((await login(idp, `dee@${domain}`)).fragment.get("token")).toBeTruthy();
  });
});

describe("UserInfo answers that are not usable fail the login closed (no user, never a 5xx)", () => {
  const broken: [string, (idp: TestIdp) => void, string][] = [
    ["a 500", (idp) => (idp.userinfoOverride = () => new Response("boom", { status: 500 })), "temporarily_unavailable"],
    ["HTML", (idp) => (idp.userinfoOverride = () => new Response("<html>", { headers: { "content-type": "text/html" } })), "temporarily_unavailable"],
    ["a signed JWT", (idp) => (idp.userinfoOverride = () => new Response("a.b.c", { headers: { "content-type": "application/jwt" } })), "temporarily_unavailable"],
    ["JSON without sub", (idp) => (idp.userinfoOverride = () => Response.json({ email: "x@y.example" })), "invalid_grant"],
    ["an array", (idp) => (idp.userinfoOverride = () => Response.json([{ sub: "x" }])), "temporarily_unavailable"],
    ["a megabyte", (idp) => (idp.userinfoOverride = () => Response.json({ sub: "x", pad: "a".repeat(1024 * 1024) })), "temporarily_unavailable"],
    ["no access token to ask with", (idp) => (idp.omitAccessToken = true), "access_denied"],
  ];
  for (const [what, breakIt, error] of broken) {
    it(`${what}: #error=${error}`, async () => {
      const { idp, domain } = await newIdp();
      idp.claimsInUserinfo = true;
      expect((await connect(idp, domain)).status).toBe(201);
      breakIt(idp);
      const sub = `sub-broken-${crypto.randomUUID()}`;
      const { fragment } = await login(idp, `z@${domain}`, sub);
      expect(fragment.get("token")).toBeNull();
      expect(fragment.get("error")).toBe(error);
      expect(await services().users.byExternalSubject(t.tenant.id, externalSubjectOf(idp.issuer, sub))).toBeNull();
    });
  }
});

describe("a provider that rotates its signing key", () => {
  it("the first login after the rotation succeeds: the unknown kid refetches the JWKS at once", async () => {
    const { idp, domain } = await newIdp();
    expect((await connect(idp, domain)).status).toBe(201);
    expect((await login(idp, `rot@${domain}`)).fragment.get("token")).toBeTruthy();
    expect(idp.jwksFetches).toBe(1);
    await idp.rotateKey(true);
    const after = await login(idp, `rot@${domain}`);
    expect(after.fragment.get("error"), after.fragment.get("error_description") ?? "").toBeNull();
    expect(idp.jwksFetches).toBe(2);
  });
});

describe("a discovery document that names another issuer (OIDC Discovery §4.3)", () => {
  it("is refused at creation (a trailing slash), and nothing is stored", async () => {
    const { idp, domain } = await newIdp();
    const r = await connect(idp, domain, { issuer: `${idp.issuer}/` });
    expectSentinelError(r, 400, "invalid_request");
    expect(r.body.message).toMatch(/names issuer/);
    expect((await callJson("POST", "/v1.0/auth/sso/initiate", { email: `x@${domain}` }, { host: t.host })).status).toBe(404);
  });

  it("is refused by a PATCH that changes the issuer or discovery URL, and checked again only then", async () => {
    const { idp, domain } = await newIdp();
    const created = await connect(idp, domain);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expectSentinelError(await api("PATCH", `/sso/connections/${id}`, { issuer: `${idp.issuer}/` }), 400, "invalid_request");
    idp.discoveryIssuer = `${idp.issuer}/`;
    expectSentinelError(await api("PATCH", `/sso/connections/${id}`, { discoveryUrl: `${idp.issuer}/.well-known/openid-configuration` }), 400, "invalid_request");
    const fetches = idp.discoveryFetches;
    expect((await api("PATCH", `/sso/connections/${id}`, { name: "Renamed" })).status).toBe(200);
    expect(idp.discoveryFetches).toBe(fetches);
    expect((await api("GET", `/sso/connections/${id}`)).body).toMatchObject({ issuer: idp.issuer, discoveryUrl: null });
  });

  it("the discovery cache is keyed by URL and issuer: a stored connection expecting another issuer fails at initiate", async () => {
    const { idp, domain } = await newIdp();
    expect((await connect(idp, domain)).status).toBe(201);
    // Warm the cache for (URL, issuer) through a login start.
    expect((await callJson("POST", "/v1.0/auth/sso/initiate", { email: `a@${domain}` }, { host: t.host })).status).toBe(200);
    // A row from before the check existed: same discovery URL, issuer with a trailing slash.
    const old = `old-${domain}`;
    await services().ssoConnections.create({
      id: crypto.randomUUID(),
      tenantId: t.tenant.id,
      communityId: t.community.id,
      name: "Old",
      type: "oidc",
      domains: [old],
      issuer: `${idp.issuer}/`,
      clientId: idp.clientId,
      clientSecretSealed: null,
      tokenEndpointAuthMethod: "none",
      clientKeySealed: null,
      clientPublicJwk: null,
      discoveryUrl: null,
      authorizationEndpoint: null,
      tokenEndpoint: null,
      jwksUri: null,
      userinfoEndpoint: null,
      scopes: "openid email",
      redirectUris: [APP],
      defaultRoles: [],
      enabled: true,
    });
    const r = await callJson("POST", "/v1.0/auth/sso/initiate", { email: `a@${old}` }, { host: t.host });
    expectSentinelError(r, 502, "upstream_error");
    expect(r.body.message).toMatch(/names issuer/);
  });
});

describe("client authentication at the token endpoint (OIDC Core §9)", () => {
  const cases: { method: ClientAuthMethod; body: (idp: TestIdp) => Record<string, unknown> }[] = [
    { method: "client_secret_basic", body: (idp) => ({ clientSecret: idp.clientSecret }) },
    { method: "client_secret_post", body: (idp) => ({ clientSecret: idp.clientSecret, tokenEndpointAuthMethod: "client_secret_post" }) },
    { method: "private_key_jwt", body: () => ({ clientSecret: undefined, tokenEndpointAuthMethod: "private_key_jwt" }) },
    { method: "none", body: () => ({ clientSecret: undefined }) },
  ];
  for (const { method, body } of cases) {
    it(`${method}: logs in, sending exactly what the method sends`, async () => {
      const { idp, domain } = await newIdp();
      idp.authMethod = method;
      const created = await connect(idp, domain, body(idp));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.tokenEndpointAuthMethod).toBe(method);
      if (method === "private_key_jwt") {
        const jwk = created.body.clientJwk as Record<string, string>;
        expect(jwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
        expect(jwk).not.toHaveProperty("d");
        idp.clientJwk = jwk;
      } else expect(created.body.clientJwk).toBeNull();
      const { fragment } = await login(idp, `m@${domain}`);
      expect(fragment.get("error"), fragment.get("error_description") ?? "").toBeNull();
      const form = idp.tokenRequests.at(-1)!;
      const headers = idp.tokenHeaders.at(-1)!;
      expect(headers.has("authorization")).toBe(method === "client_secret_basic");
      expect(form.has("client_secret")).toBe(method === "client_secret_post");
      expect(form.has("client_assertion")).toBe(method === "private_key_jwt");
      expect(form.get("code_verifier")).toBeTruthy();
      if (method === "private_key_jwt") {
        const claims = jwtPayload(form.get("client_assertion")!);
        expect(claims).toMatchObject({ iss: idp.clientId, sub: idp.clientId, aud: `${idp.issuer}/token` });
        expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(60);
        // A second login signs a new assertion (a fresh jti: the provider refuses replays).
        expect((await login(idp, `m2@${domain}`)).fragment.get("token")).toBeTruthy();
      }
    });
  }

  it("private_key_jwt: concurrent logins each sign their own assertion (the provider refuses a reused jti)", async () => {
    const { idp, domain } = await newIdp();
    idp.authMethod = "private_key_jwt";
    const created = await connect(idp, domain, { clientSecret: undefined, tokenEndpointAuthMethod: "private_key_jwt" });
    idp.clientJwk = created.body.clientJwk as Record<string, string>;
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => login(idp, `c${i}@${domain}`)));
    for (const r of results) expect(r.fragment.get("error"), r.fragment.get("error_description") ?? "").toBeNull();
    const jtis = idp.tokenRequests.slice(-6).map((f) => jwtPayload(f.get("client_assertion")!).jti);
    expect(new Set(jtis).size).toBe(6);
  });

  it("a provider that refuses our client authentication ends the login with #error=invalid_grant", async () => {
    const { idp, domain } = await newIdp();
    idp.authMethod = "client_secret_post";
    // The connection says Basic; the provider wants the secret in the form.
    expect((await connect(idp, domain)).status).toBe(201);
    const { fragment } = await login(idp, `w@${domain}`);
    expect(fragment.get("token")).toBeNull();
    expect(fragment.get("error")).toBe("invalid_grant");
    expect(fragment.get("error_description")).toMatch(/invalid_client/);
  });

  it("the private key is sealed at rest and never in an answer; the method can change", async () => {
    const { idp, domain } = await newIdp();
    const created = await connect(idp, domain, { clientSecret: undefined, tokenEndpointAuthMethod: "private_key_jwt" });
    const id = created.body.id as string;
    const row = await env.DB.prepare("SELECT client_key_sealed, client_public_jwk FROM sso_connections WHERE id = ?").bind(id).first<{ client_key_sealed: string; client_public_jwk: string }>();
    expect(row!.client_key_sealed).toBeTruthy();
    expect(row!.client_key_sealed).not.toContain('"d"');
    expect(JSON.parse(row!.client_public_jwk)).toEqual(created.body.clientJwk);
    // A change that keeps the method keeps the key.
    const renamed = await api("PATCH", `/sso/connections/${id}`, { name: "Still JWT" });
    expect(renamed.body.clientJwk).toEqual(created.body.clientJwk);
    // To a secret: the key goes.
    const toPost = await api("PATCH", `/sso/connections/${id}`, { tokenEndpointAuthMethod: "client_secret_post", clientSecret: "a-new-secret-0123456789" });
    expect(toPost.body).toMatchObject({ tokenEndpointAuthMethod: "client_secret_post", hasClientSecret: true, clientJwk: null });
    // Removing the secret of a secret method makes a public client.
    const toNone = await api("PATCH", `/sso/connections/${id}`, { clientSecret: null });
    expect(toNone.body).toMatchObject({ tokenEndpointAuthMethod: "none", hasClientSecret: false });
    // Back to private_key_jwt: a new key.
    const back = await api("PATCH", `/sso/connections/${id}`, { tokenEndpointAuthMethod: "private_key_jwt" });
    expect((back.body.clientJwk as Record<string, string>).kid).not.toBe((created.body.clientJwk as Record<string, string>).kid);
    for (const a of answers) expect(a).not.toMatch(/"d":|client_key_sealed|clientKeySealed|a-new-secret/);
  });

  it("refuses inconsistent methods and unknown ones (400, nothing stored)", async () => {
    const { idp, domain } = await newIdp();
    for (const extra of [
      { tokenEndpointAuthMethod: "client_secret_basic", clientSecret: undefined },
      { tokenEndpointAuthMethod: "client_secret_post", clientSecret: undefined },
      { tokenEndpointAuthMethod: "none" },
      { tokenEndpointAuthMethod: "private_key_jwt" },
      { tokenEndpointAuthMethod: "client_secret_jwt" },
      { tokenEndpointAuthMethod: 7 },
      { tokenEndpointAuthMethod: null },
      { userinfoEndpoint: "ftp://op.example/userinfo" },
    ]) {
      expectSentinelError(await connect(idp, domain, extra), 400, "invalid_request");
    }
    expect((await callJson("POST", "/v1.0/auth/sso/initiate", { email: `x@${domain}` }, { host: t.host })).status).toBe(404);
    const created = await connect(idp, domain);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expectSentinelError(await api("PATCH", `/sso/connections/${id}`, { tokenEndpointAuthMethod: "none", clientSecret: "x-secret-0123456789" }), 400, "invalid_request");
    expectSentinelError(await api("PATCH", `/sso/connections/${id}`, { tokenEndpointAuthMethod: "bogus" }), 400, "invalid_request");
    expect((await api("GET", `/sso/connections/${id}`)).body).toMatchObject({ tokenEndpointAuthMethod: "client_secret_basic", hasClientSecret: true });
  });
});
