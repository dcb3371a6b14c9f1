import { describe, expect, it } from "vitest";
import { applyMergePatch, changedPaths, redactSecrets } from "./manage-settings";

describe("JSON merge patch (RFC 7396)", () => {
  it("follows the RFC's appendix A examples", () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) expect(applyMergePatch(target, patch)).toEqual(result);
  });

  it("does not modify its target", () => {
    const target = { lockout: { userThreshold: 5 } };
    applyMergePatch(target, { lockout: { userThreshold: 9 } });
    expect(target).toEqual({ lockout: { userThreshold: 5 } });
  });

  it("refuses prototype keys and absurd nesting instead of failing with a 5xx", () => {
    expect(() => applyMergePatch({}, JSON.parse('{"__proto__": {"polluted": true}}'))).toThrow(/not allowed/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) deep = { a: deep };
    expect(() => applyMergePatch({}, deep)).toThrow(/too deeply/);
  });
});

describe("changed paths and redaction", () => {
  it("names the leaves that differ, never values", () => {
    expect(changedPaths({ a: 1, lockout: { userThreshold: 5, ipThreshold: 9 }, list: [1] }, { a: 1, lockout: { userThreshold: 6, ipThreshold: 9 }, list: [1, 2], b: true })).toEqual([
      "b",
      "list",
      "lockout.userThreshold",
    ]);
    // A block added or removed as a whole is named as the block.
    expect(changedPaths({ okta: { baseUrl: "x" } }, {})).toEqual(["okta"]);
    expect(changedPaths({ okta: { baseUrl: "x" } }, { okta: {} })).toEqual(["okta.baseUrl"]);
    expect(changedPaths({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it("shows secrets only as present", () => {
    const secret = "a".repeat(64);
    expect(redactSecrets({ oktaTokenHook: { header: "x-hook", secretSha256: secret }, password: { minLength: 8 } })).toEqual({
      oktaTokenHook: { header: "x-hook", secretSha256: "(present)" },
      password: { minLength: 8 },
    });
  });
});
