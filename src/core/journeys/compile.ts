/**
 * The adaptive policy's evaluator (issue 10; seed 004 "Auth Policy" evaluate, "Auth Policy V2"
 * evaluate and auth_schemes). Pure: journeys in, a compiled matcher out; facts in, an outcome
 * out. policy.ts caches the compiled form per community per isolate.
 *
 * Semantics (the contract of issue 10; docs/api/authn.md says the same to clients):
 * - A journey matches when every condition it has holds (AND); a journey without conditions
 *   matches every login. Disabled journeys never match.
 * - An unknown fact (left out, `null`, or an IP that does not parse) is in no set, equal to
 *   nothing and in no range: `nin`, `neq` and `nooverlap` hold for it, every other operator
 *   does not. So "ip nin office-range -> mfa_required" also catches a login whose IP is
 *   unknown: the safe side.
 * - String sets (groups, deviceIds, applications, usernames, domain, machine*; and v2's
 *   requestingAppId, relyingAppId, appConfigId): the fact is a list. in: the list is non-empty
 *   and every element is in the value set; nin and nooverlap: no element is; overlap: at least
 *   one is. eq is `in [value]`, neq is `nin [value]`. usernames and domain compare
 *   case-insensitively, everything else exactly.
 * - ip: in and in_range: the address lies in one of the value's addresses, ranges or blocks;
 *   nin: in none. IPv4-mapped IPv6 compares as IPv4 (ip.ts).
 * - mobileLocation: the number compares with eq, neq, gt, gte, lt, lte.
 * - Precedence among matching journeys: action deny_access > mfa_required > grant_access; then
 *   priority (higher first); then creation time (older first); then id. The winner decides alone.
 * - Journeys of category `adaptive_auth_fallback_policy_v2` (v2) never take part in the normal
 *   evaluation. When no normal journey matches and the fallback is enforced, the fallback
 *   journeys are evaluated the same way; `fallbackOnly` (v2 evaluate `type: "fallback"`)
 *   evaluates only them. v1 evaluation uses the v2 fallback journeys too (v1 has no category).
 *   Nothing matches: the community's default, grant_access with methods ["password"].
 * - Outcome: deny_access -> step deny_access; grant_access -> step grant_access; mfa_required ->
 *   grant_access when the factors already done complete one alternative, else need_mfa with
 *   allowedFactors = each alternative's missing factors, flattened, de-duplicated, in order. (An
 *   mfa_required journey without alternatives cannot be written; were one stored, it denies.)
 *
 * Compiled form: journeys pre-sorted by precedence, so evaluation stops at the first match;
 * each condition a closure over a hash set, sorted merged IP intervals (binary search; IPv4 as
 * numbers, IPv6 as bigints) or a number. Per evaluation the facts are prepared once (lower-cased
 * where needed, the IP parsed once); nothing else is allocated until the outcome.
 */
import { FIELD_KIND } from "./validate";
import { inIntervals, intervalSets, parseAddress, parseIpValue, type Interval } from "./ip";
import { splitMethod } from "./factors";
import { FALLBACK_CATEGORY, type Action, type AuthScheme, type Condition, type Facts, type Journey, type JourneyVersion, type PolicyOutcome, type RuleField } from "./model";

export interface PolicyQuery {
  facts: Facts;
  /** Factors already done (factor names, factors.ts). */
  done: readonly string[];
  /** Which API versions' normal journeys take part (fallback journeys are v2 whatever this says). */
  versions: readonly JourneyVersion[];
  enforceFallback: boolean;
  /** v2 evaluate `type: "fallback"`: only the fallback journeys (then the default). */
  fallbackOnly?: boolean;
}

/** List facts by index, so that a prepared facts object has one shape. */
const LIST_FIELDS = ["groups", "deviceIds", "applications", "usernames", "domain", "machineNames", "machineIds", "machineUsers", "requestingAppId", "relyingAppId", "appConfigId"] as const;
type ListField = (typeof LIST_FIELDS)[number];
const LIST_INDEX: Readonly<Record<ListField, number>> = Object.fromEntries(LIST_FIELDS.map((f, i) => [f, i])) as Record<ListField, number>;
/** Fields compared case-insensitively (logins and domains are). */
const FOLDED: ReadonlySet<RuleField> = new Set<RuleField>(["usernames", "domain"]);

interface Prepared {
  lists: (readonly string[] | undefined)[];
  /** 0 unknown, 4 or 6. */
  ipFamily: 0 | 4 | 6;
  ip4: number;
  ip6: bigint;
  mobileLocation: number | undefined;
}

type Test = (f: Prepared) => boolean;

interface CompiledJourney {
  journey: Journey;
  version: JourneyVersion;
  action: Action;
  tests: Test[];
  /** The decision's alternatives, each as its factors. */
  alternatives: string[][];
  /** auth_schemes' `factors`: every alternative's factors, de-duplicated, in order. */
  schemeFactors: string[];
}

/** A community's journeys, compiled: both lists sorted by precedence, enabled journeys only. */
export interface CompiledPolicy {
  normal: readonly CompiledJourney[];
  fallback: readonly CompiledJourney[];
}

const ACTION_RANK: Readonly<Record<Action, number>> = { deny_access: 0, mfa_required: 1, grant_access: 2 };

const never: Test = () => false;

function setTest(field: ListField, operator: string, values: readonly string[]): Test {
  const idx = LIST_INDEX[field];
  const set = new Set(FOLDED.has(field) ? values.map((v) => v.toLowerCase()) : values);
  switch (operator) {
    case "in":
    case "eq":
      return (f) => {
        const xs = f.lists[idx];
        if (xs === undefined || xs.length === 0) return false;
        for (const x of xs) if (!set.has(x)) return false;
        return true;
      };
    case "overlap":
      return (f) => {
        const xs = f.lists[idx];
        if (xs === undefined) return false;
        for (const x of xs) if (set.has(x)) return true;
        return false;
      };
    case "nin":
    case "neq":
    case "nooverlap":
      return (f) => {
        const xs = f.lists[idx];
        if (xs === undefined) return true;
        for (const x of xs) if (set.has(x)) return false;
        return true;
      };
    default:
      // validate.ts admits no other operator; a stored one that slipped through never matches.
      return never;
  }
}

function ipTest(operator: string, value: string | string[]): Test {
  const parsed: Interval[] = [];
  for (const v of typeof value === "string" ? [value] : value) {
    const p = parseIpValue(v);
    if (typeof p !== "string") parsed.push(p);
  }
  const { v4, v6 } = intervalSets(parsed);
  const inside: Test = (f) => (f.ipFamily === 4 ? inIntervals(v4, f.ip4) : f.ipFamily === 6 ? inIntervals(v6, f.ip6) : false);
  if (operator === "in" || operator === "in_range") return inside;
  if (operator === "nin") return (f) => !inside(f);
  return never;
}

function numberTest(operator: string, n: number): Test {
  switch (operator) {
    case "eq":
      return (f) => f.mobileLocation !== undefined && f.mobileLocation === n;
    case "neq":
      return (f) => f.mobileLocation === undefined || f.mobileLocation !== n;
    case "gt":
      return (f) => f.mobileLocation !== undefined && f.mobileLocation > n;
    case "gte":
      return (f) => f.mobileLocation !== undefined && f.mobileLocation >= n;
    case "lt":
      return (f) => f.mobileLocation !== undefined && f.mobileLocation < n;
    case "lte":
      return (f) => f.mobileLocation !== undefined && f.mobileLocation <= n;
    default:
      return never;
  }
}

function conditionTest(field: RuleField, c: Condition): Test {
  switch (FIELD_KIND[field]) {
    case "ip":
      return typeof c.value === "number" ? never : ipTest(c.operator, c.value);
    case "number":
      return typeof c.value === "number" ? numberTest(c.operator, c.value) : never;
    case "set":
    case "app":
      if (typeof c.value === "number") return never;
      return setTest(field as ListField, c.operator, typeof c.value === "string" ? [c.value] : c.value);
    default:
      // A field this build does not know (stored by a newer one): the journey must not match on a guess.
      return never;
  }
}

function dedupe(xs: readonly string[]): string[] {
  const out: string[] = [];
  for (const x of xs) if (!out.includes(x)) out.push(x);
  return out;
}

function compileJourney(j: Journey): CompiledJourney {
  const tests: Test[] = [];
  for (const [field, c] of Object.entries(j.rules) as [RuleField, Condition | undefined][]) {
    if (c) tests.push(conditionTest(field, c));
  }
  const alternatives = j.decision.authenticationMethods.map(splitMethod);
  const mfaWithoutWay = j.decision.action === "mfa_required" && alternatives.length === 0;
  return {
    journey: j,
    version: j.version,
    action: mfaWithoutWay ? "deny_access" : j.decision.action,
    tests,
    alternatives,
    schemeFactors: dedupe(alternatives.flat()),
  };
}

/** Total order of precedence (see the top of this file): negative when `a` wins. */
function precedence(a: CompiledJourney, b: CompiledJourney): number {
  return (
    ACTION_RANK[a.action] - ACTION_RANK[b.action] ||
    b.journey.priority - a.journey.priority ||
    a.journey.createdAt - b.journey.createdAt ||
    (a.journey.id < b.journey.id ? -1 : a.journey.id > b.journey.id ? 1 : 0)
  );
}

/** Compiles a community's journeys (both versions, one snapshot). */
export function compilePolicy(journeys: readonly Journey[]): CompiledPolicy {
  const normal: CompiledJourney[] = [];
  const fallback: CompiledJourney[] = [];
  for (const j of journeys) {
    if (!j.enabled) continue;
    const c = compileJourney(j);
    if (j.version === 2 && j.category === FALLBACK_CATEGORY) fallback.push(c);
    else normal.push(c);
  }
  normal.sort(precedence);
  fallback.sort(precedence);
  return { normal, fallback };
}

function prepare(facts: Facts): Prepared {
  const lists: (readonly string[] | undefined)[] = new Array<readonly string[] | undefined>(LIST_FIELDS.length);
  for (let i = 0; i < LIST_FIELDS.length; i++) {
    const field = LIST_FIELDS[i]!;
    const xs = facts[field];
    lists[i] = xs === undefined ? undefined : FOLDED.has(field) ? xs.map((x) => x.toLowerCase()) : xs;
  }
  const a = facts.ip === undefined ? null : parseAddress(facts.ip);
  const m = facts.mobileLocation;
  return {
    lists,
    ipFamily: a ? a.family : 0,
    ip4: a ? a.v4 : 0,
    ip6: a ? a.v6 : 0n,
    mobileLocation: typeof m === "number" && Number.isFinite(m) ? m : undefined,
  };
}

function matches(c: CompiledJourney, f: Prepared): boolean {
  for (const t of c.tests) if (!t(f)) return false;
  return true;
}

function wanted(versions: readonly JourneyVersion[]): (v: JourneyVersion) => boolean {
  const v1 = versions.includes(1);
  const v2 = versions.includes(2);
  return (v) => (v === 1 ? v1 : v2);
}

const DEFAULT_METHODS: readonly string[] = ["password"];

function outcome(action: Action, alternatives: readonly (readonly string[])[], done: readonly string[], journey: Journey | null, source: PolicyOutcome["source"]): PolicyOutcome {
  if (action === "deny_access") return { step: "deny_access", allowedFactors: [], idps: [], journey, source };
  if (action === "grant_access") return { step: "grant_access", allowedFactors: [], idps: [], journey, source };
  const allowed: string[] = [];
  for (const alt of alternatives) {
    let complete = true;
    for (const f of alt) {
      if (done.includes(f)) continue;
      complete = false;
      if (!allowed.includes(f)) allowed.push(f);
    }
    if (complete) return { step: "grant_access", allowedFactors: [], idps: [], journey, source };
  }
  return { step: "need_mfa", allowedFactors: allowed, idps: [], journey, source };
}

/** What the policy says about a login (see the top of this file). `idps` is always [] here (policy.ts fills it). */
export function decide(policy: CompiledPolicy, q: PolicyQuery): PolicyOutcome {
  const f = prepare(q.facts);
  if (!q.fallbackOnly) {
    const ok = wanted(q.versions);
    for (const c of policy.normal) if (ok(c.version) && matches(c, f)) return outcome(c.action, c.alternatives, q.done, c.journey, "journey");
  }
  if (q.fallbackOnly || q.enforceFallback) {
    for (const c of policy.fallback) if (matches(c, f)) return outcome(c.action, c.alternatives, q.done, c.journey, "fallback");
  }
  return outcome("grant_access", [DEFAULT_METHODS], q.done, null, "default");
}

/** The default's scheme, when nothing matches (v2 auth_schemes). */
export const DEFAULT_SCHEME: Readonly<AuthScheme> = { factors: ["password"], authenticationJourneyV2Id: "default", result: "grant_access" };

const schemeOf = (c: CompiledJourney): AuthScheme => ({ factors: [...c.schemeFactors], authenticationJourneyV2Id: c.journey.id, result: c.action });

/**
 * v2 `auth_policy/auth_schemes`: one scheme per matching normal journey, in precedence order;
 * none: the matching fallback journeys when enforced (or `fallbackOnly`); none: the default.
 */
export function schemesOf(policy: CompiledPolicy, q: PolicyQuery): AuthScheme[] {
  const f = prepare(q.facts);
  const out: AuthScheme[] = [];
  if (!q.fallbackOnly) {
    const ok = wanted(q.versions);
    for (const c of policy.normal) if (ok(c.version) && matches(c, f)) out.push(schemeOf(c));
  }
  if (out.length === 0 && (q.fallbackOnly || q.enforceFallback)) {
    for (const c of policy.fallback) if (matches(c, f)) out.push(schemeOf(c));
  }
  if (out.length === 0) out.push({ ...DEFAULT_SCHEME, factors: [...DEFAULT_SCHEME.factors] });
  return out;
}
