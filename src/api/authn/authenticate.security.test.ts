import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { sha256Hex } from "../../crypto/hash";
import { beginTotpEnrolment, totpNow } from "../../core/mfa/totp";
import type { Scope } from "../../core/context";
import { parseTenantSettings } from "../../core/tenants/settings";

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
