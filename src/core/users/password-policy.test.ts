import { describe, expect, it } from "vitest";
import { parseTenantSettings } from "../tenants/settings";
import { checkPasswordPolicy } from "./password-policy";

/** Password rules (NIST SP 800-63B §5.1.1.2): length only, any characters, a blocklist. */
const defaults = parseTenantSettings({});
const ok = (p: unknown, s = defaults, username?: string) => () => checkPasswordPolicy(s, p, username ? { username } : {});

describe("password rules", () => {
  it("accept 8 to 128 characters of anything, without composition rules", () => {
    expect(ok("fjdkslqa")).not.toThrow();
    expect(ok("abcdefgh")).toThrow(/common/);
    expect(ok("x".repeat(128))).not.toThrow();
    expect(ok("correct horse battery staple")).not.toThrow();
    expect(ok("пароль-пароль")).not.toThrow();
    expect(ok("        ")).not.toThrow();
  });

  it("count length in code points, not UTF-16 units", () => {
    expect(ok("😀".repeat(7))).toThrow(/at least 8/);
    expect(ok("😀".repeat(8))).not.toThrow();
    expect(ok("😀".repeat(128))).not.toThrow();
    expect(ok("😀".repeat(129))).toThrow(/at most 128/);
  });

  it("refuse too short, too long, non-strings, common passwords and the username", () => {
    expect(ok("abcdefg")).toThrow(/at least 8/);
    expect(ok("x".repeat(129))).toThrow(/at most 128/);
    expect(ok(12345678)).toThrow(/string/);
    expect(ok(null)).toThrow(/string/);
    expect(ok("Password123")).toThrow(/common/);
    expect(ok("QWERTYUIOP")).toThrow(/common/);
    expect(ok("AliceInWonder", defaults, "aliceinwonder")).toThrow(/username/);
  });

  it("apply the tenant's own length range and blocklist", () => {
    const s = parseTenantSettings({ password: { minLength: 12, blocklist: ["AcmeCorp2026"] } });
    expect(ok("elevenchars", s)).toThrow(/at least 12/);
    expect(ok("acmecorp2026", s)).toThrow(/common/);
    expect(ok("twelve chars", s)).not.toThrow();
  });

  it("throw password_policy errors", () => {
    expect(ok("short")).toThrow(expect.objectContaining({ code: "password_policy" }));
  });
});
