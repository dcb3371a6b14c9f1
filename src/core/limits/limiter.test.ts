import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services } from "../../../test/helpers/tenant";
import { post, requestCode, scopeOf } from "../../api/userpool/testing";

/**
 * Rate limits and progressive lockout on credential checks, through the userpool API and the
 * real RateLimiter Durable Objects: counters are exact under concurrency, locks answer 429 with
 * Retry-After even for the right password, and a reset releases them.
 */
describe("failure counting under concurrency", () => {
  it("100 parallel wrong passwords for one user: the counter reads exactly 100", async () => {
    const t = await createTestTenant({ lockout: { userThreshold: 100, ipThreshold: 100_000 } });
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => post(t, "login", { username: "alice", password: `wrong password ${i}` })));
    expect(answers.map((r) => r.status)).toEqual(Array(100).fill(401));
    const scope = await scopeOf(t);
    expect(await services().limiter.failures(scope, "login", "alice")).toBe(100);
    // The 100th failure reached the threshold: now the user is locked.
    const locked = await post(t, "login", { username: "alice", password: PASSWORD });
    expect(locked.status).toBe(429);
  });
});

describe("parallel guessing cannot exceed the threshold", () => {
  it("100 parallel wrong passwords with the default threshold of 30: exactly 30 are checked", async () => {
    const t = await createTestTenant();
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => post(t, "login", { username: "alice", password: `wrong password ${i}` })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.filter((s) => s === 429)).toHaveLength(70);
    for (const r of answers.filter((a) => a.status === 429)) expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await services().limiter.failures(await scopeOf(t), "login", "alice")).toBe(30);
  });

  it("20 parallel wrong reset codes with an attempt limit of 5: exactly 5 are checked", async () => {
    const t = await createTestTenant();
    await requestCode(t, "alice", `alice@${t.host}`);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(t, "forgot-password-confirm", { username: "alice", password: "a brand new passphrase 42", confirmation_code: `WRONG${i}zz` })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  it("parallel correct logins below the threshold all succeed and leave nothing counted", async () => {
    const t = await createTestTenant();
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(t, "login", { username: "alice", password: PASSWORD })));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(await services().limiter.failures(await scopeOf(t), "login", "alice")).toBe(0);
  });
});

describe("lockout with the default policy", () => {
  it("after 30 failures: 429 with Retry-After even with the right password; a reset releases it", async () => {
    const t = await createTestTenant();
    for (let i = 0; i < 30; i++) {
      const r = await post(t, "login", { username: "alice", password: `wrong password ${i}` });
      expect(r.status).toBe(401);
    }
    const locked = await post(t, "login", { username: "ALICE", password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual({ message: expect.any(String), status: 429 });
    const wait = Number(locked.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    // Other users (and the same IP for them) are not locked.
    expect((await post(t, "login", { username: "admin", password: PASSWORD })).status).toBe(200);
    // Further failures lengthen the lock (progressively, capped at 15 minutes).
    const scope = await scopeOf(t);
    await services().limiter.failure(scope, "login", "alice");
    const longer = await post(t, "login", { username: "alice", password: PASSWORD });
    expect(Number(longer.headers.get("retry-after"))).toBeGreaterThan(wait);
    // A successful password reset releases the lock.
    const code = await requestCode(t, "alice", `alice@${t.host}`);
    const newPassword = "released by a reset 123";
    expect((await post(t, "forgot-password-confirm", { username: "alice", password: newPassword, confirmation_code: code })).status).toBe(200);
    expect((await post(t, "login", { username: "alice", password: newPassword })).status).toBe(200);
    expect(await services().limiter.failures(scope, "login", "alice")).toBe(0);
  });

  it("a success below the threshold clears the count", async () => {
    const t = await createTestTenant();
    for (let i = 0; i < 3; i++) await post(t, "login", { username: "alice", password: `wrong password ${i}` });
    const scope = await scopeOf(t);
    expect(await services().limiter.failures(scope, "login", "alice")).toBe(3);
    expect((await post(t, "login", { username: "alice", password: PASSWORD })).status).toBe(200);
    expect(await services().limiter.failures(scope, "login", "alice")).toBe(0);
  });

  it("unknown usernames are counted and locked like existing ones", async () => {
    const t = await createTestTenant({ lockout: { userThreshold: 3 } });
    for (let i = 0; i < 3; i++) expect((await post(t, "login", { username: "ghost", password: `wrong ${i}xxxx` })).status).toBe(401);
    const r = await post(t, "login", { username: "ghost", password: "anything at all" });
    expect(r.status).toBe(429);
  });
});

describe("per-IP limits", () => {
  it("lock the connecting IP (CF-Connecting-IP) across usernames, not other IPs, and ignore X-Forwarded-For", async () => {
    const t = await createTestTenant({ lockout: { ipThreshold: 5 } });
    const ip = "198.51.100.23";
    for (let i = 0; i < 5; i++) {
      expect((await post(t, "login", { username: `user${i}`, password: "wrong password" }, { ip })).status).toBe(401);
    }
    const locked = await post(t, "login", { username: "alice", password: PASSWORD }, { ip });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    // A spoofed X-Forwarded-For does not escape the lock...
    const spoofed = await post(t, "login", { username: "alice", password: PASSWORD }, { ip, headers: { "x-forwarded-for": "192.0.2.1" } });
    expect(spoofed.status).toBe(429);
    // ...and another connecting IP is not affected.
    expect((await post(t, "login", { username: "alice", password: PASSWORD }, { ip: "198.51.100.24" })).status).toBe(200);
  });
});

describe("guard's one-second trust in a clean counter (high-entropy secrets only)", () => {
  it("a failure through this isolate is seen at once; one recorded elsewhere within a second", async () => {
    const t = await createTestTenant({ lockout: { userThreshold: 1, ipThreshold: 100_000 } });
    const svc = services();
    const scope = await scopeOf(t, "198.51.100.77");
    await expect(svc.limiter.guard(scope, "client", "c-1")).resolves.toEqual({ failures: 0 });
    // Through this isolate's Limiter: the clean mark is dropped, the lock applies at once.
    await svc.limiter.failure(scope, "client", "c-1");
    await expect(svc.limiter.guard(scope, "client", "c-1")).rejects.toMatchObject({ code: "rate_limited" });

    // Recorded straight at the object, as another isolate would: seen within a second.
    await expect(svc.limiter.guard(scope, "client", "c-2")).resolves.toEqual({ failures: 0 });
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`${t.tenant.id}:client:c-2`));
    await stub.fail({ threshold: 1, windowMs: 3_600_000, baseDelayMs: 60_000, maxDelayMs: 900_000 }, Date.now());
    await new Promise((r) => setTimeout(r, 1100));
    await expect(svc.limiter.guard(scope, "client", "c-2")).rejects.toMatchObject({ code: "rate_limited" });
  });
});

describe("the connecting IP's counter reserves too", () => {
  it("30 parallel wrong passwords for 30 usernames from one IP with an IP threshold of 10: exactly 10 are checked", async () => {
    const t = await createTestTenant({ lockout: { userThreshold: 100, ipThreshold: 10 } });
    const ip = "198.51.100.99";
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(t, "login", { username: `someone-${i}`, password: `wrong password ${i}` }, { ip })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    // Another IP is not affected, and nothing stays reserved for it.
    expect((await post(t, "login", { username: "alice", password: PASSWORD }, { ip: "198.51.100.100" })).status).toBe(200);
  });

  it("a succeeded or released attempt gives its IP reservation back: more attempts than the threshold in a row all begin", async () => {
    const t = await createTestTenant({ lockout: { userThreshold: 100, ipThreshold: 3 } });
    const svc = services();
    const scope = await scopeOf(t, "198.51.100.98");
    for (let i = 0; i < 4; i++) {
      await svc.limiter.attempt(scope, "login", `user-${i}`);
      await svc.limiter.attemptSucceeded(scope, "login", `user-${i}`);
    }
    for (let i = 0; i < 4; i++) {
      await svc.limiter.attempt(scope, "login", `other-${i}`);
      await svc.limiter.release(scope, "login", `other-${i}`);
    }
    // Three attempts in flight fill the IP's threshold; a fourth is refused until one settles.
    for (let i = 0; i < 3; i++) await svc.limiter.attempt(scope, "login", `open-${i}`);
    await expect(svc.limiter.attempt(scope, "login", "open-3")).rejects.toMatchObject({ code: "rate_limited" });
    await svc.limiter.release(scope, "login", "open-0");
    await expect(svc.limiter.attempt(scope, "login", "open-3")).resolves.toBeUndefined();
  });
});
