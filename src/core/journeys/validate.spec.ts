/**
 * Write-time rules (validate.ts) and the IP grammar (ip.ts): every field with every operator,
 * allowed and refused; IPv4 and IPv6 edges; malformed values. Runs from journeys.test.ts.
 */
import { describe, expect, it } from "vitest";
import { FieldError } from "../field-error";
import { inIntervals, intervalSets, parseAddress, parseIpValue } from "./ip";
import { OPERATORS, V1_FIELDS, V2_FIELDS, type Operator, type RuleField } from "./model";
import { checkJourney, FIELD_KIND } from "./validate";

const decision = { action: "grant_access", authenticationMethods: [] };

/** The field name a refusal names, or "ok". */
export function verdict(run: () => unknown): string {
  try {
    run();
    return "ok";
  } catch (e) {
    if (e instanceof FieldError) {
      expect(e.code).toBe("invalid_request");
      expect(e.message.startsWith(`${e.field}: `)).toBe(true);
      return e.field;
    }
    throw e;
  }
}

const ALLOWED: Record<string, readonly Operator[]> = {
  set: ["in", "nin", "overlap", "nooverlap"],
  ip: ["in", "in_range", "nin"],
  number: ["eq", "neq", "gt", "gte", "lt", "lte"],
  appString: ["eq", "neq"],
  appList: ["in", "nin"],
};

function sampleValue(field: RuleField, list: boolean): string | string[] | number {
  switch (FIELD_KIND[field]) {
    case "set":
      return list ? ["a", "b"] : "a";
    case "ip":
      return list ? ["10.0.0.0/8", "2001:db8::1"] : "10.0.0.1-10.0.0.9";
    case "number":
      return 100;
    case "app":
      return list ? ["app-1", "app-2"] : "app-1";
  }
}

describe("checkJourney: every field with every operator", () => {
  for (const version of [1, 2] as const) {
    for (const field of V2_FIELDS) {
      const kind = FIELD_KIND[field];
      const shapes = kind === "number" ? [false] : [false, true];
      for (const list of shapes) {
        const allowedKey = kind === "app" ? (list ? "appList" : "appString") : kind;
        it(`v${version} ${field} (${list ? "array" : "single"} value): allowed ${ALLOWED[allowedKey]!.join(",")}, others refused`, () => {
          for (const operator of OPERATORS) {
            const input = { name: "j", [field]: { value: sampleValue(field, list), operator }, decision };
            const got = verdict(() => checkJourney(version, input));
            if (version === 1 && !(V1_FIELDS as readonly string[]).includes(field)) expect(got, operator).toBe(field);
            else if (ALLOWED[allowedKey]!.includes(operator)) expect(got, operator).toBe("ok");
            else expect(got, operator).toBe(`${field}.operator`);
          }
        });
      }
    }
  }

  it("normalises: a single string of a set field becomes a one-element array; strings are trimmed; ip kept as written", () => {
    const j = checkJourney(2, {
      journeyName: " n ",
      groups: { value: " g ", operator: "in" },
      ip: { value: " 10.0.0.1 ", operator: "in" },
      requestingAppId: { value: "adminx", operator: "eq" },
      appConfigId: { value: ["1", "2"], operator: "in" },
      mobileLocation: { value: 1.5, operator: "gte" },
      decision: { action: "mfa_required", authenticationMethods: ["password_and_otp", "fido"] },
    });
    expect(j).toEqual({
      name: "n",
      enabled: true,
      category: null,
      priority: 0,
      rules: {
        groups: { value: ["g"], operator: "in" },
        ip: { value: "10.0.0.1", operator: "in" },
        requestingAppId: { value: "adminx", operator: "eq" },
        appConfigId: { value: ["1", "2"], operator: "in" },
        mobileLocation: { value: 1.5, operator: "gte" },
      },
      decision: { action: "mfa_required", authenticationMethods: ["password_and_otp", "fido"] },
    });
  });

  it("accepts the document's PUT example once its IP range is a real one, and the fetch spelling", () => {
    const doc = {
      name: "auth-journey-1",
      enabled: true,
      groups: { value: ["group a", "group b"], operator: "overlap" },
      deviceIds: { value: ["device-id-1", "device-id-2"], operator: "overlap" },
      applications: { value: ["salesforce", "gsuite"], operator: "in" },
      usernames: { value: ["username_1", "username_2"], operator: "in" },
      ip: { value: "192.136.456.200-192.136.456.300", operator: "in" },
      domain: { value: ["google.com", "1kosmos.com"], operator: "in" },
      decision: { action: "mfa_required", authenticationMethods: ["password_and_otp", "fido"] },
      machineNames: { value: ["qa-win2016-0"], operator: "in" },
      machineIds: { value: ["B324123"], operator: "in" },
      machineUsers: { value: ["user@qa-win2016-0"], operator: "in" },
      mobileLocation: { value: 100, operator: "gt" },
    };
    expect(verdict(() => checkJourney(1, doc))).toBe("ip.value");
    const fixed = { ...doc, ip: { value: "192.136.45.200-192.136.45.255", operator: "in" } };
    expect(Object.keys(checkJourney(1, fixed).rules).sort()).toEqual([...V1_FIELDS].sort());
    // The fetch answer's spelling, with its read-only fields, can be sent back.
    const fetched = { id: "x", tenantId: "t", communityId: "c", journeyName: "j", deviceId: { value: ["d"], operator: "overlap" }, application: { value: ["a"], operator: "in" }, username: { value: ["u"], operator: "in" }, decision };
    expect(Object.keys(checkJourney(1, fetched).rules).sort()).toEqual(["applications", "deviceIds", "usernames"]);
  });

  const refused: [string, 1 | 2, Record<string, unknown>, string][] = [
    ["not an object", 1, [] as unknown as Record<string, unknown>, "data"],
    ["no name", 1, { decision }, "name"],
    ["empty name", 1, { name: "  ", decision }, "name"],
    ["long name", 1, { name: "x".repeat(257), decision }, "name"],
    ["name and journeyName", 1, { name: "a", journeyName: "b", decision }, "journeyName"],
    ["enabled not boolean", 1, { name: "a", enabled: "yes", decision }, "enabled"],
    ["category in v1", 1, { name: "a", category: "adaptive_auth_fallback_policy_v2", decision }, "category"],
    ["category not a string", 2, { name: "a", category: 5, decision }, "category"],
    ["priority not integer", 2, { name: "a", priority: 1.5, decision }, "priority"],
    ["priority too large", 2, { name: "a", priority: 1e7, decision }, "priority"],
    ["unknown field", 2, { name: "a", usrnames: { value: ["u"], operator: "in" }, decision }, "usrnames"],
    ["v2 field in v1", 1, { name: "a", requestingAppId: { value: "x", operator: "eq" }, decision }, "requestingAppId"],
    ["condition not an object", 1, { name: "a", groups: ["g"], decision }, "groups"],
    ["condition with an extra key", 1, { name: "a", groups: { value: ["g"], operator: "in", negate: true }, decision }, "groups.negate"],
    ["condition without operator", 1, { name: "a", groups: { value: ["g"] }, decision }, "groups.operator"],
    ["condition without value", 1, { name: "a", groups: { operator: "in" }, decision }, "groups.value"],
    ["unknown operator", 1, { name: "a", groups: { value: ["g"], operator: "contains" }, decision }, "groups.operator"],
    ["empty set", 1, { name: "a", groups: { value: [], operator: "in" }, decision }, "groups.value"],
    ["empty string in a set", 1, { name: "a", groups: { value: ["g", " "], operator: "in" }, decision }, "groups.value"],
    ["number in a set", 1, { name: "a", groups: { value: [1], operator: "in" }, decision }, "groups.value"],
    ["string too long", 1, { name: "a", usernames: { value: ["u".repeat(257)], operator: "in" }, decision }, "usernames.value"],
    ["too many values", 1, { name: "a", machineIds: { value: Array.from({ length: 501 }, (_, i) => `m${i}`), operator: "in" }, decision }, "machineIds.value"],
    ["mobileLocation a string", 1, { name: "a", mobileLocation: { value: "100", operator: "gt" }, decision }, "mobileLocation.value"],
    ["mobileLocation not finite", 1, { name: "a", mobileLocation: { value: Number.POSITIVE_INFINITY, operator: "gt" }, decision }, "mobileLocation.value"],
    ["app id a number", 2, { name: "a", appConfigId: { value: 5, operator: "eq" }, decision }, "appConfigId.value"],
    ["app id list with eq", 2, { name: "a", relyingAppId: { value: ["x"], operator: "eq" }, decision }, "relyingAppId.operator"],
    ["no decision", 1, { name: "a" }, "decision"],
    ["unknown action", 1, { name: "a", decision: { action: "allow", authenticationMethods: [] } }, "decision.action"],
    ["mfa without methods", 1, { name: "a", decision: { action: "mfa_required", authenticationMethods: [] } }, "decision.authenticationMethods"],
    ["unknown factor", 1, { name: "a", decision: { action: "mfa_required", authenticationMethods: ["password_and_totp"] } }, "decision.authenticationMethods"],
    ["methods not an array", 1, { name: "a", decision: { action: "mfa_required", authenticationMethods: "otp" } }, "decision.authenticationMethods"],
    ["extra decision key", 1, { name: "a", decision: { ...decision, why: 1 } }, "decision.why"],
  ];
  for (const [what, version, input, field] of refused) {
    it(`refuses ${what} naming ${field}`, () => expect(verdict(() => checkJourney(version, input))).toBe(field));
  }
});

describe("IP values", () => {
  const valid = [
    "10.0.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "10.0.0.1-10.0.0.1",
    "10.0.0.1 - 10.0.0.9",
    "0.0.0.0/0",
    "10.0.0.0/8",
    "10.1.2.3/32",
    "::",
    "::1",
    "2001:db8::",
    "2001:DB8:0:0:0:0:0:1",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "2001:db8::/32",
    "::/0",
    "2001:db8::1/128",
    "::ffff:10.0.0.1",
    "::ffff:10.0.0.0/104",
    "::ffff:1.2.3.4-1.2.3.9",
    "0:0:0:0:0:ffff:1.2.3.4",
    "2001:db8::1-2001:db8::ffff",
  ];
  const malformed = [
    "192.136.456.200-192.136.456.300",
    "256.0.0.1",
    "1.2.3",
    "1.2.3.4.5",
    "01.2.3.4",
    "1.2.3.-4",
    "10.0.0.9-10.0.0.1",
    "10.0.0.0/33",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0.0/8/8",
    "2001:db8::/129",
    "::ffff:1.2.3.4/8",
    "10.0.0.1-2001:db8::1",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "12345::1",
    "gggg::1",
    "fe80::1%eth0",
    "[::1]",
    "1.2.3.4:80",
    ":1",
    "1.2.3.4::",
    "host.example",
    "",
  ];
  it.each(valid)("accepts %s", (v) => expect(typeof parseIpValue(v)).toBe("object"));
  it.each(malformed)("refuses %s (ip.value)", (v) => {
    expect(typeof parseIpValue(v)).toBe("string");
    expect(verdict(() => checkJourney(1, { name: "a", ip: { value: ["10.0.0.1", v], operator: "in" }, decision }))).toBe("ip.value");
  });
  it("says why the document's example is not IPv4", () => {
    expect(parseIpValue("192.136.456.200-192.136.456.300")).toContain('"192.136.456.200" is not an IPv4 or IPv6 address');
  });

  it("reads ranges and blocks as the intervals they are", () => {
    expect(parseIpValue("10.1.2.3/8")).toEqual({ family: 4, lo: 0x0a000000, hi: 0x0affffff });
    expect(parseIpValue("0.0.0.0/0")).toEqual({ family: 4, lo: 0, hi: 0xffffffff });
    expect(parseIpValue("::ffff:10.0.0.0/104")).toEqual({ family: 4, lo: 0x0a000000, hi: 0x0affffff });
    expect(parseIpValue("::/0")).toEqual({ family: 6, lo: 0n, hi: (1n << 128n) - 1n });
    expect(parseIpValue("2001:db8::1/128")).toEqual({ family: 6, lo: 0x20010db8000000000000000000000001n, hi: 0x20010db8000000000000000000000001n });
    expect(parseAddress("2001:db8::1")).toEqual(parseAddress("2001:0DB8:0000:0000:0000:0000:0000:0001"));
    expect(parseAddress("::ffff:0a00:0001")).toEqual({ family: 4, v4: 0x0a000001, v6: 0n });
    expect(parseAddress("::1.2.3.4")?.family).toBe(6); // IPv4-compatible (deprecated) is not mapped
  });

  it("merges overlapping and adjacent intervals and finds members by bisection", () => {
    const items = ["10.0.0.5-10.0.0.9", "10.0.0.0-10.0.0.4", "10.0.0.20", "10.0.0.8-10.0.0.12", "2001:db8::/127", "2001:db8::2"].map((s) => parseIpValue(s));
    const { v4, v6 } = intervalSets(items.map((x) => (typeof x === "string" ? expect.unreachable(x) : x)));
    expect(v4).toEqual({ lo: [0x0a000000, 0x0a000014], hi: [0x0a00000c, 0x0a000014] });
    expect(v6.lo.length).toBe(1);
    for (const [v, inside] of [[0x09ffffff, false], [0x0a000000, true], [0x0a00000c, true], [0x0a00000d, false], [0x0a000014, true], [0x0a000015, false]] as const) {
      expect(inIntervals(v4, v), v.toString(16)).toBe(inside);
    }
    expect(inIntervals(v6, 0x20010db8000000000000000000000002n)).toBe(true);
    expect(inIntervals(v6, 0x20010db8000000000000000000000003n)).toBe(false);
    expect(inIntervals({ lo: [], hi: [] }, 1)).toBe(false);
  });
});
