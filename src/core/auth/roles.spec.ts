import { describe, expect, it } from "vitest";
import { exceedsPrivilege, hasCapability, privilegeLevel, requireOwnUserToken, requireRole, ROLE } from "./roles";

describe("role privilege order", () => {
  it("ranks SYSTEM_ADMIN > ADMIN > USER > unknown, case-insensitively", () => {
    expect(privilegeLevel(["SYSTEM_ADMIN"])).toBeGreaterThan(privilegeLevel(["ADMIN"]));
    expect(privilegeLevel(["admin"])).toBe(privilegeLevel(["ADMIN"]));
    expect(privilegeLevel(["ADMIN"])).toBeGreaterThan(privilegeLevel(["user"]));
    expect(privilegeLevel(["user"])).toBeGreaterThan(privilegeLevel(["api", "whatever"]));
    expect(privilegeLevel([])).toBe(0);
  });

  it("SYSTEM_ADMIN implies every capability; LOGIN_AS is explicit otherwise", () => {
    expect(hasCapability(["SYSTEM_ADMIN"], ROLE.LOGIN_AS)).toBe(true);
    expect(hasCapability(["ADMIN"], ROLE.LOGIN_AS)).toBe(false);
    expect(hasCapability(["login_as"], ROLE.LOGIN_AS)).toBe(true);
  });

  it("a target exceeds the caller by level or by a capability the caller lacks", () => {
    expect(exceedsPrivilege(["ADMIN"], ["USER", "LOGIN_AS"])).toBe(true);
    expect(exceedsPrivilege(["USER", "LOGIN_AS"], ["USER"])).toBe(true);
    expect(exceedsPrivilege(["USER"], ["USER", "LOGIN_AS"])).toBe(false);
    expect(exceedsPrivilege(["USER", "LOGIN_AS"], ["USER", "LOGIN_AS"])).toBe(false);
    expect(exceedsPrivilege(["SYSTEM_ADMIN"], ["ADMIN", "LOGIN_AS"])).toBe(true);
    expect(exceedsPrivilege(["ADMIN", "LOGIN_AS"], ["SYSTEM_ADMIN"])).toBe(false);
  });

  it("requireRole refuses lesser roles and impersonation; requireOwnUserToken refuses act and clients", () => {
    expect(() => requireRole({ roles: ["ADMIN", "LOGIN_AS"] }, ROLE.SYSTEM_ADMIN)).toThrow(/SYSTEM_ADMIN/);
    expect(() => requireRole({ roles: ["SYSTEM_ADMIN"], act: { sub: "x" } }, ROLE.SYSTEM_ADMIN)).toThrow(/impersonation/);
    expect(() => requireRole({ roles: ["SYSTEM_ADMIN"] }, ROLE.SYSTEM_ADMIN)).not.toThrow();
    expect(() => requireRole({ roles: ["SYSTEM_ADMIN"] }, ROLE.ADMIN)).not.toThrow();
    expect(() => requireRole({ roles: ["USER"] }, ROLE.ADMIN)).toThrow();
    expect(() => requireOwnUserToken({ sub: "u", act: { sub: "a" } })).toThrow();
    expect(() => requireOwnUserToken({ sub: "client:c" })).toThrow();
    expect(() => requireOwnUserToken({ sub: "u" })).not.toThrow();
  });
});
