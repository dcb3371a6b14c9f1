import { describe, expect, it } from "vitest";
import { canonicalJson } from "./canonical-json";

/** RFC 8785's own examples: what a verifier's JCS library produces, we must produce. */
describe("canonicalJson (RFC 8785)", () => {
  it("sorts members by UTF-16 code units at every level (§3.2.3's example)", () => {
    const input = { "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis" };
    const keys = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse puts the integer-like key first; read the order from the text instead.
    const order = [...canonicalJson(input).matchAll(/"([^"]*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(order.map((k) => input[k as keyof typeof input])).toEqual([
      "Carriage Return",
      "One",
      "Control",
      "Latin Small Letter O With Diaeresis",
      "Euro Sign",
      "Emoji: Grinning Face",
      "Hebrew Letter Dalet With Dagesh",
    ]);
    expect(keys).toHaveLength(7);
  });

  it("serializes numbers, literals and strings as §3.2.2 says, with no whitespace", () => {
    expect(canonicalJson({ numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001], string: "\u20ac$\u000f\nA'B\"\\\\\"/", literals: [null, true, false] })).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
    expect(canonicalJson({ b: { d: 1, c: [{ z: 1, y: 2 }] }, a: "x" })).toBe('{"a":"x","b":{"c":[{"y":2,"z":1}],"d":1}}');
  });

  it("refuses what JSON cannot carry instead of dropping it", () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow();
    expect(() => canonicalJson({ n: Infinity })).toThrow();
    expect(() => canonicalJson({ f: () => 1 })).toThrow();
    expect(canonicalJson({ u: undefined, k: 1 })).toBe('{"k":1}');
  });
});
