import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { setUserPin } from "../../core/mfa/pin";
import { beginTotpEnrolment, totpNow } from "../../core/mfa/totp";
import { open } from "../../crypto/secret-box";
import type { Scope } from "../../core/context";
import { parseTenantSettings } from "../../core/tenants/settings";
import { createJourney } from "../../core/journeys";
import { loginFacts } from "../../core/journeys/login-policy";

let t: TestTenant;
let app: AuthnCaller;
let svcLevel: AuthnCaller;
let base: string;

function scopeOf(tt: TestTenant): Scope {
  return { tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "203.0.113.7", userAgent: null };
}

/** Enrols TOTP directly through core and returns the base32 secret. */
async function enrolTotp(tt: TestTenant, username: string): Promise<string> {
  const svc = services();
  const user = (await svc.users.byUsername(tt.community.id, username))!;
  const e = await beginTotpEnrolment(svc, scopeOf(tt), user);
  // Activate directly (the confirm route is tested in factors.test.ts).
  const pending = await svc.secrets.get<{ sealed: string }>("totp-enrol", await (await import("../../crypto/hash")).sha256Hex(`${tt.tenant.id}\u0000${user.uid}`));
  await svc.users.update(tt.tenant.id, user.uid, { totpSecretSealed: pending!.sealed });
  expect(await open(svc.config.keyEncryptionSecret, "totp-secret", pending!.sealed)).toBe(e.secret);
  return e.secret;
}

beforeAll(async () => {
  t = await createTestTenant();
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  svcLevel = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("POST authenticate", () => {
  it("answers the user object and a signed proof naming pwd at AAL1", async () => {
    const r = await authnCall<{ user: Record<string, unknown>; proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, {
      credentials: { username: "alice", password: PASSWORD },
    });
    expect(r.status).toBe(200);
    expect(r.signed).toBe(true);
    expect(r.body.publicKey).toBe(app.servicePublicKey);
    expect(r.data.user).toMatchObject({ username: "alice", uid: t.alice.uid, dguid: t.alice.dguid, tenantId: t.tenant.id, communityId: t.community.id, disabled: false, firstname: "Alice" });
    const claims = decodeJwt(r.data.proof_of_authentication_jwt);
    expect(claims).toMatchObject({ sub: t.alice.uid, amr: ["pwd"], aal: 1, acr: "aal1", tenant: t.tenant.id, community: t.community.id, token_use: "proof", ip: "203.0.113.7" });
  });

  it("accepts the plaintext preview (development) and answers plaintext", async () => {
    const r = await authnCall<{ user: { username: string } }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { preview: true });
    expect(r.status).toBe(200);
    expect(typeof r.body.data).toBe("object");
    expect(r.data.user.username).toBe("alice");
  });

  it("password + PIN + TOTP: every factor checked, AAL2", async () => {
    const svc = services();
    await setUserPin(svc, scopeOf(t), (await svc.users.byUsername(t.community.id, "admin"))!, "482913");
    const secret = await enrolTotp(t, "admin");
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, {
      credentials: { username: "admin", password: PASSWORD, pin: "482913", otp: await totpNow(secret) },
    });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["pwd", "pin", "otp"], aal: 2, acr: "aal2" });
  });

  it("steps up: a proof from the password plus a PIN accumulates amr", async () => {
    const first = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD } });
    expect(first.status).toBe(200);
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, {
      credentials: { username: "admin", pin: "482913" },
      jwt: first.data.proof_of_authentication_jwt,
    });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt).amr).toEqual(["pwd", "pin"]);
  });

  it("refuses a step-up proof of another user (401) without counting a failure", async () => {
    const first = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD }, jwt: first.data.proof_of_authentication_jwt });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });
  });

  it("answers the same 401 for a wrong password and an unknown user", async () => {
    const wrong = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: "wrong password!" } });
    const unknown = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "nobody-here", password: "wrong password!" } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it("a right password with a wrong PIN fails", async () => {
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD, pin: "000000" } });
    expect(r.status).toBe(401);
  });

  it("validation: username required, at least one factor (400)", async () => {
    const a = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { password: PASSWORD } });
    const b = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice" } });
    expect(a.status).toBe(400);
    expect(b.status).toBe(400);
    expect(b.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
  });

  it("a disabled user is refused with 403 after the right password", async () => {
    const svc = services();
    await svc.users.update(t.tenant.id, t.newbie.uid, { disabled: true });
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "newbie", password: PASSWORD } });
    expect(r.status).toBe(403);
  });

  it("records the connecting IP for app licenses, ignoring X-Forwarded-For", async () => {
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "198.51.100.4", headers: { "x-forwarded-for": "192.0.2.99" } });
    expect(decodeJwt(r.data.proof_of_authentication_jwt).ip).toBe("198.51.100.4");
  });

  it("records the forwarded IP for service licenses", async () => {
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(svcLevel, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "198.51.100.4", headers: { "x-forwarded-for": "192.0.2.99, 10.0.0.1" } });
    expect(decodeJwt(r.data.proof_of_authentication_jwt).ip).toBe("192.0.2.99");
  });
});

/**
 * Issue 10: every Authn login asks the authentication policy. Each scenario gets its own
 * community (journeys are per community), built through core's createJourney exactly as the
 * journey endpoints store them. The callers connect from 203.0.113.7 unless a test says so.
 */
describe("the authentication policy decides authenticate", () => {
  type Need = { user_token: string; next: { step: string; allowed_factors: string[]; idps: string[] }; user?: unknown; proof_of_authentication_jwt?: unknown };
  type Granted = { user: { username: string }; proof_of_authentication_jwt: string };

  async function community(journeys: Record<string, unknown>[], version: 1 | 2 = 2) {
    const tt = await createTestTenant();
    for (const j of journeys) await createJourney(services(), scopeOf(tt), version, j);
    const caller = await authnCaller({ tenantId: tt.tenant.id, level: "app", communities: [tt.community.id] });
    const service = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
    return { tt, caller, service, path: `/tenant/${tt.tenant.id}/community/${tt.community.id}` };
  }
  const outsideOffice = { name: "outside the office", ip: { value: "10.0.0.0/8", operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_otp"] } };

  it("facts: the user's username and groups, scope.ip, the application; device facts only from device fields", () => {
    const user = { username: "Alice", groups: ["staff"] } as unknown as Parameters<typeof loginFacts>[1]["user"];
    const f = loginFacts({ ip: "198.51.100.4" }, { user, application: "payroll", device: { deviceIds: ["d1"], ip: "10.0.0.1", usernames: ["root"], groups: ["admins"], mobileLocation: 3 } as never });
    expect(f).toEqual({ usernames: ["Alice"], groups: ["staff"], ip: "198.51.100.4", applications: ["payroll"], requestingAppId: ["payroll"], relyingAppId: ["payroll"], deviceIds: ["d1"], mobileLocation: 3 });
    expect(loginFacts({ ip: "" }, { user })).toEqual({ usernames: ["Alice"], groups: ["staff"] });
  });

  it("need_mfa outside the office range: the document's {user_token, next}, no user, no proof; the TOTP step-up gives the proof", async () => {
    const { tt, caller, path } = await community([outsideOffice]);
    const secret = await enrolTotp(tt, "alice");
    const r = await authnCall<Need>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    expect(r.status).toBe(200);
    expect(r.signed).toBe(true);
    expect(r.data.next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
    expect(r.data.user).toBeUndefined();
    expect(r.data.proof_of_authentication_jwt).toBeUndefined();
    const pending = decodeJwt(r.data.user_token);
    expect(pending).toMatchObject({ sub: tt.alice.uid, token_use: "pending", amr: ["pwd"], community: tt.community.id });
    expect(pending.exp! - pending.iat!).toBe(300);

    const up = await authnCall<Granted>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", otp: await totpNow(secret) }, jwt: r.data.user_token });
    expect(up.status).toBe(200);
    expect(up.data.user.username).toBe("alice");
    expect(decodeJwt(up.data.proof_of_authentication_jwt)).toMatchObject({ sub: tt.alice.uid, amr: ["pwd", "otp"], aal: 2, token_use: "proof" });
  });

  it("inside the office range (CF-Connecting-IP) the password alone is granted, unchanged", async () => {
    const { tt, caller, path } = await community([outsideOffice]);
    const r = await authnCall<Granted>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "10.20.30.40" });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt)).toMatchObject({ sub: tt.alice.uid, amr: ["pwd"], ip: "10.20.30.40" });
  });

  it("a service license's X-Forwarded-For is the login's IP (the guard believes it there)", async () => {
    const { service, path } = await community([outsideOffice]);
    const inside = await authnCall<Granted>(service, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "203.0.113.7", headers: { "x-forwarded-for": "10.1.1.1" } });
    expect(inside.status).toBe(200);
    expect(inside.data.proof_of_authentication_jwt).toBeTruthy();
    const outside = await authnCall<Need>(service, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "10.1.1.1", headers: { "x-forwarded-for": "198.51.100.1" } });
    expect(outside.data.next.step).toBe("need_mfa");
  });

  it("the password and the code in one request satisfy password_and_otp at once", async () => {
    const { tt, caller, path } = await community([outsideOffice]);
    const secret = await enrolTotp(tt, "alice");
    const r = await authnCall<Granted>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD, otp: await totpNow(secret) } });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt).amr).toEqual(["pwd", "otp"]);
  });

  it("deny_access: 403 {statusCode, error, message}, no proof, audited", async () => {
    const { tt, caller, path } = await community([{ name: "no alice", usernames: { value: ["ALICE"], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } }], 1);
    const r = await authnCall(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ statusCode: 403, error: "Forbidden", message: "the authentication policy denied access" });
    const admin = await authnCall<Granted>(caller, "POST", `${path}/authenticate`, { credentials: { username: "admin", password: PASSWORD } });
    expect(admin.status).toBe(200);
    await new Promise((res) => setTimeout(res, 60));
    const events = await services().audit.list(tt.tenant.id, { limit: 20 });
    expect(events.some((e) => e.type === "login_denied_by_policy" && e.userId === tt.alice.uid)).toBe(true);
  });

  it("groups come from the user", async () => {
    const { tt, caller, path } = await community([{ name: "contractors", groups: { value: ["contractors"], operator: "overlap" }, decision: { action: "deny_access", authenticationMethods: [] } }]);
    expect((await authnCall(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } })).status).toBe(200);
    await services().users.update(tt.tenant.id, tt.alice.uid, { groups: ["staff", "contractors"] });
    expect((await authnCall(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } })).status).toBe(403);
  });

  it("the application is the requestid's appid (applications, requestingAppId)", async () => {
    const other = await community([{ name: "payroll only", applications: { value: ["payroll"], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } }], 1);
    expect((await authnCall(other.caller, "POST", `${other.path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } })).status).toBe(200);
    const v1 = await community([{ name: "tests app", applications: { value: ["tests"], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } }], 1);
    expect((await authnCall(v1.caller, "POST", `${v1.path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } })).status).toBe(403);
    const v2 = await community([{ name: "tests app v2", requestingAppId: { value: "tests", operator: "eq" }, decision: { action: "mfa_required", authenticationMethods: ["pin"] } }]);
    const r = await authnCall<Need>(v2.caller, "POST", `${v2.path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    expect(r.data.next).toEqual({ step: "need_mfa", allowed_factors: ["pin"], idps: [] });
  });

  it("device facts: the extension `facts` object, device fields only", async () => {
    const { caller, path } = await community([{ name: "unknown device", deviceIds: { value: ["corp-laptop-7"], operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_otp"] } }]);
    const known = await authnCall<Granted>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, facts: { deviceId: "corp-laptop-7", machine_name: "LAPTOP-7" } });
    expect(known.data.proof_of_authentication_jwt).toBeTruthy();
    const unknown = await authnCall<Need>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, facts: { deviceId: "my-phone" } });
    expect(unknown.data.next.step).toBe("need_mfa");
    for (const facts of [{ IP: "10.0.0.1" }, { ip: "10.0.0.1" }, { username: "admin" }, { groups: ["x"] }, { deviceId: 7 }, { mobileLocation: "near" }]) {
      const bad = await authnCall(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, facts });
      expect(bad.status, JSON.stringify(facts)).toBe(400);
    }
  });

  it("authenticate_with_ktoken asks too; its need_mfa steps up through authenticate", async () => {
    const { tt, caller, path } = await community([]);
    const secret = await enrolTotp(tt, "alice");
    const first = await authnCall<Granted>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    const minted = await authnCall<{ ktoken: string }>(caller, "POST", `${path}/ktoken`, { jwt: first.data.proof_of_authentication_jwt });
    await createJourney(services(), scopeOf(tt), 2, outsideOffice);
    const r = await authnCall<Need>(caller, "POST", `${path}/authenticate_with_ktoken`, { ktoken: minted.data.ktoken });
    expect(r.status).toBe(200);
    expect(r.data.next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
    expect(r.data.user).toBeUndefined();
    const up = await authnCall<Granted>(caller, "POST", `${path}/authenticate`, { credentials: { username: "alice", otp: await totpNow(secret) }, jwt: r.data.user_token });
    expect(up.status).toBe(200);
    expect(decodeJwt(up.data.proof_of_authentication_jwt).amr).toEqual(["pwd", "ktoken", "otp"]);
  });

  it("request/proof_of_authentication: a journey's deny or unmet factor refuses the proof (403)", async () => {
    const { service, path } = await community([outsideOffice]);
    const r = await authnCall(service, "POST", `${path}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"] });
    expect(r.status).toBe(403);
    expect(r.body.message).toBe("the authentication policy requires another factor: otp");
    const inside = await authnCall(service, "POST", `${path}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"] }, { headers: { "x-forwarded-for": "10.9.9.9" } });
    expect(inside.status).toBe(200);
  });
});
