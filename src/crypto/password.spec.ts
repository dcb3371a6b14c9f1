import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services } from "../../test/helpers/tenant";
import { eventually, post, scopeOf } from "../api/userpool/testing";
import { passwordMatches } from "../core/users/passwords";
import { toBase64Url, utf8 } from "./encoding";
import { hmacSha256 } from "./hash";
import { CURRENT_ITERATIONS, MAX_PBKDF2_ITERATIONS, PasswordHashError, burnPasswordCheck, hashPassword, verifyPassword } from "./password";

/**
 * Password hashing: the PBKDF2 iteration cap of the deployed Workers runtime (local workerd
 * does not enforce it, so the code must), re-hashing on login, the pepper, and the cost.
 */
const PEPPER = "test-pepper-for-unit-tests-0123456789abcdef";

/** A hash made like hashPassword but with any iteration count, straight through WebCrypto. */
async function rawHash(password: string, pepper: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const base = await crypto.subtle.importKey("raw", await hmacSha256(pepper, utf8(password)), "PBKDF2", false, ["deriveBits"]);
  const dk = new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, 256));
  return `$pbkdf2-sha256$v=1$i=${iterations}$${toBase64Url(salt)}$${toBase64Url(dk)}`;
}

describe("PBKDF2 iteration cap", () => {
  it("is 100,000 and is the current cost", () => {
    expect(MAX_PBKDF2_ITERATIONS).toBe(100_000);
    expect(CURRENT_ITERATIONS).toBe(100_000);
  });

  it("hashPassword refuses 100,001 iterations (and 0, and fractions)", async () => {
    await expect(hashPassword("a password", PEPPER, { iterations: 100_001 })).rejects.toBeInstanceOf(PasswordHashError);
    await expect(hashPassword("a password", PEPPER, { iterations: 0 })).rejects.toBeInstanceOf(PasswordHashError);
    await expect(hashPassword("a password", PEPPER, { iterations: 1.5 })).rejects.toBeInstanceOf(PasswordHashError);
    const h = await hashPassword("a password", PEPPER);
    expect(h).toMatch(/^\$pbkdf2-sha256\$v=1\$i=100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  });

  it("a correct stored hash claiming more than the cap never verifies", async () => {
    // Local workerd computes it; production would refuse the derivation and fail every login.
    const stored = await rawHash("a password", PEPPER, 100_001);
    expect(await verifyPassword("a password", stored, PEPPER)).toEqual({ ok: false, needsRehash: false });
  });

  it("malformed stored hashes never verify and never throw", async () => {
    const good = await hashPassword("a password", PEPPER, { iterations: 1000 });
    const variants = [
      "",
      "plaintext",
      good.replace("$v=1$", "$v=2$"),
      good.replace("i=1000", "i=0"),
      good.replace("i=1000", "i=-5"),
      good.replace("i=1000", "i=99999999999999999999999"),
      good.replace("$pbkdf2-sha256$", "$pbkdf2-sha1$"),
      `${good}$extra`,
      good.slice(0, -5),
      good.replace(/\$[^$]+$/, "$!!!notbase64"),
    ];
    for (const v of variants) {
      await expect(verifyPassword("a password", v, PEPPER), v).resolves.toMatchObject({ ok: false });
    }
  });

  it("verifies the right password, refuses a wrong one, and flags older parameters for re-hashing", async () => {
    const current = await hashPassword("a password", PEPPER);
    expect(await verifyPassword("a password", current, PEPPER)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword("a passworD", current, PEPPER)).toEqual({ ok: false, needsRehash: false });
    const old = await hashPassword("a password", PEPPER, { iterations: 1000 });
    expect(await verifyPassword("a password", old, PEPPER)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("wrong", old, PEPPER)).toEqual({ ok: false, needsRehash: false });
  });

  it("salts: the same password hashes differently each time", async () => {
    const [a, b] = await Promise.all([hashPassword("same", PEPPER, { iterations: 1000 }), hashPassword("same", PEPPER, { iterations: 1000 })]);
    expect(a).not.toBe(b);
  });
});

describe("pepper", () => {
  it("a hash made with another pepper does not verify", async () => {
    const h = await hashPassword("a password", "another-pepper-0123456789abcdef0123456789");
    expect((await verifyPassword("a password", h, PEPPER)).ok).toBe(false);
    expect((await verifyPassword("a password", h, "another-pepper-0123456789abcdef0123456789")).ok).toBe(true);
  });

  it("the stored hash is not plain PBKDF2 of the password (the pepper is applied first)", async () => {
    const stored = await hashPassword("a password", PEPPER, { iterations: 1000 });
    const [, , , , saltB64, dkB64] = stored.split("$");
    const salt = Uint8Array.from(atob(saltB64!.replace(/-/g, "+").replace(/_/g, "/") + "=="), (c) => c.charCodeAt(0));
    const base = await crypto.subtle.importKey("raw", utf8("a password"), "PBKDF2", false, ["deriveBits"]);
    const unpeppered = toBase64Url(new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 1000 }, base, 256)));
    expect(unpeppered).not.toBe(dkB64);
  });
});

describe("re-hash on login", () => {
  it("a user whose hash has 1,000 iterations gets a 100,000-iteration hash after a successful login", async () => {
    const t = await createTestTenant();
    const svc = services();
    const weak = await hashPassword(PASSWORD, svc.config.passwordPepper, { iterations: 1000 });
    await svc.users.update(t.tenant.id, t.alice.uid, { passwordHash: weak });
    // A failed login does not re-hash.
    expect((await post(t, "login", { username: "alice", password: "not the password" })).status).toBe(401);
    expect((await svc.users.byUid(t.tenant.id, t.alice.uid))!.passwordHash).toBe(weak);
    expect((await post(t, "login", { username: "alice", password: PASSWORD })).status).toBe(200);
    const rehashed = await eventually(async () => {
      const h = (await svc.users.byUid(t.tenant.id, t.alice.uid))!.passwordHash!;
      return h.includes("$i=100000$") ? h : null;
    });
    expect(await verifyPassword(PASSWORD, rehashed, svc.config.passwordPepper)).toEqual({ ok: true, needsRehash: false });
    expect((await post(t, "login", { username: "alice", password: PASSWORD })).status).toBe(200);
  });
});

describe("re-hash races", () => {
  it("a re-hash never overwrites a password set while it ran", async () => {
    const t = await createTestTenant();
    const base = services();
    const scope = await scopeOf(t);
    const weak = await hashPassword(PASSWORD, base.config.passwordPepper, { iterations: 1000 });
    await base.users.update(t.tenant.id, t.alice.uid, { passwordHash: weak });
    const user = (await base.users.byUid(t.tenant.id, t.alice.uid))!;
    const deferred: Promise<unknown>[] = [];
    const svc = { ...base, defer: (p: Promise<unknown>) => void deferred.push(p) };
    // The login's check succeeds and schedules a re-hash of the old password...
    expect(await passwordMatches(svc, scope, user, PASSWORD)).toBe(true);
    // ...while a reset sets a new password before the re-hash is written.
    const reset = await hashPassword("the password after reset", base.config.passwordPepper);
    await base.users.update(t.tenant.id, t.alice.uid, { passwordHash: reset });
    await Promise.all(deferred);
    expect((await base.users.byUid(t.tenant.id, t.alice.uid))!.passwordHash).toBe(reset);
  });
});

describe("corrupt or over-cap hashes at login", () => {
  it("answer 401 like a wrong password, never a 5xx", async () => {
    const t = await createTestTenant();
    const svc = services();
    const good = await hashPassword(PASSWORD, svc.config.passwordPepper, { iterations: 1000 });
    for (const stored of [await rawHash(PASSWORD, svc.config.passwordPepper, 100_001), good.replace("i=1000", "i=0"), "garbage"]) {
      await svc.users.update(t.tenant.id, t.alice.uid, { passwordHash: stored });
      const r = await post(t, "login", { username: "alice", password: PASSWORD });
      expect(r.status, stored).toBe(401);
    }
  });
});

describe("cost", () => {
  it("measures one derivation at 100,000 iterations in workerd (recorded in docs/security.md)", async () => {
    // workerd advances its clock only across I/O, so each measurement is fenced by a KV read;
    // the fence's own cost is measured alone and subtracted.
    const fence = () => env.TOKENS.get("pbkdf2-timing-fence");
    const n = 10;
    await fence();
    let t0 = Date.now();
    for (let i = 0; i < n; i++) await fence();
    const fenceMs = (Date.now() - t0) / n;
    await hashPassword("warm-up", PEPPER);
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      await fence();
      t0 = Date.now();
      await hashPassword("benchmark-password", PEPPER);
      await fence();
      samples.push(Date.now() - t0 - fenceMs);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(n / 2)]!;
    console.log(`PBKDF2-HMAC-SHA256 100000 iterations in workerd: median ${median.toFixed(1)} ms, min ${samples[0]!.toFixed(1)} ms, max ${samples[n - 1]!.toFixed(1)} ms (fence ${fenceMs.toFixed(2)} ms)`);
    expect(median).toBeGreaterThan(1);
    // A login for an unknown user burns the same one derivation.
    await fence();
    t0 = Date.now();
    await burnPasswordCheck("whatever", PEPPER);
    await burnPasswordCheck("whatever", PEPPER);
    await fence();
    expect(Date.now() - t0).toBeGreaterThan(median);
  });
});
