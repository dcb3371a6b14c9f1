/**
 * Property tests (fast-check): for arbitrary journeys (valid by construction: every body passes
 * through checkJourney) and arbitrary facts, `decide` and `schemesOf` are total, deterministic,
 * blind to the order journeys come in, and agree with a naive reading of the semantics (linear
 * scans, no hash sets, no merged intervals, sort then pick). Validation and the facts mapping
 * refuse any input only with a FieldError. Runs from journeys.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FieldError } from "../field-error";
import { compilePolicy, decide, schemesOf, type PolicyQuery } from "./compile";
import { FACTORS, splitMethod } from "./factors";
import { factsFromDocument } from "./facts";
import { parseAddress, parseIpValue } from "./ip";
import { FALLBACK_CATEGORY, V1_FIELDS, type Action, type Condition, type Facts, type Journey, type JourneyVersion, type PolicyOutcome, type RuleField } from "./model";
import { checkJourney, FIELD_KIND } from "./validate";

const WORDS = ["a", "b", "c", "A", "x", "y"];
const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const v4 = fc.oneof(fc.integer({ min: 0, max: 15 }).map((x) => `10.0.0.${x}`), fc.nat(0xffffffff).map(dotted));
const v6 = fc.integer({ min: 0, max: 15 }).map((x) => `2001:db8::${x.toString(16)}`);
const ipValue = fc.oneof(
  v4,
  v6,
  fc.integer({ min: 0, max: 15 }).map((x) => `::ffff:10.0.0.${x}`),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 15 })).map(([a, b]) => `10.0.0.${Math.min(a, b)}-10.0.0.${Math.max(a, b)}`),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 28, max: 32 })).map(([a, p]) => `10.0.0.${a}/${p}`),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 124, max: 128 })).map(([a, p]) => `2001:db8::${a.toString(16)}/${p}`),
  fc.constantFrom("0.0.0.0/0", "::/0", "::ffff:10.0.0.0/124", "2001:db8::1-2001:db8::8"),
);
const setValue = fc.uniqueArray(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 });

function conditionArb(field: RuleField): fc.Arbitrary<Record<string, unknown>> {
  switch (FIELD_KIND[field]) {
    case "set":
      return fc.record({ value: fc.oneof(setValue, fc.constantFrom(...WORDS)), operator: fc.constantFrom("in", "nin", "overlap", "nooverlap") });
    case "ip":
      return fc.record({ value: fc.oneof(ipValue, fc.array(ipValue, { minLength: 1, maxLength: 4 })), operator: fc.constantFrom("in", "in_range", "nin") });
    case "number":
      return fc.record({ value: fc.integer({ min: -3, max: 3 }), operator: fc.constantFrom("eq", "neq", "gt", "gte", "lt", "lte") });
    case "app":
      return fc.oneof(
        fc.record({ value: fc.constantFrom("x", "y"), operator: fc.constantFrom("eq", "neq") }),
        fc.record({ value: fc.uniqueArray(fc.constantFrom("x", "y", "z"), { minLength: 1, maxLength: 2 }), operator: fc.constantFrom("in", "nin") }),
      );
  }
}

const ALL_FIELDS = Object.keys(FIELD_KIND) as RuleField[];
const method = fc.uniqueArray(fc.constantFrom(...FACTORS), { minLength: 1, maxLength: 2 }).map((fs) => fs.join("_and_"));
const bodyArb = fc.record(
  {
    ...Object.fromEntries(ALL_FIELDS.map((f) => [f, conditionArb(f)])),
    enabled: fc.boolean(),
    priority: fc.integer({ min: -2, max: 2 }),
    category: fc.constantFrom(null, FALLBACK_CATEGORY, "other"),
    decision: fc.record({ action: fc.constantFrom<Action>("mfa_required", "grant_access", "deny_access"), authenticationMethods: fc.array(method, { minLength: 1, maxLength: 3 }) }),
  },
  { requiredKeys: ["decision"] },
);
/** 0..40 journeys (more than one 32-bit word of the candidate bitset); few distinct createdAt values so that ties reach the id. */
const journeysArb = fc.array(fc.tuple(bodyArb, fc.constantFrom<JourneyVersion>(1, 2), fc.integer({ min: 0, max: 3 })), { maxLength: 40 }).map((xs) =>
  xs.map(([raw, version, createdAt], i): Journey => {
    const b: Record<string, unknown> = { name: `j${i}`, ...raw };
    if (version === 1) for (const k of Object.keys(b)) if (k === "category" || (ALL_FIELDS as string[]).includes(k) && !(V1_FIELDS as string[]).includes(k)) delete b[k];
    return { id: `id-${String(i).padStart(3, "0")}`, tenantId: "t", communityId: "c", version, ...checkJourney(version, b), createdAt, updatedAt: createdAt };
  }),
);

const factList = fc.array(fc.constantFrom(...WORDS, "d", "z"), { maxLength: 3 });
const factsArb: fc.Arbitrary<Facts> = fc.record(
  {
    groups: factList,
    deviceIds: factList,
    applications: factList,
    usernames: factList,
    domain: factList,
    machineNames: factList,
    machineIds: factList,
    machineUsers: factList,
    requestingAppId: factList,
    relyingAppId: factList,
    appConfigId: factList,
    ip: fc.oneof(v4, v6, fc.integer({ min: 0, max: 15 }).map((x) => `::ffff:10.0.0.${x}`), fc.constantFrom("nope", "256.1.1.1", "", "::ffff:")),
    mobileLocation: fc.integer({ min: -4, max: 4 }),
  },
  { requiredKeys: [] },
);
const queryArb: fc.Arbitrary<PolicyQuery> = fc.record({
  facts: factsArb,
  done: fc.subarray([...FACTORS]),
  versions: fc.constantFrom<JourneyVersion[]>([1], [2], [1, 2]),
  enforceFallback: fc.boolean(),
  fallbackOnly: fc.boolean(),
});

// ---- the naive reading of compile.ts's semantics ----
function refHolds(field: RuleField, c: Condition, facts: Facts): boolean {
  const kind = FIELD_KIND[field];
  if (kind === "number") {
    const m = facts.mobileLocation;
    const n = c.value as number;
    if (m === undefined) return c.operator === "neq";
    return { eq: m === n, neq: m !== n, gt: m > n, gte: m >= n, lt: m < n, lte: m <= n }[c.operator as "eq"];
  }
  if (kind === "ip") {
    const a = facts.ip === undefined ? null : parseAddress(facts.ip);
    const values = typeof c.value === "string" ? [c.value] : (c.value as string[]);
    const inside =
      a !== null &&
      values.some((v) => {
        const iv = parseIpValue(v);
        if (typeof iv === "string" || iv.family !== a.family) return false;
        const x = a.family === 4 ? a.v4 : a.v6;
        return iv.lo <= x && x <= iv.hi;
      });
    return c.operator === "nin" ? !inside : inside;
  }
  const fold = (s: string) => (field === "usernames" || field === "domain" ? s.toLowerCase() : s);
  const values = (typeof c.value === "string" ? [c.value] : (c.value as string[])).map(fold);
  const fact = (facts as Record<string, string[] | undefined>)[field]?.map(fold);
  const isIn = (x: string) => values.includes(x);
  switch (c.operator) {
    case "in":
    case "eq":
      return fact !== undefined && fact.length > 0 && fact.every(isIn);
    case "overlap":
      return fact !== undefined && fact.some(isIn);
    default:
      return fact === undefined || !fact.some(isIn);
  }
}

const RANK = { deny_access: 0, mfa_required: 1, grant_access: 2 } as const;
function refDecide(journeys: readonly Journey[], q: PolicyQuery): { step: string; allowed: string[]; id: string | null; source: string } {
  const matching = (fallback: boolean) =>
    journeys
      .filter((j) => j.enabled && (j.version === 2 && j.category === FALLBACK_CATEGORY) === fallback && (fallback || q.versions.includes(j.version)))
      .filter((j) => (Object.entries(j.rules) as [RuleField, Condition][]).every(([f, c]) => refHolds(f, c, q.facts)))
      .sort((a, b) => RANK[a.decision.action] - RANK[b.decision.action] || b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  let winner: Journey | undefined;
  let source = "default";
  if (!q.fallbackOnly) [winner] = matching(false);
  if (winner) source = "journey";
  else if (q.fallbackOnly || q.enforceFallback) {
    [winner] = matching(true);
    if (winner) source = "fallback";
  }
  const d = winner?.decision ?? { action: "grant_access", authenticationMethods: ["password"] };
  const id = winner?.id ?? null;
  if (d.action !== "mfa_required") return { step: d.action, allowed: [], id, source };
  const alts = d.authenticationMethods.map(splitMethod);
  if (alts.some((alt) => alt.every((f) => q.done.includes(f)))) return { step: "grant_access", allowed: [], id, source };
  return { step: "need_mfa", allowed: [...new Set(alts.flat().filter((f) => !q.done.includes(f)))], id, source };
}

const view = (o: PolicyOutcome) => ({ step: o.step, allowed: o.allowedFactors, id: o.journey?.id ?? null, source: o.source });

describe("property: decide and schemesOf over arbitrary journeys and facts", () => {
  it("total, one of the three steps, equal to the naive reading, and blind to input order", () => {
    fc.assert(
      fc.property(
        journeysArb.chain((js) => fc.tuple(fc.constant(js), fc.shuffledSubarray(js, { minLength: js.length, maxLength: js.length }))),
        queryArb,
        ([journeys, shuffled], q) => {
          const policy = compilePolicy(journeys);
          const out = decide(policy, q);
          expect(["grant_access", "need_mfa", "deny_access"]).toContain(out.step);
          expect(out.idps).toEqual([]);
          if (out.step === "need_mfa") expect(out.allowedFactors.length).toBeGreaterThan(0);
          expect(view(out)).toEqual(refDecide(journeys, q));
          expect(view(decide(policy, q))).toEqual(view(out));
          const again = compilePolicy(shuffled);
          expect(view(decide(again, q))).toEqual(view(out));
          const schemes = schemesOf(policy, q);
          expect(schemes.length).toBeGreaterThan(0);
          expect(schemesOf(again, q)).toEqual(schemes);
          // The decision's winner heads the schemes of the same query.
          expect(schemes[0]!.authenticationJourneyV2Id).toBe(out.journey?.id ?? "default");
        },
      ),
      { numRuns: 400 },
    );
  });

  it("validation and the facts mapping refuse anything only with a FieldError", () => {
    const refusesCleanly = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        expect(e).toBeInstanceOf(FieldError);
      }
    };
    const loose = fc.oneof(
      fc.anything(),
      fc.dictionary(fc.constantFrom(...ALL_FIELDS, "name", "decision", "enabled", "priority", "category", "journeyName", "IP", "username", "authenticationMethods", "mobileLocation"), fc.anything()),
      bodyArb.map((b) => ({ name: "n", ...b })),
    );
    fc.assert(
      fc.property(loose, fc.constantFrom<JourneyVersion>(1, 2), (input, version) => {
        refusesCleanly(() => checkJourney(version, input));
        refusesCleanly(() => factsFromDocument(input));
      }),
      { numRuns: 400 },
    );
  });
});
