import { SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestIdp, type IdpTamper, type TestIdp } from "../../../test/helpers/oidc-idp";
import { PASSWORD, services } from "../../../test/helpers/tenant";
import { createSentinelTenant, type SentinelTenant } from "../../../test/helpers/sentinel";
import type { Scope } from "../../core/context";
import { forgetDiscoveryCache } from "../../core/federation/oidc-connection";
import { createSsoConnection } from "../../core/federation/sso-connections";
import { forgetJwksCache } from "../../core/federation/remote-jwks";
import { parseTenantSettings } from "../../core/tenants/settings";
import { setOutboundFetch } from "../../http/services";

let t: SentinelTenant;
let idp: TestIdp;
let domain: string;
const APP = "https://app.example/done";
const ISSUER = "https://idp-sec.example";
let outbound: (req: Request) => Promise<Response>;

const scopeOf = (tt: SentinelTenant): Scope => ({ tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "127.0.0.1", userAgent: null });

beforeAll(async () => {
  t = await createSentinelTenant();
  idp = await createTestIdp(ISSUER);
  outbound = (req) => idp.handle(req);
  setOutboundFetch(async (input, init) => outbound(new Request(input as RequestInfo, init)));
  forgetJwksCache();
  forgetDiscoveryCache();
  domain = `${t.community.id}.example`;
  // Explicit endpoints this time (no discovery).
  await createSsoConnection(services(), scopeOf(t), {
    name: "Sec IdP",
    type: "oidc",
    domains: [domain],
    issuer: ISSUER,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    authorizationEndpoint: `${ISSUER}/authorize`,
    tokenEndpoint: `${ISSUER}/token`,
    jwksUri: `${ISSUER}/jwks`,
    redirectUris: [APP],
  });
});
afterAll(() => setOutboundFetch(null));

const noFollow = (path: string) => SELF.fetch(`http://${t.host}${path}`, { headers: { host: t.host, "cf-connecting-ip": "203.0.113.7" }, redirect: "manual" });

async function initiate(email = `user@${domain}`): Promise<URL> {
  const r = await callJson("POST", "/v1.0/auth/sso/initiate", { email }, { host: t.host });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return new URL(r.body.authorizationUrl as string);
}

/** Completes the flow with the IdP tampering with the ID token; returns the callback's answer. */
async function attempt(tamper: IdpTamper | null, user = { sub: `sub-${crypto.randomUUID()}`, email: `user@${domain}`, email_verified: true }) {
  idp.nextUser = user;
  const atIdp = await idp.handle(new Request(await initiate(user.email.includes("@") ? `x@${domain}` : undefined)));
  idp.tamper = tamper;
  const cb = new URL(atIdp.headers.get("location")!);
  const res = await noFollow(`${cb.pathname}${cb.search}`);
  return { res, cb, sub: user.sub };
}

function errorOf(res: Response): string | null {
  expect(res.status).toBe(302);
  const loc = res.headers.get("location")!;
  expect(loc.startsWith(`${APP}#`)).toBe(true);
  const f = new URLSearchParams(loc.split("#")[1]);
  expect(f.get("token")).toBeNull();
  return f.get("error");
}

describe("the callback refuses forged or replayed logins", () => {
  const cases: [string, IdpTamper][] = [
    ["a wrong nonce", { nonce: "not-the-nonce" }],
    ["another audience", { aud: "someone-else" }],
    ["another issuer", { iss: "https://evil.example" }],
    ["a key the IdP does not publish", { foreignKey: true }],
    ["an expired ID token", { expiresIn: -3600, iatOffset: -4000 }],
    ["an email outside the connection's domains", { email: "ceo@other-company.example" }],
  ];
  for (const [name, tamper] of cases) {
    it(`refuses ${name} and creates no user`, async () => {
      const { res, sub } = await attempt(tamper);
      expect(errorOf(res)).not.toBeNull();
      const created = await services().users.byExternalSubject(t.tenant.id, `${ISSUER}|${sub}`);
      expect(created).toBeNull();
    });
  }

  it("uses a state once: a replayed callback is a 400 in the Sentinel shape", async () => {
    const { res, cb } = await attempt(null);
    expect(res.status).toBe(302);
    expect(new URLSearchParams(res.headers.get("location")!.split("#")[1]).get("token")).toBeTruthy();
    const replay = await noFollow(`${cb.pathname}${cb.search}`);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ status: 400, code: "invalid_grant", path: "/v1.0/auth/sso/callback" });
  });

  it("refuses a response naming another issuer (RFC 9207 mix-up defence)", async () => {
    const url = await initiate();
    const atIdp = await idp.handle(new Request(url));
    const cb = new URL(atIdp.headers.get("location")!);
    cb.searchParams.set("iss", "https://evil.example");
    const res = await noFollow(`${cb.pathname}${cb.search}`);
    expect(errorOf(res)).toBe("access_denied");
  });

  it("refuses an unknown or missing state without redirecting anywhere", async () => {
    for (const q of ["?state=forged-state-value-1234567890&code=abc", "?code=abc", ""]) {
      const r = await noFollow(`/v1.0/auth/sso/callback${q}`);
      expect(r.status).toBe(400);
      expect(r.headers.get("location")).toBeNull();
    }
  });

  it("a code stolen from the redirect is useless without the PKCE verifier", async () => {
    const url = await initiate();
    const atIdp = await idp.handle(new Request(url));
    const cb = new URL(atIdp.headers.get("location")!);
    // The attacker redeems the code directly with a made-up verifier: the IdP refuses.
    const direct = await idp.handle(
      new Request(`${ISSUER}/token`, {
        method: "POST",
        headers: { authorization: `Basic ${btoa(`${idp.clientId}:${idp.clientSecret}`)}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", code: cb.searchParams.get("code")!, redirect_uri: url.searchParams.get("redirect_uri")!, code_verifier: "x".repeat(43) }).toString(),
      }),
    );
    expect(direct.status).toBe(400);
  });

  it("an IdP that refuses our client secret ends in an error redirect, not a 5xx", async () => {
    const saved = idp.clientSecret;
    idp.clientSecret = "rotated-at-the-idp";
    try {
      const { res } = await attempt(null);
      expect(errorOf(res)).toBe("invalid_grant");
    } finally {
      idp.clientSecret = saved;
    }
  });

  it("an unreachable IdP ends in temporarily_unavailable", async () => {
    const url = await initiate();
    const atIdp = await idp.handle(new Request(url));
    const cb = new URL(atIdp.headers.get("location")!);
    outbound = async () => {
      throw new Error("connection refused");
    };
    try {
      const res = await noFollow(`${cb.pathname}${cb.search}`);
      expect(errorOf(res)).toBe("temporarily_unavailable");
    } finally {
      outbound = (req) => idp.handle(req);
    }
  });

  it("never takes over a local password account with the same username", async () => {
    await services().users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: `victim@${domain}`, roles: ["ADMIN"], passwordHash: t.alice.passwordHash });
    const { res } = await attempt(null, { sub: "attacker", email: `victim@${domain}`, email_verified: true });
    expect(errorOf(res)).toBe("access_denied");
    expect((await callJson("POST", "/v1.0/auth/token", { username: `victim@${domain}`, password: PASSWORD }, { host: t.host })).status).toBe(200);
  });

  it("refuses an ID token whose email the IdP says is unverified", async () => {
    const { res } = await attempt(null, { sub: "unverified", email: `new@${domain}`, email_verified: false });
    expect(errorOf(res)).toBe("access_denied");
  });
});

describe("connection administration input", () => {
  const base = { name: "x", type: "oidc" as const, issuer: "https://idp.example", clientId: "c", redirectUris: ["https://app.example/cb"] };
  it("refuses bad domains, plain-http endpoints, partial endpoints and fragment redirect URIs", async () => {
    const svc = services();
    const scope = scopeOf(t);
    const bad = [
      { ...base, domains: ["not a domain"] },
      { ...base, domains: ["ok.example"], issuer: "http://idp.example" },
      { ...base, domains: ["ok.example"], tokenEndpoint: "https://idp.example/token" },
      { ...base, domains: ["ok.example"], redirectUris: ["https://app.example/cb#frag"] },
      { ...base, domains: ["ok.example"], redirectUris: ["javascript:alert(1)"] },
      { ...base, domains: ["ok.example"], corpId: "NO-SUCH-CORP" },
    ];
    for (const input of bad) await expect(createSsoConnection(svc, scope, input)).rejects.toMatchObject({ code: "invalid_request" });
    await expect(createSsoConnection(svc, scope, { ...base, issuer: ISSUER, domains: [domain] })).rejects.toMatchObject({ code: "conflict" });
  });

  it("a discovery document naming another issuer is refused where the connection is configured (400), not at the callback", async () => {
    const d = `disc-${t.community.id}.example`;
    outbound = async (req) => (new URL(req.url).host === "liar.example" ? Response.json({ issuer: "https://someone-else.example", authorization_endpoint: "https://x/a", token_endpoint: "https://x/t", jwks_uri: "https://x/j" }) : idp.handle(req));
    try {
      await expect(createSsoConnection(services(), scopeOf(t), { ...base, issuer: "https://liar.example", domains: [d] })).rejects.toMatchObject({ code: "invalid_request" });
      // Unreachable or not JSON: nothing is stored unchecked either (502).
      outbound = async (req) => (new URL(req.url).host === "liar.example" ? new Response("<html>", { status: 200 }) : idp.handle(req));
      await expect(createSsoConnection(services(), scopeOf(t), { ...base, issuer: "https://liar.example", domains: [d] })).rejects.toMatchObject({ code: "upstream_error" });
      const r = await callJson("POST", "/v1.0/auth/sso/initiate", { email: `a@${d}` }, { host: t.host });
      expect(r.status).toBe(404);
    } finally {
      outbound = (req) => idp.handle(req);
    }
  });
});
