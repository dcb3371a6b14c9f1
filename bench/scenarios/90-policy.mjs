import { authnSetup, encrypt, envelopeHeaders, newCaller } from "../lib/authn-envelope.mjs";

/**
 * The adaptive policy of issue 10 (docs/benchmarks.md "Adaptive policy"):
 *
 * - `policy-evaluate`: Authn `POST /v2/.../auth_policy/evaluate` (seed 004, plain body as the
 *   document shows, licensed headers) in a community holding 1,000 v2 journeys, as a ratio to
 *   the bare route. The compiled policy is cached per isolate (10 s), so this is the guard
 *   (envelope headers, request-id claim in its Durable Object), the facts, one decision and the
 *   signed answer; a recompile every 10 s (one D1 read of 1,000 rows) is inside the figure.
 *   Beside it at one connection, `policy-evaluate-v1`: v1 evaluate in the same community, which
 *   has no v1 journeys: the same route minus the decision among 1,000 journeys.
 * - `policy-decide` beside `policy-decide-bare`: the dev-only GET /dev/policy-bench runs the
 *   evaluator (`decide`) N times per request against 1,000 synthetic journeys compiled once per
 *   isolate (src/api/dev/policy-bench.ts). workerd's clock does not advance during pure
 *   computation, so one decision is timed from outside: (p50 at n=N - p50 at n=0) / N, at one
 *   connection (bench/run.mjs `perOp`). The issue asks p50 under 1 ms.
 */
const JOURNEYS = 1000;
const N = 10_000;
const PARALLEL = 8;

/** The i-th benchmark journey: every kind of field, most not matching the evaluated facts. */
function journey(i) {
  const actions = ["mfa_required", "grant_access", "deny_access"];
  const action = actions[i % 3];
  const body = {
    name: `bench-${i}`,
    enabled: true,
    priority: i % 10,
    groups: { value: [`group-${i}`, `team-${i % 17}`], operator: i % 2 ? "overlap" : "in" },
    ip: { value: [`10.${i % 256}.0.0/16`, `192.0.2.${i % 200}-192.0.2.${(i % 200) + 50}`, `2001:db8:${i.toString(16)}::/48`], operator: i % 3 === 0 ? "nin" : "in" },
    decision: { action, authenticationMethods: action === "mfa_required" ? ["password_and_otp", "fido"] : ["password"] },
  };
  if (i % 4 === 0) body.usernames = { value: [`user-${i}`], operator: "in" };
  if (i % 6 === 0) body.requestingAppId = { value: `app-${i}`, operator: "eq" };
  return body;
}

async function createJourneys(ctx, s) {
  const caller = newCaller(s.curve, s.servicePublicKey);
  const path = `${s.base}/authenticationJourney`.replace(/^\/authn\/tenant/, "/authn/v2/tenant");
  let next = 0;
  const worker = async () => {
    while (next < JOURNEYS) {
      const i = next++;
      const body = JSON.stringify({ data: encrypt(JSON.stringify(journey(i)), caller.sharedKey) });
      const r = await ctx.fetchJson("PUT", path, body, envelopeHeaders(caller, s.licenseKey));
      if (r.status !== 200) throw new Error(`PUT v2 authenticationJourney #${i} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

const FACTS = JSON.stringify({ facts: { groups: ["team-3", "sales"], IP: "172.16.5.9", username: "user-7", requestingAppId: "app-5", authenticationMethods: ["password"] }, enforceFallbackPolicy: true });
let created = null;

/** A plain evaluate request (the document's form) from one caller key per connection. */
async function evaluateRequest(ctx, version) {
  const s = await authnSetup(ctx);
  if (!created) {
    const started = Date.now();
    created = createJourneys(ctx, s).then(() => console.log(`(created ${JOURNEYS} v2 journeys in ${((Date.now() - started) / 1000).toFixed(1)} s) `));
  }
  await created;
  const path = `${s.base}/auth_policy/evaluate`.replace(/^\/authn\/tenant/, version === 2 ? "/authn/v2/tenant" : "/authn/tenant");
  const probe = newCaller(s.curve, s.servicePublicKey);
  const r = await ctx.fetchJson("POST", path, FACTS, envelopeHeaders(probe, s.licenseKey));
  if (r.status !== 200 || !r.body?.next?.step || !r.body?.signature_token) throw new Error(`auth_policy/evaluate answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
  return {
    perConnection() {
      const caller = newCaller(s.curve, s.servicePublicKey);
      return { method: "POST", path, setupRequest: (req) => ({ ...req, headers: envelopeHeaders(caller, s.licenseKey), body: FACTS }) };
    },
  };
}

export default [
  {
    name: "policy-evaluate",
    label: "authn v2 auth_policy/evaluate (1,000 journeys)",
    // Beside v1 evaluate at one connection: the same guard, facts, cache look-up and signed
    // answer, but no v1 journey to decide among (the 1,000 are v2), so the difference is the
    // decision against 1,000 journeys.
    compareLatencyWith: "policy-evaluate-v1",
    prepare: (ctx) => evaluateRequest(ctx, 2),
  },
  {
    name: "policy-evaluate-v1",
    label: "authn v1 auth_policy/evaluate (no v1 journeys)",
    prepare: (ctx) => evaluateRequest(ctx, 1),
  },
  {
    name: "policy-decide-bare",
    label: "dev policy-bench n=0 (no decision)",
    async prepare(ctx) {
      const r = await ctx.fetchJson("GET", "/dev/policy-bench?n=0");
      if (r.status !== 200) throw new Error(`/dev/policy-bench answered ${r.status}`);
      return { request: { method: "GET", path: "/dev/policy-bench?n=0" } };
    },
  },
  {
    name: "policy-decide",
    label: `dev policy-bench n=${N} (decide x ${N}, 1,000 journeys)`,
    compareLatencyWith: "policy-decide-bare",
    perOp: N,
    budget: { maxPerOpMs: 1 },
    connections: 1,
    async prepare(ctx) {
      const r = await ctx.fetchJson("GET", `/dev/policy-bench?n=${N}`);
      if (r.status !== 200 || r.body?.n !== N) throw new Error(`/dev/policy-bench?n=${N} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
      return { request: { method: "GET", path: `/dev/policy-bench?n=${N}` } };
    },
  },
];
