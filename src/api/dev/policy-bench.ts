import { checkJourney, compilePolicy, decide, type CompiledPolicy, type Facts, type Journey } from "../../core/journeys";

/**
 * The micro-benchmark of the adaptive policy's evaluator (issue 10: "evaluation against 1,000
 * journeys in one community, p50 under 1 ms inside workerd"). workerd's clock does not advance
 * during pure computation (timers are coarsened against side channels), so `decide` cannot time
 * itself: GET /dev/policy-bench?n=N runs it N times in one request, and the benchmark derives
 * one evaluation from outside, as (p50 at n=N - p50 at n=0) / N (bench/scenarios/90-policy.mjs).
 *
 * The 1,000 synthetic journeys go through the real write-time validation (checkJourney) and
 * are compiled once per isolate, as the community cache would hold them. They mix every kind of
 * field: IPv4 and IPv6 ranges and CIDR, string sets, numbers, v2 app ids; most do not match
 * the queries, so a decision walks the whole list, the expensive case.
 */
export const POLICY_BENCH_JOURNEYS = 1000;
export const POLICY_BENCH_MAX_N = 10_000;

let compiled: CompiledPolicy | null = null;

function syntheticJourney(i: number): Journey {
  const actions = ["mfa_required", "grant_access", "deny_access"] as const;
  const rules: Record<string, unknown> = {
    groups: { value: [`group-${i}`, `group-${i + 1}`, `team-${i % 17}`], operator: i % 2 ? "overlap" : "in" },
    ip: { value: [`10.${i % 256}.0.0/16`, `192.0.2.${i % 200}-192.0.2.${(i % 200) + 50}`, `2001:db8:${(i % 65535).toString(16)}::/48`], operator: i % 3 === 0 ? "nin" : "in" },
  };
  if (i % 4 === 0) rules.usernames = { value: [`user-${i}`, `admin-${i}`], operator: "in" };
  if (i % 5 === 0) rules.mobileLocation = { value: i, operator: "gt" };
  if (i % 6 === 0) rules.requestingAppId = { value: `app-${i}`, operator: "eq" };
  if (i % 7 === 0) rules.machineNames = { value: [`host-${i}`], operator: "nooverlap" };
  const action = actions[i % 3]!;
  const input = checkJourney(2, {
    name: `bench-${i}`,
    enabled: true,
    priority: i % 10,
    ...rules,
    decision: { action, authenticationMethods: action === "mfa_required" ? ["password_and_otp", "fido", "idp_redirect"] : ["password"] },
  });
  return { id: `bench-${i.toString().padStart(4, "0")}`, tenantId: "bench", communityId: "bench", version: 2, ...input, createdAt: i, updatedAt: i };
}

/** The compiled synthetic policy, built on the first call in this isolate. */
export function benchPolicy(): CompiledPolicy {
  compiled ??= compilePolicy(Array.from({ length: POLICY_BENCH_JOURNEYS }, (_, i) => syntheticJourney(i)));
  return compiled;
}

/** Runs `decide` n times with varied facts; answers a checksum so the work cannot be skipped. */
export function runPolicyBench(n: number): { n: number; journeys: number; steps: Record<string, number> } {
  const policy = benchPolicy();
  const steps: Record<string, number> = {};
  for (let k = 0; k < n; k++) {
    const facts: Facts = {
      groups: [`team-${k % 23}`, `other-${k}`],
      usernames: [`user-${k % 3000}`],
      ip: k % 2 ? `172.16.${k % 256}.${k % 200}` : `2001:db9::${(k % 65535).toString(16)}`,
      mobileLocation: k % 1500,
      requestingAppId: [`app-${k % 2000}`],
    };
    const out = decide(policy, { facts, done: ["password"], versions: [2], enforceFallback: true });
    steps[out.step] = (steps[out.step] ?? 0) + 1;
  }
  return { n, journeys: POLICY_BENCH_JOURNEYS, steps };
}
