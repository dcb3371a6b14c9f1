// Routes bench/cpu-profile.mjs measures that no load scenario in bench/scenarios builds (the
// load benchmark measures throughput of the hot routes; the CPU table covers every protocol's
// login/refresh and the front-channel pages too). Each entry has the scenario shape
// (bench/run.mjs): `prepare(ctx)` resolves with `{ request }` or `{ perConnection(i) }`, where
// a request is `{ method, path, headers, body, setupRequest?, onResponse? }`.
import { authnSetup, decrypt, encrypt, envelopeHeaders, newCaller } from "./authn-envelope.mjs";
import { randomSecret } from "../../scripts/lib/worker.mjs";

const json = { "content-type": "application/json" };
const form = { "content-type": "application/x-www-form-urlencoded" };
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

/** Fails the route's preparation unless the probe answered `want`. */
function expect(r, want, what) {
  if (r.status !== want) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

/** One enveloped Authn call from a fresh caller; answers { status, data }. */
async function authnCall(ctx, s, method, path, payload) {
  const caller = newCaller(s.curve, s.servicePublicKey);
  const body = payload === undefined ? undefined : JSON.stringify({ data: encrypt(JSON.stringify(payload), caller.sharedKey) });
  const r = await ctx.fetchJson(method, `/authn${path}`, body, envelopeHeaders(caller, s.licenseKey));
  const data = r.status < 300 && typeof r.body?.data === "string" ? JSON.parse(decrypt(r.body.data, caller.sharedKey)) : r.body;
  return { status: r.status, data };
}

/** An OIDC authorization code for the bench client (dev-only POST /dev/oidc-codes). */
async function benchCodes(ctx, secret, count) {
  const r = await ctx.fetchJson("POST", "/dev/oidc-codes", { tenantId: ctx.demo.tenantId, communityId: ctx.demo.communityId, username: ctx.benchUsers[0].username, clientSecret: secret, count });
  return expect(r, 200, "POST /dev/oidc-codes");
}

const community = (ctx) => encodeURIComponent(ctx.demo.communityId);

export default [
  {
    name: "sentinel-login",
    label: "Sentinel POST /v1.0/auth/token (password)",
    password: true,
    async prepare(ctx) {
      const u = ctx.benchUsers[0];
      const body = JSON.stringify({ username: u.username, password: u.password });
      expect(await ctx.fetchJson("POST", "/v1.0/auth/token", body, json), 200, "Sentinel token");
      return { request: { method: "POST", path: "/v1.0/auth/token", headers: json, body } };
    },
  },
  {
    name: "sentinel-refresh",
    label: "Sentinel GET /v1.0/auth/refreshToken",
    async prepare(ctx) {
      const u = ctx.benchUsers[0];
      const t = expect(await ctx.fetchJson("POST", "/v1.0/auth/token", JSON.stringify({ username: u.username, password: u.password }), json), 200, "Sentinel token");
      const headers = { authorization: `Bearer ${t.token}` };
      expect(await ctx.fetchJson("GET", "/v1.0/auth/refreshToken", undefined, headers), 200, "Sentinel refreshToken");
      return { request: { method: "GET", path: "/v1.0/auth/refreshToken", headers } };
    },
  },
  {
    name: "cloudcheckr-login",
    label: "CloudCheckr POST /v1/auth/token (password, form)",
    password: true,
    async prepare(ctx) {
      const u = ctx.benchUsers[0];
      const body = new URLSearchParams({ username: u.username, password: u.password }).toString();
      expect(await ctx.fetchJson("POST", "/v1/auth/token", body, form), 200, "CloudCheckr token");
      return { request: { method: "POST", path: "/v1/auth/token", headers: form, body } };
    },
  },
  {
    name: "cloudcheckr-refresh",
    label: "CloudCheckr PATCH /v1/auth/token",
    async prepare(ctx) {
      const u = ctx.benchUsers[0];
      const t = expect(await ctx.fetchJson("POST", "/v1/auth/token", new URLSearchParams({ username: u.username, password: u.password }).toString(), form), 200, "CloudCheckr token");
      const headers = { authorization: `Bearer ${t.access_token}` };
      expect(await ctx.fetchJson("PATCH", "/v1/auth/token", undefined, headers), 200, "CloudCheckr refresh");
      return { request: { method: "PATCH", path: "/v1/auth/token", headers } };
    },
  },
  {
    name: "oidc-discovery",
    label: "OIDC GET .well-known/openid-configuration",
    async prepare(ctx) {
      const path = `/oidc/${community(ctx)}/.well-known/openid-configuration`;
      expect(await ctx.fetchJson("GET", path), 200, "discovery");
      return { request: { method: "GET", path } };
    },
  },
  {
    name: "oidc-jwks",
    label: "OIDC GET jwks",
    async prepare(ctx) {
      const path = `/oidc/${community(ctx)}/jwks`;
      expect(await ctx.fetchJson("GET", path), 200, "jwks");
      return { request: { method: "GET", path } };
    },
  },
  {
    name: "oidc-refresh",
    label: "OIDC token (refresh_token grant, Basic)",
    async prepare(ctx) {
      const secret = randomSecret(32);
      const pool = await benchCodes(ctx, secret, 1);
      const path = `/oidc/${community(ctx)}/token`;
      const headers = { authorization: basic(pool.clientId, secret), ...form };
      const t = expect(
        await ctx.fetchJson("POST", path, new URLSearchParams({ grant_type: "authorization_code", code: pool.codes[0], redirect_uri: pool.redirectUri, code_verifier: pool.verifier }).toString(), headers),
        200,
        "code exchange",
      );
      if (typeof t.refresh_token !== "string") throw new Error("the code exchange issued no refresh token");
      // Each answer may rotate the refresh token: the next request sends the latest one.
      let rt = t.refresh_token;
      const body = () => new URLSearchParams({ grant_type: "refresh_token", refresh_token: rt }).toString();
      const probe = expect(await ctx.fetchJson("POST", path, body(), headers), 200, "refresh grant");
      if (probe.refresh_token) rt = probe.refresh_token;
      return {
        request: {
          method: "POST",
          path,
          headers,
          setupRequest: (req) => ({ ...req, body: body() }),
          onResponse: (status, text) => {
            try {
              const r = JSON.parse(text);
              if (status === 200 && r.refresh_token) rt = r.refresh_token;
            } catch {}
          },
        },
      };
    },
  },
  {
    name: "hosted-login-page",
    label: "hosted login page GET (authorize -> login)",
    async prepare(ctx) {
      const secret = randomSecret(32);
      const pool = await benchCodes(ctx, secret, 1);
      const q = new URLSearchParams({ client_id: pool.clientId, redirect_uri: pool.redirectUri, response_type: "code", scope: "openid", state: "s", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" });
      const path = `/oidc/${community(ctx)}/authorize?${q}`;
      const res = await fetch(`${ctx.url}${path}`, { redirect: "manual" });
      await res.arrayBuffer();
      if (res.status === 200) return { request: { method: "GET", path } };
      const loc = res.headers.get("location");
      if (res.status !== 302 && res.status !== 303) throw new Error(`authorize answered ${res.status}`);
      const page = new URL(loc, ctx.url);
      const p = await fetch(page, { redirect: "manual", headers: { cookie: res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ") } });
      await p.arrayBuffer();
      if (p.status !== 200) throw new Error(`the login page ${page.pathname} answered ${p.status}`);
      const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
      return { request: { method: "GET", path: `${page.pathname}${page.search}`, headers: cookie ? { cookie } : {} } };
    },
  },
  {
    name: "wsfed-sso",
    label: "Authn wsfed/sso (SAML 1.1 token, signed)",
    async prepare(ctx) {
      const s = await authnSetup(ctx);
      const realm = "urn:bench:wsfed-rp";
      const created = await authnCall(ctx, s, "PUT", `${s.base.replace(/^\/authn/, "")}/serviceprovider`, {
        name: "bench WS-Fed RP",
        type: "saml",
        saml_config: {
          entityId: realm,
          assertionConsumerServiceURL: "http://127.0.0.1:9/bench/wsfed",
          assertionMethod: "post",
          assertionSignRequired: true,
          nameid: { format: "emailAddress", value: "email", attribute_type: "identity" },
          attributes: [{ claim_name: "givenName", attribute_name: "given_name", attribute_type: "identity", value_type: "dynamic" }],
          wsfed: { enabled: true, tokenType: "saml11" },
        },
      });
      if (created.status !== 200 && created.status !== 400) throw new Error(`PUT serviceprovider answered ${created.status}: ${JSON.stringify(created.data)}`);
      const payload = JSON.stringify({ WSfedPayload: { wtrealm: realm, wa: "wsignin1.0" }, userSession: { user: { uid: ctx.demo.user.uid }, pon_data: {}, authenticator_data: {} } });
      const path = `${s.base}/wsfed/sso`;
      const probe = newCaller(s.curve, s.servicePublicKey);
      const r = await ctx.fetchJson("POST", path, JSON.stringify({ data: encrypt(payload, probe.sharedKey) }), envelopeHeaders(probe, s.licenseKey));
      expect(r, 200, "wsfed/sso");
      return {
        perConnection() {
          const caller = newCaller(s.curve, s.servicePublicKey);
          return { method: "POST", path, setupRequest: (req) => ({ ...req, headers: envelopeHeaders(caller, s.licenseKey), body: JSON.stringify({ data: encrypt(payload, caller.sharedKey) }) }) };
        },
      };
    },
  },
];
