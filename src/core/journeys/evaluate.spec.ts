/**
 * The evaluator (compile.ts), facts (facts.ts) and factors (factors.ts), pure: every operator
 * against known and unknown facts, IP edges, precedence, fallback, default, need_mfa and what
 * `done` satisfies, auth schemes. Runs from journeys.test.ts.
 */
import { describe, expect, it } from "vitest";
import { compilePolicy, decide, schemesOf, type PolicyQuery } from "./compile";
import { amrOfFactor, factorsFromAmr, FACTORS, splitMethod } from "./factors";
import { factsFromDocument } from "./facts";
import { FALLBACK_CATEGORY, type Facts, type Journey, type JourneyVersion } from "./model";
import { checkJourney } from "./validate";
import { verdict } from "./validate.spec";

let seq = 0;
/** A journey as the store would hold it, from a body checked by validate.ts (valid by construction). */
export function journey(body: Record<string, unknown>, over: Partial<Journey> & { version?: JourneyVersion } = {}): Journey {
  const version = over.version ?? 2;
  const input = checkJourney(version, { name: "j", decision: { action: "grant_access", authenticationMethods: [] }, ...body });
  seq++;
  return { id: `j${String(seq).padStart(6, "0")}`, tenantId: "t", communityId: "c", version, ...input, createdAt: 1000 + seq, updatedAt: 1000 + seq, ...over };
}

const q = (facts: Facts, over: Partial<PolicyQuery> = {}): PolicyQuery => ({ facts, done: [], versions: [1, 2], enforceFallback: false, ...over });
const deny = { action: "deny_access", authenticationMethods: [] };
const grant = { action: "grant_access", authenticationMethods: ["password"] };
const mfa = (...m: string[]) => ({ action: "mfa_required", authenticationMethods: m });

/** Whether a deny journey with this one condition matches these facts. */
function holds(field: string, value: unknown, operator: string, facts: Facts): boolean {
  const p = compilePolicy([journey({ [field]: { value, operator }, decision: deny })]);
  return decide(p, q(facts)).step === "deny_access";
}

describe("operators against facts (unknown facts: only nin, neq, nooverlap hold)", () => {
  const SET_FIELDS = ["groups", "deviceIds", "applications", "usernames", "domain", "machineNames", "machineIds", "machineUsers"] as const;
  const cases: [string, string[] | undefined, boolean][] = [
    // operator, fact list, holds (value ["a", "b"])
    ["in", ["a"], true],
    ["in", ["a", "b"], true],
    ["in", ["a", "c"], false],
    ["in", [], false],
    ["in", undefined, false],
    ["nin", ["c"], true],
    ["nin", ["a", "c"], false],
    ["nin", [], true],
    ["nin", undefined, true],
    ["overlap", ["a", "c"], true],
    ["overlap", ["c"], false],
    ["overlap", [], false],
    ["overlap", undefined, false],
    ["nooverlap", ["c", "d"], true],
    ["nooverlap", ["c", "b"], false],
    ["nooverlap", undefined, true],
  ];
  for (const field of SET_FIELDS) {
    it(`${field}: in, nin, overlap, nooverlap`, () => {
      for (const [op, fact, expected] of cases) {
        const facts: Facts = fact === undefined ? {} : { [field]: fact };
        expect(holds(field, ["a", "b"], op, facts), `${op} ${JSON.stringify(fact)}`).toBe(expected);
      }
    });
  }

  it("usernames and domain compare case-insensitively, the rest exactly", () => {
    expect(holds("usernames", ["Alice"], "in", { usernames: ["aLICE"] })).toBe(true);
    expect(holds("domain", ["Example.COM"], "in", { domain: ["example.com"] })).toBe(true);
    expect(holds("groups", ["Admins"], "in", { groups: ["admins"] })).toBe(false);
    expect(holds("machineIds", ["B324123"], "overlap", { machineIds: ["b324123"] })).toBe(false);
  });

  it("requestingAppId, relyingAppId, appConfigId: eq, neq on a string; in, nin on a list", () => {
    for (const field of ["requestingAppId", "relyingAppId", "appConfigId"] as const) {
      expect(holds(field, "x", "eq", { [field]: ["x"] })).toBe(true);
      expect(holds(field, "x", "eq", { [field]: ["y"] })).toBe(false);
      expect(holds(field, "x", "eq", { [field]: ["X"] })).toBe(false);
      expect(holds(field, "x", "eq", {})).toBe(false);
      expect(holds(field, "x", "neq", { [field]: ["y"] })).toBe(true);
      expect(holds(field, "x", "neq", { [field]: ["x"] })).toBe(false);
      expect(holds(field, "x", "neq", {})).toBe(true);
      expect(holds(field, ["x", "y"], "in", { [field]: ["y"] })).toBe(true);
      expect(holds(field, ["x", "y"], "in", { [field]: ["z"] })).toBe(false);
      expect(holds(field, ["x", "y"], "in", {})).toBe(false);
      expect(holds(field, ["x", "y"], "nin", { [field]: ["z"] })).toBe(true);
      expect(holds(field, ["x", "y"], "nin", { [field]: ["x"] })).toBe(false);
      expect(holds(field, ["x", "y"], "nin", {})).toBe(true);
    }
  });

  it("mobileLocation: eq, neq, gt, gte, lt, lte; unknown holds only neq", () => {
    const table: [string, number, boolean][] = [
      ["eq", 100, true],
      ["eq", 99, false],
      ["neq", 99, true],
      ["neq", 100, false],
      ["gt", 101, true],
      ["gt", 100, false],
      ["gte", 100, true],
      ["gte", 99.5, false],
      ["lt", 99, true],
      ["lt", 100, false],
      ["lte", 100, true],
      ["lte", 100.5, false],
    ];
    for (const [op, fact, expected] of table) expect(holds("mobileLocation", 100, op, { mobileLocation: fact }), `${op} ${fact}`).toBe(expected);
    for (const op of ["eq", "gt", "gte", "lt", "lte"]) expect(holds("mobileLocation", 100, op, {}), op).toBe(false);
    expect(holds("mobileLocation", 100, "neq", {})).toBe(true);
  });

  it("a journey matches when all its conditions hold; no conditions match everything; disabled never", () => {
    const both = { usernames: { value: ["u"], operator: "in" }, ip: { value: "10.0.0.0/8", operator: "in" }, decision: deny };
    expect(decide(compilePolicy([journey(both)]), q({ usernames: ["u"], ip: "10.1.1.1" })).step).toBe("deny_access");
    expect(decide(compilePolicy([journey(both)]), q({ usernames: ["u"], ip: "11.1.1.1" })).step).toBe("grant_access");
    expect(decide(compilePolicy([journey(both)]), q({ usernames: ["v"], ip: "10.1.1.1" })).step).toBe("grant_access");
    expect(decide(compilePolicy([journey({ decision: deny })]), q({})).step).toBe("deny_access");
    expect(decide(compilePolicy([journey({ decision: deny, enabled: false })]), q({})).source).toBe("default");
  });
});

describe("ip at evaluation: edges of ranges and blocks, families, mapped and malformed facts", () => {
  const table: [string | string[], string, string | undefined, boolean][] = [
    // value, operator, fact ip, holds
    ["10.0.0.5-10.0.0.9", "in", "10.0.0.5", true],
    ["10.0.0.5-10.0.0.9", "in", "10.0.0.9", true],
    ["10.0.0.5-10.0.0.9", "in", "10.0.0.4", false],
    ["10.0.0.5-10.0.0.9", "in", "10.0.0.10", false],
    ["192.168.1.0/24", "in_range", "192.168.1.0", true],
    ["192.168.1.0/24", "in_range", "192.168.1.255", true],
    ["192.168.1.0/24", "in_range", "192.168.0.255", false],
    ["192.168.1.0/24", "in_range", "192.168.2.0", false],
    ["0.0.0.0/0", "in", "255.255.255.255", true],
    ["0.0.0.0/0", "in", "0.0.0.0", true],
    ["0.0.0.0/0", "in", "2001:db8::1", false],
    ["0.0.0.0/0", "nin", "2001:db8::1", true],
    ["10.1.2.3/32", "in", "10.1.2.3", true],
    ["10.1.2.3/32", "in", "10.1.2.4", false],
    ["2001:db8::/32", "in", "2001:db8::", true],
    ["2001:db8::/32", "in", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8::/32", "in", "2001:db9::", false],
    ["2001:db8::/32", "in", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false],
    ["2001:db8::1/128", "in", "2001:0DB8:0:0:0:0:0:1", true],
    ["2001:db8::1/128", "in", "2001:db8::2", false],
    ["::/0", "in", "::", true],
    ["::/0", "in", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["::/0", "in", "10.0.0.1", false],
    ["2001:db8::1-2001:db8::1:0", "in", "2001:db8::ffff", true],
    ["2001:db8::1-2001:db8::1:0", "in", "2001:db8::1:1", false],
    ["10.0.0.0/8", "in", "::ffff:10.9.9.9", true],
    ["10.0.0.0/8", "in", "::FFFF:0a09:0909", true],
    ["::ffff:10.0.0.0/104", "in", "10.255.255.255", true],
    ["::ffff:10.0.0.1", "in", "10.0.0.1", true],
    [["10.0.0.1", "10.0.0.3", "2001:db8::/64"], "in", "10.0.0.3", true],
    [["10.0.0.1", "10.0.0.3", "2001:db8::/64"], "in", "10.0.0.2", false],
    [["10.0.0.1", "10.0.0.3", "2001:db8::/64"], "in", "2001:db8::abcd", true],
    ["10.0.0.0/8", "nin", "10.0.0.1", false],
    ["10.0.0.0/8", "nin", "11.0.0.1", true],
    // unknown or malformed fact IPs are unknown: in no range
    ["0.0.0.0/0", "in", undefined, false],
    ["0.0.0.0/0", "nin", undefined, true],
    ["0.0.0.0/0", "in", "not-an-ip", false],
    ["0.0.0.0/0", "nin", "256.1.1.1", true],
    ["::/0", "in", "fe80::1%eth0", false],
    ["0.0.0.0/0", "in", " 10.0.0.1 ", true],
  ];
  it.each(table)("%j %s %s -> %s", (value, operator, ip, expected) => {
    expect(holds("ip", value, operator, ip === undefined ? {} : { ip })).toBe(expected);
  });
});

describe("precedence, fallback, default", () => {
  it("deny > mfa > grant whatever the priority and age; then priority; then older; then id", () => {
    const g = journey({ decision: grant, priority: 100 }, { createdAt: 1 });
    const m = journey({ decision: mfa("otp"), priority: 50 }, { createdAt: 2 });
    const d = journey({ decision: deny, priority: -5 }, { createdAt: 3 });
    expect(decide(compilePolicy([g, m, d]), q({})).journey?.id).toBe(d.id);
    expect(decide(compilePolicy([g, m]), q({})).journey?.id).toBe(m.id);
    const hi = journey({ decision: mfa("fido"), priority: 2 }, { createdAt: 50 });
    const lo = journey({ decision: mfa("pin"), priority: 1 }, { createdAt: 10 });
    expect(decide(compilePolicy([lo, hi]), q({})).allowedFactors).toEqual(["fido"]);
    const old = journey({ decision: mfa("otp") }, { createdAt: 10 });
    const young = journey({ decision: mfa("sms_otp") }, { createdAt: 11 });
    expect(decide(compilePolicy([young, old]), q({})).journey?.id).toBe(old.id);
    const a = journey({ decision: mfa("otp") }, { createdAt: 10, id: "a" });
    const b = journey({ decision: mfa("pin") }, { createdAt: 10, id: "b" });
    expect(decide(compilePolicy([b, a]), q({})).journey?.id).toBe("a");
  });

  it("the default: grant_access, no journey", () => {
    expect(decide(compilePolicy([]), q({}))).toEqual({ step: "grant_access", allowedFactors: [], idps: [], journey: null, source: "default" });
    expect(schemesOf(compilePolicy([]), q({}))).toEqual([{ factors: ["password"], authenticationJourneyV2Id: "default", result: "grant_access" }]);
  });

  it("fallback journeys: never normal; used when nothing matches and enforced; type fallback uses only them", () => {
    const office = journey({ ip: { value: "10.0.0.0/8", operator: "in" }, decision: grant });
    const fb = journey({ category: FALLBACK_CATEGORY, decision: mfa("otp") });
    const p = compilePolicy([office, fb]);
    expect(decide(p, q({ ip: "8.8.8.8" })).source).toBe("default");
    expect(decide(p, q({ ip: "8.8.8.8" }, { enforceFallback: true }))).toMatchObject({ step: "need_mfa", allowedFactors: ["otp"], source: "fallback", journey: { id: fb.id } });
    expect(decide(p, q({ ip: "10.0.0.1" }, { enforceFallback: true }))).toMatchObject({ step: "grant_access", source: "journey", journey: { id: office.id } });
    expect(decide(p, q({ ip: "10.0.0.1" }, { fallbackOnly: true }))).toMatchObject({ source: "fallback", journey: { id: fb.id } });
    // a fallback journey's rules must match too
    const picky = compilePolicy([journey({ category: FALLBACK_CATEGORY, usernames: { value: ["u"], operator: "in" }, decision: deny })]);
    expect(decide(picky, q({ usernames: ["v"] }, { fallbackOnly: true })).source).toBe("default");
    expect(decide(picky, q({ usernames: ["U"] }, { enforceFallback: true })).step).toBe("deny_access");
    // another category is a normal journey
    expect(decide(compilePolicy([journey({ category: "something", decision: deny })]), q({})).source).toBe("journey");
  });

  it("versions: v1 sees only v1 normal journeys but the v2 fallback; v2 only v2", () => {
    const v1 = journey({ decision: mfa("pin") }, { version: 1 });
    const v2 = journey({ decision: mfa("fido") }, { version: 2 });
    const fb = journey({ category: FALLBACK_CATEGORY, decision: deny });
    const p = compilePolicy([v1, v2, fb]);
    expect(decide(p, q({}, { versions: [1] })).journey?.id).toBe(v1.id);
    expect(decide(p, q({}, { versions: [2] })).journey?.id).toBe(v2.id);
    expect(decide(compilePolicy([v2, fb]), q({}, { versions: [1], enforceFallback: true })).journey?.id).toBe(fb.id);
    expect(decide(compilePolicy([v1, fb]), q({}, { versions: [2] })).source).toBe("default");
  });

  it("need_mfa lists each alternative's missing factors in order, once; done completing one alternative grants", () => {
    const p = compilePolicy([journey({ decision: mfa("password_and_otp", "fido", "password_and_sms_otp") })]);
    expect(decide(p, q({})).allowedFactors).toEqual(["password", "otp", "fido", "sms_otp"]);
    expect(decide(p, q({}, { done: ["password"] }))).toMatchObject({ step: "need_mfa", allowedFactors: ["otp", "fido", "sms_otp"] });
    expect(decide(p, q({}, { done: ["password", "otp"] })).step).toBe("grant_access");
    expect(decide(p, q({}, { done: ["fido"] })).step).toBe("grant_access");
    expect(decide(p, q({}, { done: ["otp", "sms_otp"] })).allowedFactors).toEqual(["password", "fido"]);
    // deny is deny whatever was done
    expect(decide(compilePolicy([journey({ decision: deny })]), q({}, { done: [...FACTORS] })).step).toBe("deny_access");
  });

  it("auth schemes: every matching journey in precedence order, factors de-duplicated; then fallback; then default", () => {
    const a = journey({ decision: mfa("password_and_otp", "password_and_fido") });
    const b = journey({ decision: deny });
    const c = journey({ usernames: { value: ["nobody"], operator: "in" }, decision: grant });
    const fb = journey({ category: FALLBACK_CATEGORY, decision: mfa("pin") });
    expect(schemesOf(compilePolicy([a, b, c, fb]), q({}, { versions: [2] }))).toEqual([
      { factors: [], authenticationJourneyV2Id: b.id, result: "deny_access" },
      { factors: ["password", "otp", "fido"], authenticationJourneyV2Id: a.id, result: "mfa_required" },
    ]);
    expect(schemesOf(compilePolicy([c, fb]), q({}, { versions: [2], enforceFallback: true }))).toEqual([{ factors: ["pin"], authenticationJourneyV2Id: fb.id, result: "mfa_required" }]);
    expect(schemesOf(compilePolicy([c, fb]), q({}, { versions: [2] }))[0]!.authenticationJourneyV2Id).toBe("default");
  });

  it("journeys of another shape than written (an mfa with no way) deny rather than strand the login", () => {
    const j = journey({ decision: mfa("otp") });
    const broken: Journey = { ...j, decision: { action: "mfa_required", authenticationMethods: [] } };
    expect(decide(compilePolicy([broken]), q({})).step).toBe("deny_access");
  });
});

describe("facts and factors", () => {
  it("maps the document's fact names", () => {
    const { facts, done } = factsFromDocument({
      groups: ["groupA", "groupB"],
      applicationId: "application1",
      requestingAppId: "adminx",
      appConfigId: "123-546-7868-3454",
      IP: "10.0.0.7",
      machine_domain: "someDomain.com",
      username: "userA",
      deviceId: "someDomain.com",
      machine_name: "userA",
      machine_id: "B324123",
      machine_user: "someDomain.com",
      mobileLocation: 12,
      authenticationMethods: ["password", "otp"],
      somethingElse: { ignored: true },
    });
    expect(facts).toEqual({
      groups: ["groupA", "groupB"],
      applications: ["application1"],
      requestingAppId: ["adminx"],
      appConfigId: ["123-546-7868-3454"],
      ip: "10.0.0.7",
      domain: ["someDomain.com"],
      usernames: ["userA"],
      deviceIds: ["someDomain.com"],
      machineNames: ["userA"],
      machineIds: ["B324123"],
      machineUsers: ["someDomain.com"],
      mobileLocation: 12,
    });
    expect(done).toEqual(["password", "otp"]);
    expect(factsFromDocument({ application: "a", applicationId: ["b", "a"], ip: "::1", domain: "d", deviceIds: ["x"], authenticationMethods: "password_and_otp" })).toEqual({
      facts: { applications: ["b", "a"], ip: "::1", domain: ["d"], deviceIds: ["x"] },
      done: ["password", "otp"],
    });
    expect(factsFromDocument(undefined)).toEqual({ facts: {}, done: [] });
    expect(factsFromDocument({ groups: null, IP: null })).toEqual({ facts: {}, done: [] });
  });

  const wrong: [string, unknown][] = [
    ["facts", "x"],
    ["facts", []],
    ["facts.groups", { groups: 5 }],
    ["facts.groups", { groups: ["a", 5] }],
    ["facts.username", { username: { a: 1 } }],
    ["facts.IP", { IP: 10 }],
    ["facts.ip", { ip: ["10.0.0.1"] }],
    ["facts.mobileLocation", { mobileLocation: "12" }],
    ["facts.authenticationMethods", { authenticationMethods: ["password", "totp"] }],
    ["facts.authenticationMethods", { authenticationMethods: [1] }],
    ["facts.machine_id", { machine_id: "x".repeat(2000) }],
  ];
  it.each(wrong)("refuses a wrong %s", (field, raw) => expect(verdict(() => factsFromDocument(raw))).toBe(field));

  it("factors and amr (RFC 8176 values where they exist)", () => {
    expect(splitMethod("password_and_email_otp")).toEqual(["password", "email_otp"]);
    expect(splitMethod("behavior_auth")).toEqual(["behavior_auth"]);
    expect(factorsFromAmr(["pwd", "hwk", "swk", "mfa", "sms", "fed", "face", "pwd", "otp"])).toEqual(["password", "fido", "sms_otp", "idp_redirect", "liveid", "otp"]);
    for (const f of FACTORS) expect(factorsFromAmr([amrOfFactor(f)])).toEqual([f]);
    expect(amrOfFactor("password")).toBe("pwd");
    expect(amrOfFactor("liveid")).toBe("face");
    expect(amrOfFactor("idp_redirect")).toBe("fed");
  });
});
