/**
 * The peers, measured in the same run as ours (issue 12, "The peers in the same run"): OpenAuth's
 * password issuer and better-auth's email-and-password sign-in, each in its own Worker under
 * bench/peers/<name>/ started by bench/run.mjs like ours (local mode, own persist dir). Each
 * scenario names its `peer`; run.mjs sends its load to that Worker's origin, and measures the
 * adjacent baseline (our GET /ping, the machine's yardstick) right before it as for every row.
 *
 * Rows, each beside ours:
 *   login         OpenAuth: the three requests a client makes (GET /authorize, POST
 *                 /password/authorize with the form, POST /token with the code), timed as one
 *                 chain (bench/lib/chain.mjs). better-auth: POST /api/auth/sign-in/email.
 *   derivation    one derivation of the peer's own password hash (POST /bench/scrypt), the pair
 *                 partner of its login at one connection, as our pbkdf2 is of our login.
 *   refresh       OpenAuth: POST /token grant_type=refresh_token, each connection chaining its
 *                 own rotating token. better-auth has no refresh token (a session is a row the
 *                 cookie names, extended in place by get-session): no row.
 *   verification  OpenAuth: its client's verify() in the peer Worker (GET /bench/verify).
 *                 better-auth: GET /api/auth/get-session with the session cookie.
 *   bare route    GET /ping in the peer's Worker: its own floor under wrangler dev.
 */

const email = (u) => `${u.username}@example.com`;

/** Seeds each benchmark user in a peer once per run (memoised on ctx). */
function seeded(ctx, peer, seed) {
  ctx.peerSeeds ??= {};
  ctx.peerSeeds[peer] ??= seed();
  return ctx.peerSeeds[peer];
}

// ---------------------------------------------------------------- OpenAuth

const OA_CLIENT = "bench";

async function openauthSeed(ctx) {
  const url = ctx.peers.openauth.url;
  const res = await fetch(`${url}/bench/seed`, { method: "POST", body: JSON.stringify({ users: ctx.benchUsers.map((u) => ({ email: email(u), password: u.password })) }) });
  if (res.status !== 200) throw new Error(`openauth seed answered ${res.status}`);
}

/**
 * One OpenAuth password login as a client makes it: the token answer, or `{ failed }` naming the
 * step that answered otherwise.
 */
async function openauthLogin(url, user) {
  const redirect = `${url}/callback`;
  const state = crypto.randomUUID();
  const a = await fetch(`${url}/authorize?client_id=${OA_CLIENT}&redirect_uri=${encodeURIComponent(redirect)}&response_type=code&provider=password&state=${state}`, { redirect: "manual" });
  await a.arrayBuffer();
  if (a.status !== 302) return { failed: `GET /authorize answered ${a.status}` };
  const cookie = a.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const p = await fetch(`${url}/password/authorize`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: email(user), password: user.password }),
  });
  const page = await p.text();
  const code = p.status === 302 ? new URL(p.headers.get("location") ?? "", url).searchParams.get("code") : null;
  if (!code) return { failed: `POST /password/authorize answered ${p.status} ${p.headers.get("location") ?? page.slice(0, 200)}` };
  const t = await fetch(`${url}/token`, { method: "POST", body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirect, client_id: OA_CLIENT }) });
  const body = await t.json().catch(() => null);
  return t.status === 200 && body?.access_token ? body : { failed: `POST /token answered ${t.status} ${JSON.stringify(body)}` };
}

/**
 * A login that must succeed (preparation, not load). OpenAuth 0.4.3's CloudflareStorage turns
 * its 60 s code TTL into 59 s when the clock crosses a second between the two computations, and
 * KV refuses TTLs under 60 (anomalyco/openauth#302): such a login fails at random, often several
 * in a row under load. Preparation tries again (up to ten times); under load the failures are
 * counted as non-2xx.
 */
async function openauthTokens(url, user) {
  let t;
  for (let attempt = 1; attempt <= 10; attempt++) {
    t = await openauthLogin(url, user);
    if (!t.failed) return t;
  }
  throw new Error(`openauth login: ${t.failed}`);
}

const openauth = [
  {
    name: "openauth-ping",
    label: "OpenAuth Worker: bare route",
    peer: "openauth",
    async prepare() {
      return { request: { method: "GET", path: "/ping" } };
    },
  },
  {
    name: "openauth-login",
    label: "OpenAuth: password login (3 requests)",
    peer: "openauth",
    compareLatencyWith: "openauth-scrypt",
    async prepare(ctx) {
      await seeded(ctx, "openauth", () => openauthSeed(ctx));
      await openauthTokens(ctx.peers.openauth.url, ctx.benchUsers[0]);
      return {
        chain(i) {
          const user = ctx.benchUsers[i % ctx.benchUsers.length];
          return async (url) => (await openauthLogin(url, user)).failed ?? true;
        },
      };
    },
  },
  {
    name: "openauth-scrypt",
    label: "OpenAuth: one scrypt derivation",
    peer: "openauth",
    async prepare() {
      return { request: { method: "POST", path: "/bench/scrypt" } };
    },
  },
  {
    name: "openauth-refresh",
    label: "OpenAuth: refresh (rotating)",
    peer: "openauth",
    async prepare(ctx) {
      await seeded(ctx, "openauth", () => openauthSeed(ctx));
      const sessions = [];
      return {
        // Fresh tokens before every run, as our refresh-rotating does: a run that ends
        // mid-request leaves a token used without its answer read.
        async beforeRun() {
          sessions.length = 0;
          for (let i = 0; i < ctx.connections; i++) {
            const t = await openauthTokens(ctx.peers.openauth.url, ctx.benchUsers[i % ctx.benchUsers.length]);
            sessions.push({ refreshToken: t.refresh_token });
          }
        },
        perConnection(i) {
          return {
            method: "POST",
            path: "/token",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            setupRequest: (req) => ({ ...req, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: sessions[i % sessions.length].refreshToken }).toString() }),
            onResponse: (status, body) => {
              if (status !== 200) return;
              try {
                const next = JSON.parse(body).refresh_token;
                if (next) sessions[i % sessions.length].refreshToken = next;
              } catch {}
            },
          };
        },
      };
    },
  },
  {
    name: "openauth-verify",
    label: "OpenAuth: verify token (client.verify)",
    peer: "openauth",
    async prepare(ctx) {
      await seeded(ctx, "openauth", () => openauthSeed(ctx));
      const t = await openauthTokens(ctx.peers.openauth.url, ctx.benchUsers[0]);
      const headers = { authorization: `Bearer ${t.access_token}` };
      const probe = await fetch(`${ctx.peers.openauth.url}/bench/verify`, { headers });
      if (probe.status !== 200) throw new Error(`openauth verify answered ${probe.status}`);
      return { request: { method: "GET", path: "/bench/verify", headers } };
    },
  },
];

// ---------------------------------------------------------------- better-auth

/** better-auth checks the Origin of every POST (CSRF); a browser on the app's origin sends it. */
const baHeaders = (ctx) => ({ "content-type": "application/json", origin: ctx.peers["better-auth"].url });

async function betterAuthSeed(ctx) {
  const url = ctx.peers["better-auth"].url;
  for (const u of ctx.benchUsers) {
    const res = await fetch(`${url}/api/auth/sign-up/email`, { method: "POST", headers: baHeaders(ctx), body: JSON.stringify({ email: email(u), password: u.password, name: u.username }) });
    if (res.status !== 200) throw new Error(`better-auth sign-up answered ${res.status}: ${await res.text()}`);
  }
}

async function betterAuthSignIn(ctx, u) {
  const res = await fetch(`${ctx.peers["better-auth"].url}/api/auth/sign-in/email`, { method: "POST", headers: baHeaders(ctx), body: JSON.stringify({ email: email(u), password: u.password }) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`better-auth sign-in answered ${res.status}`);
  return res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
}

const betterAuth = [
  {
    name: "better-auth-ping",
    label: "better-auth Worker: bare route",
    peer: "better-auth",
    async prepare() {
      return { request: { method: "GET", path: "/ping" } };
    },
  },
  {
    name: "better-auth-login",
    label: "better-auth: sign-in/email",
    peer: "better-auth",
    compareLatencyWith: "better-auth-scrypt",
    // Its pair at one connection goes through the chain runner like the other two logins'.
    chainPair: true,
    async prepare(ctx) {
      await seeded(ctx, "better-auth", () => betterAuthSeed(ctx));
      await betterAuthSignIn(ctx, ctx.benchUsers[0]);
      return {
        perConnection(i) {
          const u = ctx.benchUsers[i % ctx.benchUsers.length];
          return { method: "POST", path: "/api/auth/sign-in/email", headers: baHeaders(ctx), body: JSON.stringify({ email: email(u), password: u.password }) };
        },
      };
    },
  },
  {
    name: "better-auth-scrypt",
    label: "better-auth: one scrypt derivation",
    peer: "better-auth",
    async prepare() {
      return { request: { method: "POST", path: "/bench/scrypt" } };
    },
  },
  {
    name: "better-auth-session",
    label: "better-auth: get-session (cookie)",
    peer: "better-auth",
    async prepare(ctx) {
      await seeded(ctx, "better-auth", () => betterAuthSeed(ctx));
      const cookie = await betterAuthSignIn(ctx, ctx.benchUsers[0]);
      const probe = await fetch(`${ctx.peers["better-auth"].url}/api/auth/get-session`, { headers: { cookie } });
      const body = await probe.json().catch(() => null);
      if (probe.status !== 200 || !body?.session) throw new Error(`better-auth get-session answered ${probe.status} without a session`);
      return { request: { method: "GET", path: "/api/auth/get-session", headers: { cookie } } };
    },
  },
];

// ---------------------------------------------------------------- ours, through the chain runner

/**
 * Our login driven by the same runner as OpenAuth's chain (Node's fetch instead of autocannon),
 * so the two logins' figures share a client; `login` (20-login.mjs) is the autocannon row.
 */
const ours = [
  {
    name: "login-chain",
    label: "ours: password login (chain runner)",
    compareLatencyWith: "pbkdf2",
    async prepare(ctx) {
      return {
        chain(i) {
          const u = ctx.benchUsers[i % ctx.benchUsers.length];
          const body = JSON.stringify({ username: u.username, password: u.password });
          return async (url) => {
            const res = await fetch(`${url}/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body });
            await res.arrayBuffer();
            return res.status === 200;
          };
        },
      };
    },
  },
];

export default [...ours, ...openauth, ...betterAuth];
