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
 * each condition a record of one shape holding a hash set, sorted merged IP intervals (binary
 * search; IPv4 as numbers in Float64Arrays, IPv6 as bigints) or a number. A journey with a condition that needs
 * one of its values among the facts (in, overlap, eq on a list field) is filed in an inverted
 * index under each of that condition's values (the condition with the fewest); the others are
 * always candidates. An evaluation marks the candidates its facts reach in a reusable bitset
 * (evaluation is synchronous, so one per compiled list suffices) and tests only those, in
 * precedence order: cost grows with the facts and the candidates, not with every journey. A
 * journey's tests (IP intervals, hash sets) are built the first time it is a candidate, so a
 * compile is a sort and an index, and journeys no login reaches cost nothing more. The facts
 * are prepared once (lower-cased where needed, the IP parsed once); nothing else is
 * allocated until the outcome.
 */
import { FIELD_KIND } from "./validate";
import { intervalSets, parseAddress, parseIpValue, type Interval } from "./ip";
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

interface CompiledJourney {
  journey: Journey;
  version: JourneyVersion;
  action: Action;
  /** The conditions' tests, built on the journey's first test (most journeys are never candidates). */
  tests: Test[] | null;
  /** The decision's alternatives, each as its factors (built when first needed: only winners need them). */
  alternatives: string[][] | null;
  /** The inverted index's key: a list fact one of whose (folded) values the journey needs; null: always a candidate. */
  key: { list: number; values: readonly string[] } | null;
}

/** One list of journeys in precedence order, with its inverted index (see the top of this file). */
interface Matcher {
  journeys: readonly CompiledJourney[];
  /** Bitset of positions without an index key: always candidates. */
  always: Int32Array;
  /** Per list fact (LIST_FIELDS index): value -> positions of the journeys that need it. */
  index: (Map<string, number[]> | undefined)[];
  /** Bitset of this evaluation's candidates; reused (evaluation is synchronous). */
  scratch: Int32Array;
}

/** A community's journeys, compiled: normal and fallback lists, enabled journeys only. */
export interface CompiledPolicy {
  normal: Matcher;
  fallback: Matcher;
  /** How many journeys take part (both lists). */
  size: number;
}

const ACTION_RANK: Readonly<Record<Action, number>> = { deny_access: 0, mfa_required: 1, grant_access: 2 };

// What a condition checks, as data of one shape, read by one function (holds): V8 keeps that
// monomorphic, where a closure per condition made every call site megamorphic (measured 3x slower).
const NEVER = 0;
const SET_ALL = 1; // in, eq: the fact list is non-empty and all in the set
const SET_ANY = 2; // overlap
const SET_NONE = 3; // nin, neq, nooverlap
const IP_IN = 4; // in, in_range
const IP_OUT = 5; // nin
const NUM_EQ = 6;
const NUM_NEQ = 7;
const NUM_GT = 8;
const NUM_GTE = 9;
const NUM_LT = 10;
const NUM_LTE = 11;

interface Test {
  op: number;
  /** LIST_FIELDS index (set ops). */
  list: number;
  set: ReadonlySet<string>;
  /** Sorted, merged, disjoint intervals (ip.ts), IPv4 and IPv6. */
  lo4: Float64Array;
  hi4: Float64Array;
  lo6: readonly bigint[];
  hi6: readonly bigint[];
  /** mobileLocation's operand. */
  n: number;
}

const NO_SET: ReadonlySet<string> = new Set();
const NO_V4 = new Float64Array(0);
const NO_V6: readonly bigint[] = [];
const test = (op: number, over: Partial<Test> = {}): Test => ({ op, list: 0, set: NO_SET, lo4: NO_V4, hi4: NO_V4, lo6: NO_V6, hi6: NO_V6, n: 0, ...over });

const SET_OPS: Readonly<Record<string, number>> = { in: SET_ALL, eq: SET_ALL, overlap: SET_ANY, nin: SET_NONE, neq: SET_NONE, nooverlap: SET_NONE };
const NUM_OPS: Readonly<Record<string, number>> = { eq: NUM_EQ, neq: NUM_NEQ, gt: NUM_GT, gte: NUM_GTE, lt: NUM_LT, lte: NUM_LTE };

function conditionTest(field: RuleField, c: Condition): Test {
  // validate.ts admits nothing else; a stored condition that slipped through (or a field a newer
  // build wrote) never holds: a journey must not match on a guess.
  const kind = FIELD_KIND[field] as string | undefined;
  if (kind === "number") return typeof c.value === "number" ? test(NUM_OPS[c.operator] ?? NEVER, { n: c.value }) : test(NEVER);
  if (typeof c.value === "number") return test(NEVER);
  const values = typeof c.value === "string" ? [c.value] : c.value;
  if (kind === "set" || kind === "app") {
    const set = new Set(FOLDED.has(field) ? values.map((v) => v.toLowerCase()) : values);
    return test(SET_OPS[c.operator] ?? NEVER, { list: LIST_INDEX[field as ListField], set });
  }
  if (kind === "ip") {
    const parsed: Interval[] = [];
    for (const v of values) {
      const p = parseIpValue(v);
      if (typeof p !== "string") parsed.push(p);
    }
    const { v4, v6 } = intervalSets(parsed);
    const op = c.operator === "in" || c.operator === "in_range" ? IP_IN : c.operator === "nin" ? IP_OUT : NEVER;
    return test(op, { lo4: Float64Array.from(v4.lo), hi4: Float64Array.from(v4.hi), lo6: v6.lo, hi6: v6.hi });
  }
  return test(NEVER);
}

/** Bisection for the last interval starting at or before v (ip.ts inIntervals, one per family so each stays monomorphic). */
function in4(lo: Float64Array, hi: Float64Array, v: number): boolean {
  let a = 0;
  let b = lo.length - 1;
  while (a <= b) {
    const m = (a + b) >> 1;
    if (lo[m]! <= v) {
      if (v <= hi[m]!) return true;
      a = m + 1;
    } else b = m - 1;
  }
  return false;
}

function in6(lo: readonly bigint[], hi: readonly bigint[], v: bigint): boolean {
  let a = 0;
  let b = lo.length - 1;
  while (a <= b) {
    const m = (a + b) >> 1;
    if (lo[m]! <= v) {
      if (v <= hi[m]!) return true;
      a = m + 1;
    } else b = m - 1;
  }
  return false;
}

const inIp = (t: Test, f: Prepared): boolean => (f.ipFamily === 4 ? in4(t.lo4, t.hi4, f.ip4) : f.ipFamily === 6 ? in6(t.lo6, t.hi6, f.ip6) : false);

/** Whether one condition holds for the facts (unknown facts: see the top of this file). */
function holds(t: Test, f: Prepared): boolean {
  const m = f.mobileLocation;
  switch (t.op) {
    case SET_ALL: {
      const xs = f.lists[t.list];
      if (xs === undefined || xs.length === 0) return false;
      for (let i = 0; i < xs.length; i++) if (!t.set.has(xs[i]!)) return false;
      return true;
    }
    case SET_ANY: {
      const xs = f.lists[t.list];
      if (xs === undefined) return false;
      for (let i = 0; i < xs.length; i++) if (t.set.has(xs[i]!)) return true;
      return false;
    }
    case SET_NONE: {
      const xs = f.lists[t.list];
      if (xs === undefined) return true;
      for (let i = 0; i < xs.length; i++) if (t.set.has(xs[i]!)) return false;
      return true;
    }
    case IP_IN:
      return inIp(t, f);
    case IP_OUT:
      return !inIp(t, f);
    case NUM_EQ:
      return m !== undefined && m === t.n;
    case NUM_NEQ:
      return m === undefined || m !== t.n;
    case NUM_GT:
      return m !== undefined && m > t.n;
    case NUM_GTE:
      return m !== undefined && m >= t.n;
    case NUM_LT:
      return m !== undefined && m < t.n;
    case NUM_LTE:
      return m !== undefined && m <= t.n;
    default:
      return false;
  }
}

function dedupe(xs: readonly string[]): string[] {
  const out: string[] = [];
  for (const x of xs) if (!out.includes(x)) out.push(x);
  return out;
}

const POSITIVE = new Set(["in", "overlap", "eq"]);

/** The condition to file a journey under: positive, on a list field, fewest values. */
function indexKey(j: Journey): CompiledJourney["key"] {
  let best: CompiledJourney["key"] = null;
  for (const [field, c] of Object.entries(j.rules) as [RuleField, Condition | undefined][]) {
    if (!c || !POSITIVE.has(c.operator) || !(field in LIST_INDEX) || typeof c.value === "number") continue;
    const kind = FIELD_KIND[field];
    if (kind !== "set" && kind !== "app") continue;
    const raw = typeof c.value === "string" ? [c.value] : c.value;
    if (best === null || raw.length < best.values.length) {
      best = { list: LIST_INDEX[field as ListField], values: FOLDED.has(field) ? raw.map((v) => v.toLowerCase()) : raw };
    }
  }
  return best;
}

function testsOf(j: Journey): Test[] {
  const tests: Test[] = [];
  for (const [field, c] of Object.entries(j.rules) as [RuleField, Condition | undefined][]) {
    if (c) tests.push(conditionTest(field, c));
  }
  return tests;
}

function compileJourney(j: Journey): CompiledJourney {
  const mfaWithoutWay = j.decision.action === "mfa_required" && j.decision.authenticationMethods.length === 0;
  return {
    journey: j,
    version: j.version,
    action: mfaWithoutWay ? "deny_access" : j.decision.action,
    tests: null,
    alternatives: null,
    key: indexKey(j),
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
  return { normal: matcher(normal), fallback: matcher(fallback), size: normal.length + fallback.length };
}

function matcher(journeys: CompiledJourney[]): Matcher {
  const words = (journeys.length + 31) >>> 5;
  const always = new Int32Array(words);
  const index: (Map<string, number[]> | undefined)[] = new Array<Map<string, number[]> | undefined>(LIST_FIELDS.length);
  journeys.forEach((c, pos) => {
    if (c.key === null) {
      always[pos >>> 5]! |= 1 << (pos & 31);
      return;
    }
    const map = (index[c.key.list] ??= new Map<string, number[]>());
    for (const v of c.key.values) {
      const at = map.get(v);
      if (at === undefined) map.set(v, [pos]);
      else if (at[at.length - 1] !== pos) at.push(pos);
    }
  });
  return { journeys, always, index, scratch: new Int32Array(words) };
}

/** Marks in m.scratch the journeys the facts reach through the index; always-candidates are added when scanning. */
function mark(m: Matcher, f: Prepared): void {
  const scratch = m.scratch;
  scratch.fill(0);
  for (let i = 0; i < m.index.length; i++) {
    const map = m.index[i];
    const xs = f.lists[i];
    if (map === undefined || xs === undefined) continue;
    for (const x of xs) {
      const at = map.get(x);
      if (at === undefined) continue;
      for (const pos of at) scratch[pos >>> 5]! |= 1 << (pos & 31);
    }
  }
}

/**
 * The candidates that match, in precedence order: the first (out null) or all of them, pushed
 * to `out`. `v1`/`v2`: which versions' journeys take part.
 */
function scan(m: Matcher, f: Prepared, v1: boolean, v2: boolean, out: CompiledJourney[] | null): CompiledJourney | null {
  mark(m, f);
  const { always, scratch, journeys } = m;
  for (let w = 0; w < always.length; w++) {
    let bits = always[w]! | scratch[w]!;
    while (bits !== 0) {
      const low = bits & -bits;
      bits ^= low;
      const c = journeys[(w << 5) + 31 - Math.clz32(low)]!;
      if ((c.version === 1 ? v1 : v2) && matches(c, f)) {
        if (out === null) return c;
        out.push(c);
      }
    }
  }
  return null;
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

/** Whether every condition holds. A candidate reached through the index still runs every test: `in` also needs the fact's other values in the set. */
function matches(c: CompiledJourney, f: Prepared): boolean {
  const tests = (c.tests ??= testsOf(c.journey));
  for (let i = 0; i < tests.length; i++) if (!holds(tests[i]!, f)) return false;
  return true;
}

const DEFAULT_METHODS: readonly string[] = ["password"];

const alternativesOf = (c: CompiledJourney): string[][] => (c.alternatives ??= c.journey.decision.authenticationMethods.map(splitMethod));

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
    const c = scan(policy.normal, f, q.versions.includes(1), q.versions.includes(2), null);
    if (c) return outcome(c.action, alternativesOf(c), q.done, c.journey, "journey");
  }
  if (q.fallbackOnly || q.enforceFallback) {
    const c = scan(policy.fallback, f, true, true, null);
    if (c) return outcome(c.action, alternativesOf(c), q.done, c.journey, "fallback");
  }
  return outcome("grant_access", [DEFAULT_METHODS], q.done, null, "default");
}

/** The default's scheme, when nothing matches (v2 auth_schemes). */
export const DEFAULT_SCHEME: Readonly<AuthScheme> = { factors: ["password"], authenticationJourneyV2Id: "default", result: "grant_access" };

/** auth_schemes' `factors`: every alternative's factors, de-duplicated, in order. */
const schemeOf = (c: CompiledJourney): AuthScheme => ({ factors: dedupe(alternativesOf(c).flat()), authenticationJourneyV2Id: c.journey.id, result: c.action });

/**
 * v2 `auth_policy/auth_schemes`: one scheme per matching normal journey, in precedence order;
 * none: the matching fallback journeys when enforced (or `fallbackOnly`); none: the default.
 */
export function schemesOf(policy: CompiledPolicy, q: PolicyQuery): AuthScheme[] {
  const f = prepare(q.facts);
  const hits: CompiledJourney[] = [];
  if (!q.fallbackOnly) scan(policy.normal, f, q.versions.includes(1), q.versions.includes(2), hits);
  if (hits.length === 0 && (q.fallbackOnly || q.enforceFallback)) scan(policy.fallback, f, true, true, hits);
  if (hits.length === 0) return [{ ...DEFAULT_SCHEME, factors: [...DEFAULT_SCHEME.factors] }];
  return hits.map(schemeOf);
}
