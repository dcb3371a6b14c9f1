import { randomSecret } from "../../scripts/lib/worker.mjs";

/**
 * The OpenID Provider's two hot back-channel routes (docs/api/oidc.md), as ratios to the bare
 * route:
 * - the code exchange (POST /oidc/<community>/token, authorization_code + PKCE, Basic): one
 *   fresh code per request, minted before each run by the dev-only POST /dev/oidc-codes (the
 *   hosted login's part, without a browser). Per request: the code's KV read, its single use in
 *   the ReplayGuard, the user's row, the family opened in the TokenAuthority, the session
 *   record written to KV, three signatures (access, ID, at_hash is a hash).
 * - userinfo (GET /oidc/<community>/userinfo): a bearer access token verified (signature
 *   cache, the TokenAuthority's 1 s answer), the user's row (1 s cache), the claims mapped.
 */
const POOL = 3000;
/** Codes per minting request: thousands of KV writes in one local request made wrangler restart the Worker. */
const CHUNK = 250;

async function mint(ctx, secret, total = POOL) {
  let pool = null;
  while (!pool || pool.codes.length < total) {
    const r = await ctx.fetchJson("POST", "/dev/oidc-codes", { tenantId: ctx.demo.tenantId, communityId: ctx.demo.communityId, uid: ctx.demo.user.uid, clientSecret: secret, count: Math.min(CHUNK, total - (pool?.codes.length ?? 0)) });
    if (r.status !== 200) throw new Error(`POST /dev/oidc-codes answered ${r.status}: ${JSON.stringify(r.body)}`);
    pool = pool ? { ...pool, codes: [...pool.codes, ...r.body.codes] } : r.body;
  }
  return pool;
}

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

export default [
  {
    name: "oidc-code-exchange",
    label: "OIDC code exchange (token, PKCE, Basic)",
    budget: { minRatio: 0.3 },
    async prepare(ctx) {
      const secret = randomSecret(32);
      const path = `/oidc/${encodeURIComponent(ctx.demo.communityId)}/token`;
      let pool = await mint(ctx, secret);
      let next = 0;
      const headers = { authorization: basic(pool.clientId, secret), "content-type": "application/x-www-form-urlencoded" };
      const form = (code) => new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: pool.redirectUri, code_verifier: pool.verifier }).toString();
      const probe = await ctx.fetchJson("POST", path, form(pool.codes[next++]), headers);
      if (probe.status !== 200) throw new Error(`code exchange answered ${probe.status}: ${JSON.stringify(probe.body)}`);
      return {
        // Codes live 60 s and are single use: a fresh pool right before every run.
        beforeRun: async () => {
          pool = await mint(ctx, secret);
          next = 0;
        },
        request: { method: "POST", path, headers, setupRequest: (req) => ({ ...req, body: form(pool.codes[next++ % pool.codes.length]) }) },
      };
    },
  },
  {
    name: "oidc-userinfo",
    label: "OIDC userinfo (bearer)",
    budget: { minRatio: 0.7 },
    async prepare(ctx) {
      const secret = randomSecret(32);
      const pool = await mint(ctx, secret, 1);
      const r = await ctx.fetchJson(
        "POST",
        `/oidc/${encodeURIComponent(ctx.demo.communityId)}/token`,
        new URLSearchParams({ grant_type: "authorization_code", code: pool.codes[0], redirect_uri: pool.redirectUri, code_verifier: pool.verifier }).toString(),
        { authorization: basic(pool.clientId, secret), "content-type": "application/x-www-form-urlencoded" },
      );
      if (r.status !== 200) throw new Error(`code exchange for a token answered ${r.status}`);
      const path = `/oidc/${encodeURIComponent(ctx.demo.communityId)}/userinfo`;
      const headers = { authorization: `Bearer ${r.body.access_token}` };
      const probe = await ctx.fetchJson("GET", path, undefined, headers);
      if (probe.status !== 200) throw new Error(`userinfo answered ${probe.status}`);
      return { request: { method: "GET", path, headers } };
    },
  },
];
