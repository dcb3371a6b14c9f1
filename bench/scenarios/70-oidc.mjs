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
/** Codes per connection for one run (a run of a few seconds uses a few hundred at most). */
const POOL = 300;
/** Codes per minting request: thousands of KV writes in one local request are slow. */
const CHUNK = 250;

/**
 * Codes for one user (the connection's own benchmark user, so that connections do not queue
 * on one user's TokenAuthority, as real sign-ins of different people would not).
 */
async function mint(ctx, secret, username, total = POOL) {
  let pool = null;
  while (!pool || pool.codes.length < total) {
    const r = await ctx.fetchJson("POST", "/dev/oidc-codes", { tenantId: ctx.demo.tenantId, communityId: ctx.demo.communityId, username, clientSecret: secret, count: Math.min(CHUNK, total - (pool?.codes.length ?? 0)) });
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
    budget: { minRatio: 0.2 },
    async prepare(ctx) {
      const secret = randomSecret(32);
      const path = `/oidc/${encodeURIComponent(ctx.demo.communityId)}/token`;
      const users = ctx.benchUsers.map((u) => u.username);
      let pools = [];
      const refill = async () => {
        pools = [];
        for (const u of users) pools.push({ ...(await mint(ctx, secret, u)), next: 0 });
      };
      await refill();
      const first = pools[0];
      const headers = { authorization: basic(first.clientId, secret), "content-type": "application/x-www-form-urlencoded" };
      const form = (pool) => new URLSearchParams({ grant_type: "authorization_code", code: pool.codes[pool.next++ % pool.codes.length], redirect_uri: pool.redirectUri, code_verifier: pool.verifier }).toString();
      const probe = await ctx.fetchJson("POST", path, form(first), headers);
      if (probe.status !== 200) throw new Error(`code exchange answered ${probe.status}: ${JSON.stringify(probe.body)}`);
      return {
        // Codes live 60 s and are single use: fresh pools right before every run.
        beforeRun: refill,
        perConnection(i) {
          return { method: "POST", path, headers, setupRequest: (req) => ({ ...req, body: form(pools[i % pools.length]) }) };
        },
      };
    },
  },
  {
    name: "oidc-userinfo",
    label: "OIDC userinfo (bearer)",
    budget: { minRatio: 0.7 },
    async prepare(ctx) {
      const secret = randomSecret(32);
      const pool = await mint(ctx, secret, ctx.benchUsers[0].username, 1);
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
