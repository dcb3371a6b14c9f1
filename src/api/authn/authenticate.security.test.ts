import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { sha256Hex } from "../../crypto/hash";
import { beginTotpEnrolment, totpNow } from "../../core/mfa/totp";
import type { Scope } from "../../core/context";
import { parseTenantSettings } from "../../core/tenants/settings";
import { createJourney } from "../../core/journeys";
import { callJson } from "../../../test/helpers/http";

/** Hostile input against authenticate: never a 5xx, never a changed state on bad input. */
let t: TestTenant;
let other: TestTenant;
let app: AuthnCaller;
let base: string;

const scopeOf = (tt: TestTenant): Scope => ({ tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "203.0.113.7", userAgent: null });

async function enrolTotp(tt: TestTenant, username: string): Promise<string> {
  const svc = services();
  const user = (await svc.users.byUsername(tt.community.id, username))!;
  const e = await beginTotpEnrolment(svc, scopeOf(tt), user);
  const pending = await svc.secrets.get<{ sealed: string }>("totp-enrol", await sha256Hex(`${tt.tenant.id}\u0000${user.uid}`));
  await svc.users.update(tt.tenant.id, user.uid, { totpSecretSealed: pending!.sealed });
  return e.secret;
}

beforeAll(async () => {
  t = await createTestTenant({ lockout: { userThreshold: 3, ipThreshold: 1000, windowSeconds: 3600, baseDelaySeconds: 60, maxDelaySeconds: 900 } });
  other = await createTestTenant();
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("authenticate: hostile payloads", () => {
  const bad: [string, unknown][] = [
    ["no credentials", {}],
    ["credentials not an object", { credentials: "alice" }],
    ["username a number", { credentials: { username: 42, password: PASSWORD } }],
    ["password an array", { credentials: { username: "alice", password: [PASSWORD] } }],
    ["payload an array", [1, 2, 3]],
    ["payload null", null],
    ["oversized username", { credentials: { username: "a".repeat(300), password: PASSWORD } }],
    ["oversized password", { credentials: { username: "alice", password: "p".repeat(2000) } }],
    ["oversized otp", { credentials: { username: "alice", otp: "1".repeat(40) } }],
    ["jwt not a string", { credentials: { username: "alice", password: PASSWORD }, jwt: { alg: "none" } }],
    ["SAMLResponse", { credentials: { username: "alice", password: PASSWORD }, SAMLResponse: "PHNhbWw+" }],
  ];
  for (const [name, payload] of bad) {
    it(`400 for ${name}`, async () => {
      const r = await authnCall(app, "POST", `${base}/authenticate`, payload);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
      expect(typeof r.body.message).toBe("string");
    });
  }

  it("400 for data that decrypts to something other than JSON, and for a body that is not JSON", async () => {
    const a = await authnCall(app, "POST", `${base}/authenticate`, undefined, { rawBody: JSON.stringify({ data: "AAAA" }) });
    const b = await authnCall(app, "POST", `${base}/authenticate`, undefined, { rawBody: "{not json" });
    expect([400, 401]).toContain(a.status);
    expect(b.status).toBe(400);
  });

  it("a forged or garbage step-up jwt is 401 and does not count as a failed login", async () => {
    const svc = services();
    for (const jwt of ["x.y.z", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "a".repeat(8000)]) {
      const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, jwt });
      expect(r.status).toBe(401);
    }
    expect(await svc.limiter.failures(scopeOf(t), "login", "alice")).toBe(0);
  });

  it("another tenant's community in the path is 403 for this license; a made-up one too", async () => {
    const a = await authnCall(app, "POST", `/tenant/${other.tenant.id}/community/${other.community.id}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    const b = await authnCall(app, "POST", `/tenant/${t.tenant.id}/community/not-a-community/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    expect(a.status).toBe(403);
    expect(b.status).toBe(403);
  });

  it("a user of another community is unknown here (same 401)", async () => {
    const svc = services();
    const c2 = await svc.tenants.createCommunity({ tenantId: t.tenant.id, name: `second-${Date.now()}` });
    await svc.users.create({ tenantId: t.tenant.id, communityId: c2.id, username: "elsewhere", passwordHash: t.alice.passwordHash });
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "elsewhere", password: PASSWORD } });
    expect(r.status).toBe(401);
  });

  it("a proof of another community cannot step up here", async () => {
    const svc = services();
    const c2 = await svc.tenants.createCommunity({ tenantId: t.tenant.id, name: `third-${Date.now()}` });
    await svc.users.create({ tenantId: t.tenant.id, communityId: c2.id, username: "alice", passwordHash: t.alice.passwordHash });
    const wide = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: ["*"] });
    const there = await authnCall<{ proof_of_authentication_jwt: string }>(wide, "POST", `/tenant/${t.tenant.id}/community/${c2.id}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    expect(there.status).toBe(200);
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, jwt: there.data.proof_of_authentication_jwt });
    expect(r.status).toBe(401);
  });
});

describe("authenticate: TOTP single use", () => {
  it("a code is accepted once; a replay fails", async () => {
    const secret = await enrolTotp(t, "admin");
    const code = await totpNow(secret);
    const ok = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD, otp: code } });
    const again = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD, otp: code } });
    expect(ok.status).toBe(200);
    expect(again.status).toBe(401);
    await services().limiter.success(scopeOf(t), "login", "admin");
  });

  it("of 8 racing uses of one code exactly one succeeds", async () => {
    const svc = services();
    const tt = await createTestTenant();
    const caller = await authnCaller({ tenantId: tt.tenant.id, level: "app", communities: [tt.community.id] });
    const secret = await enrolTotp(tt, "alice");
    // Wait for a fresh time step so the code cannot straddle steps mid-race.
    const now = Date.now();
    const intoStep = (now / 1000) % 30;
    if (intoStep > 25) await new Promise((r) => setTimeout(r, (30 - intoStep) * 1000 + 100));
    const code = await totpNow(secret);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        authnCall(caller, "POST", `/tenant/${tt.tenant.id}/community/${tt.community.id}/authenticate`, { credentials: { username: "alice", otp: code } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(7);
    expect(svc).toBeTruthy();
  });

  it("a wrong password does not burn the user's current code", async () => {
    const tt = await createTestTenant();
    const caller = await authnCaller({ tenantId: tt.tenant.id, level: "app", communities: [tt.community.id] });
    const secret = await enrolTotp(tt, "alice");
    const code = await totpNow(secret);
    const p = `/tenant/${tt.tenant.id}/community/${tt.community.id}/authenticate`;
    expect((await authnCall(caller, "POST", p, { credentials: { username: "alice", password: "not the password", otp: code } })).status).toBe(401);
    expect((await authnCall(caller, "POST", p, { credentials: { username: "alice", password: PASSWORD, otp: code } })).status).toBe(200);
  });

  it("malformed codes are wrong codes (401, then the lock's 429), never 5xx", async () => {
    const statuses: number[] = [];
    for (const otp of ["abcdef", "12345", "1234567", "      ", "１２３４５６"]) {
      statuses.push((await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", otp } })).status);
    }
    // The tenant locks a user after 3 failures.
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    await services().limiter.success(scopeOf(t), "login", "alice");
  });
});

describe("authenticate: rate limit", () => {
  it("locks the user after the tenant's threshold (429 with Retry-After), even with the right password", async () => {
    const svc = services();
    await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "target", passwordHash: t.alice.passwordHash });
    for (let i = 0; i < 3; i++) {
      const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "target", pin: "999999" } });
      expect(r.status).toBe(401);
    }
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "target", password: PASSWORD } });
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({ statusCode: 429 });
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("parallel wrong guesses cannot exceed the threshold (each attempt is reserved first)", async () => {
    const svc = services();
    await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "parallel", passwordHash: t.alice.passwordHash });
    const rs = await Promise.all(Array.from({ length: 10 }, () => authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "parallel", password: "wrong guess!" } })));
    const statuses = rs.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });
});

/**
 * Issue 10, hostile: the policy's facts cannot be forged, and the need_mfa `user_token` (a
 * pending login) is accepted only as the step-up's `jwt`, for its own user and community.
 */
describe("authenticate: the policy's facts and the pending login", () => {
  type Need = { user_token: string; next: { step: string } };
  const outsideOffice = { name: "outside the office", ip: { value: "10.0.0.0/8", operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_otp"] } };
  let pt: TestTenant;
  let pcaller: AuthnCaller;
  let ppath: string;
  let secret: string;

  beforeAll(async () => {
    pt = await createTestTenant();
    await createJourney(services(), scopeOf(pt), 2, outsideOffice);
    pcaller = await authnCaller({ tenantId: pt.tenant.id, level: "app", communities: [pt.community.id] });
    ppath = `/tenant/${pt.tenant.id}/community/${pt.community.id}`;
    secret = await enrolTotp(pt, "alice");
  });

  const pendingOf = async (username = "alice", caller = pcaller, path = ppath) => {
    const r = await authnCall<Need>(caller, "POST", `${path}/authenticate`, { credentials: { username, password: PASSWORD } });
    expect(r.data.next.step).toBe("need_mfa");
    return r.data.user_token;
  };

  it("a forged X-Forwarded-For from an app-level license does not move the login into the office range", async () => {
    for (const xff of ["10.0.0.1", "10.0.0.1, 203.0.113.7", " 10.0.0.1"]) {
      const r = await authnCall<Need>(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "198.51.100.20", headers: { "x-forwarded-for": xff } });
      expect(r.status).toBe(200);
      expect(r.data.next.step).toBe("need_mfa");
    }
  });

  it("the policy's IP cannot come from the payload: an `ip`/`IP` fact is a 400, not an office login", async () => {
    const r = await authnCall(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, facts: { IP: "10.0.0.1" } });
    expect(r.status).toBe(400);
  });

  it("a pending login replayed as a proof is refused everywhere a proof is accepted", async () => {
    const token = await pendingOf();
    for (const path of ["/authn/jwt/verifyToken", "/authn/v2/jwt/verifyToken"]) {
      const v = await callJson("POST", path, { token }, { host: pt.host });
      expect(v.status, path).toBe(401);
    }
    const mint = await authnCall(pcaller, "POST", `${ppath}/ktoken`, { jwt: token });
    expect(mint.status).toBe(401);
    const enrol = await authnCall(pcaller, "POST", `${ppath}/totp/enroll`, { jwt: token });
    expect(enrol.status).toBe(401);
    const pin = await authnCall(pcaller, "PUT", `${ppath}/pin`, { jwt: token, pin: "482913" });
    expect(pin.status).toBe(401);
    // The same token with its header claiming to be a proof fails the signature.
    const [, body, sig] = token.split(".");
    const header = btoa(JSON.stringify({ alg: "ES256", typ: "proof+jwt", kid: (JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { kid: string }).kid })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const forged = `${header}.${body}.${sig}`;
    expect((await callJson("POST", "/authn/jwt/verifyToken", { token: forged }, { host: pt.host })).status).toBe(401);
    expect((await authnCall(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, jwt: forged })).status).toBe(401);
  });

  it("a pending login steps up only its own user, and only once", async () => {
    const token = await pendingOf();
    const otherUser = await authnCall(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "admin", password: PASSWORD }, jwt: token });
    expect(otherUser.status).toBe(401);
    const wrong = await authnCall(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", otp: "000000" }, jwt: token });
    expect(wrong.status).toBe(401);
    const code = await totpNow(secret);
    const ok = await authnCall<{ proof_of_authentication_jwt: string }>(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", otp: code }, jwt: token });
    expect(ok.status).toBe(200);
    // Used: another step-up from it (with a password this time) is refused.
    const again = await authnCall(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, jwt: token });
    expect(again.status).toBe(401);
  });

  it("a pending login of another community or tenant is refused (401)", async () => {
    await createJourney(services(), scopeOf(other), 2, outsideOffice);
    const otherCaller = await authnCaller({ tenantId: other.tenant.id, level: "app", communities: [other.community.id] });
    const foreign = await pendingOf("alice", otherCaller, `/tenant/${other.tenant.id}/community/${other.community.id}`);
    const r = await authnCall(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, jwt: foreign });
    expect(r.status).toBe(401);
  });

  it("ending the user's sessions ends their pending logins", async () => {
    const token = await pendingOf();
    // Before: a step-up from it is answered (need_mfa again, with a fresh user_token).
    const before = await authnCall<Need>(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, jwt: token });
    expect(before.data.next.step).toBe("need_mfa");
    const fresh = before.data.user_token;
    await services().authority.revokeAll(pt.tenant.id, pt.alice.uid, "test");
    const r = await authnCall(pcaller, "POST", `${ppath}/authenticate`, { credentials: { username: "alice", password: PASSWORD }, jwt: fresh });
    expect(r.status).toBe(401);
  });
});
