import { describe, expect, it } from "vitest";
import type { AuthorizationRequest } from "../../protocols/oidc/authorization-request";
import type { OidcClient } from "./clients";
import { reauthenticationReason } from "./authorize";
import { ACR_MFA, ACR_PASSWORD, acrOf, type SsoSession } from "./sso-session";

/** The re-authentication rules of OIDC Core §3.1.2.1, without storage. */
const request = (over: Partial<AuthorizationRequest> = {}): AuthorizationRequest => ({ clientId: "c", redirectUri: "https://a/cb", scopes: ["openid"], prompt: [], acrValues: [], ...over });
const client = (over: Partial<OidcClient> = {}) => ({ forceReauthentication: false, ...over }) as OidcClient;
const now = 1_800_000_000_000;
const session = (over: Partial<SsoSession> = {}): SsoSession => ({ sid: "s", tenantId: "t", communityId: "c", uid: "u", authTime: now / 1000 - 100, amr: ["pwd"], acr: ACR_PASSWORD, expiresAt: now + 1000, ...over });

describe("reauthenticationReason", () => {
  it("no session: login", () => expect(reauthenticationReason(request(), client(), null, now)).toBe("no_session"));
  it("a live session will do", () => expect(reauthenticationReason(request(), client(), session(), now)).toBeNull());
  it("prompt=login and select_account force the login", () => {
    expect(reauthenticationReason(request({ prompt: ["login"] }), client(), session(), now)).toBe("prompt_login");
    expect(reauthenticationReason(request({ prompt: ["select_account"] }), client(), session(), now)).toBe("prompt_login");
  });
  it("prompt=consent alone does not", () => expect(reauthenticationReason(request({ prompt: ["consent"] }), client(), session(), now)).toBeNull());
  it("max_age: older than allowed forces; within does not; 0 always forces an old session", () => {
    expect(reauthenticationReason(request({ maxAge: 99 }), client(), session(), now)).toBe("max_age");
    expect(reauthenticationReason(request({ maxAge: 100 }), client(), session(), now)).toBeNull();
    expect(reauthenticationReason(request({ maxAge: 0 }), client(), session({ authTime: now / 1000 - 1 }), now)).toBe("max_age");
  });
  it("the service provider's forceReauthentication", () => expect(reauthenticationReason(request(), client({ forceReauthentication: true }), session(), now)).toBe("force_reauthentication"));
  it("acr_values naming the multi-factor class need a session that has it", () => {
    expect(reauthenticationReason(request({ acrValues: [ACR_MFA] }), client(), session(), now)).toBe("acr");
    expect(reauthenticationReason(request({ acrValues: [ACR_MFA] }), client(), session({ amr: ["pwd", "otp"], acr: ACR_MFA }), now)).toBeNull();
    expect(reauthenticationReason(request({ acrValues: ["unknown"] }), client(), session(), now)).toBeNull();
  });
  it("acr follows the methods", () => {
    expect(acrOf(["pwd"])).toBe(ACR_PASSWORD);
    expect(acrOf(["pwd", "otp"])).toBe(ACR_MFA);
  });
});
