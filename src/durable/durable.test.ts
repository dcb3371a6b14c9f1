import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { HeldRecord, Presentation } from "../core/sessions/refresh-tokens";
import type { HeldRotateInput, HeldRotateResult, RotateInput } from "./token-authority";

/**
 * The Durable Objects on their own, called over RPC like the core calls them: every decision
 * is one synchronous read-modify-write, so racing calls see a single order.
 */
const uniq = () => crypto.randomUUID();
const authority = () => env.TOKEN_AUTHORITY.get(env.TOKEN_AUTHORITY.idFromName(`test:${uniq()}`));
const limiter = () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`test:${uniq()}`));
const guard = () => env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(`test:${uniq()}`));

const HOUR = 3_600_000;

function rotation(familyId: string, presentedHash: string, now: number, graceMs = 10_000): RotateInput {
  const successorHash = `succ-${uniq()}`;
  return { familyId, presentedHash, successorHash, successorSealed: `sealed:${successorHash}`, successorExpiresAt: now + HOUR, now, graceMs };
}

describe("TokenAuthority", () => {
  it("rotates once; a retry within grace gets the same sealed successor; later use is reuse and revokes", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("fam", "h0", now + HOUR, now + 2 * HOUR, now);
    const first = rotation("fam", "h0", now);
    expect(await a.rotate(first)).toEqual({ status: "rotated" });
    expect(await a.rotate(rotation("fam", "h0", now + 5_000))).toEqual({ status: "retry", successorSealed: first.successorSealed });
    expect(await a.isActive("fam", now + 5_000)).toBe(true);
    expect(await a.rotate(rotation("fam", "h0", now + 10_001))).toEqual({ status: "reuse" });
    expect(await a.isActive("fam", now + 10_002)).toBe(false);
    expect(await a.rotate(rotation("fam", first.successorHash, now + 10_003))).toEqual({ status: "revoked" });
    expect(await a.describe("fam")).toMatchObject({ reason: "refresh_token_reuse", tokens: 2 });
  });

  it("checkToken reads a token's state and changes nothing", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("fam", "h0", now + HOUR, now + 2 * HOUR, now);
    await a.openFamily("other", "h9", now + HOUR, now + 2 * HOUR, now);
    expect(await a.checkToken("fam", "h0", now)).toBe("active");
    expect(await a.checkToken("fam", "h0", now + 1000)).toBe("active");
    expect(await a.checkToken("fam", "nope", now)).toBe("unknown");
    expect(await a.checkToken("fam", "h9", now)).toBe("unknown");
    expect(await a.checkToken("missing", "h0", now)).toBe("unknown");
    expect(await a.checkToken("fam", "h0", now + HOUR)).toBe("expired");
    expect(await a.describe("fam")).toEqual({ revokedAt: null, reason: null, tokens: 1 });
    const r = rotation("fam", "h0", now);
    expect(await a.rotate(r)).toEqual({ status: "rotated" });
    expect(await a.checkToken("fam", "h0", now)).toBe("rotated");
    expect(await a.checkToken("fam", r.successorHash, now)).toBe("active");
    expect(await a.revokeFamily("fam", "test", now)).toBe(true);
    expect(await a.checkToken("fam", r.successorHash, now)).toBe("revoked");
    await a.revokeAll("test", now + 1);
    expect(await a.checkToken("other", "h9", now + 2)).toBe("revoked");
  });

  it("20 racing rotations of one token: one rotated, 19 retries with that successor", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("fam", "h0", now + HOUR, now + 2 * HOUR, now);
    const inputs = Array.from({ length: 20 }, () => rotation("fam", "h0", now));
    const results = await Promise.all(inputs.map((i) => a.rotate(i)));
    const rotated = results.filter((r) => r.status === "rotated");
    expect(rotated).toHaveLength(1);
    const winner = inputs[results.findIndex((r) => r.status === "rotated")]!;
    for (const r of results) if (r.status !== "rotated") expect(r).toEqual({ status: "retry", successorSealed: winner.successorSealed });
    expect(await a.describe("fam")).toMatchObject({ revokedAt: null, tokens: 2 });
  });

  it("refuses unknown tokens, tokens of another family, expired tokens and families past their absolute lifetime", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("f1", "h1", now + 1000, now + HOUR, now);
    await a.openFamily("f2", "h2", now + HOUR, now + 2000, now);
    expect(await a.rotate(rotation("f1", "nope", now))).toEqual({ status: "unknown" });
    expect(await a.rotate(rotation("f2", "h1", now))).toEqual({ status: "unknown" });
    expect(await a.rotate(rotation("missing", "h1", now))).toEqual({ status: "unknown" });
    expect(await a.rotate(rotation("f1", "h1", now + 1000))).toEqual({ status: "expired" });
    expect(await a.rotate(rotation("f2", "h2", now + 2000))).toEqual({ status: "expired" });
    expect(await a.isActive("f2", now + 2000)).toBe(false);
    expect(await a.activeUntil("f1", now)).toBe(now + HOUR);
    // Refusals are not reuse: nothing was revoked.
    expect(await a.describe("f1")).toMatchObject({ revokedAt: null });
  });

  it("a successor never outlives the family's absolute lifetime", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("fam", "h0", now + 1000, now + 5000, now);
    const r = rotation("fam", "h0", now);
    expect(await a.rotate(r)).toEqual({ status: "rotated" });
    expect(await a.rotate(rotation("fam", r.successorHash, now + 5000))).toEqual({ status: "expired" });
  });

  it("after revokeAll, a family whose credential was checked earlier opens revoked", async () => {
    const a = authority();
    const now = Date.now();
    await a.revokeAll("password_reset", now);
    await a.openFamily("stale", "hs", now + HOUR, now + HOUR, now + 5, now - 1);
    await a.openFamily("fresh", "hf", now + HOUR, now + HOUR, now + 5, now + 1);
    await a.openFamily("untimed", "hu", now + HOUR, now + HOUR, now + 5);
    expect(await a.isActive("stale", now + 5)).toBe(false);
    expect(await a.describe("stale")).toMatchObject({ reason: "credential_superseded" });
    expect(await a.rotate(rotation("stale", "hs", now + 6))).toEqual({ status: "revoked" });
    expect(await a.isActive("fresh", now + 5)).toBe(true);
    expect(await a.isActive("untimed", now + 5)).toBe(true);
  });

  it("revokeAll ends every family but the one kept; revokeFamily is idempotent", async () => {
    const a = authority();
    const now = Date.now();
    for (const f of ["a", "b", "c"]) await a.openFamily(f, null, now + HOUR, now + HOUR, now);
    expect(await a.revokeAll("password_change", now, "b")).toBe(2);
    expect(await a.isActive("a", now)).toBe(false);
    expect(await a.isActive("b", now)).toBe(true);
    expect(await a.isActive("c", now)).toBe(false);
    expect(await a.revokeFamily("b", "logout", now)).toBe(true);
    expect(await a.revokeFamily("b", "logout", now)).toBe(false);
    expect(await a.revokeAll("disabled", now)).toBe(0);
  });
});

describe("TokenAuthority: families holding their session record (held refresh tokens)", () => {
  const record = (tenantId: string, familyId: string, expiresAt: number): HeldRecord => ({
    kind: "session",
    record: { tenantId, sub: "u1", familyId, communityId: "c1", username: "Alice", idToken: false, expiresAt, carry: { amr: ["pwd"] } },
  });
  const mine: Presentation = { tenantId: "t1", kind: "session" };
  function heldRotation(presentedHash: string, now: number, presentation = mine, graceMs = 10_000): HeldRotateInput {
    const successorHash = `succ-${uniq()}`;
    return { presentation, presentedHash, successorHash, successorSealed: `sealed:${successorHash}`, successorExpiresAt: now + HOUR, now, graceMs };
  }

  it("answers the record with each decision; rotation, retry and reuse as rotate()'s", async () => {
    const a = authority();
    const now = Date.now();
    const held = record("t1", "fam", now + 2 * HOUR);
    await a.openFamily("fam", "h0", now + HOUR, now + 2 * HOUR, now, undefined, held);
    expect(await a.checkHeld("h0", mine, now)).toEqual({ status: "active", held });
    const first = heldRotation("h0", now);
    expect(await a.rotateHeld(first)).toEqual({ status: "rotated", held });
    expect(await a.checkHeld("h0", mine, now)).toEqual({ status: "rotated", held });
    expect(await a.rotateHeld(heldRotation("h0", now + 5_000))).toEqual({ status: "retry", successorSealed: first.successorSealed, held });
    expect(await a.rotateHeld(heldRotation("h0", now + 10_001))).toEqual({ status: "reuse", held });
    expect(await a.rotateHeld(heldRotation(first.successorHash, now + 10_002))).toEqual({ status: "revoked", held });
    expect(await a.checkHeld(first.successorHash, mine, now + 10_002)).toEqual({ status: "revoked", held });
    expect(await a.describe("fam")).toMatchObject({ reason: "refresh_token_reuse", tokens: 2 });
  });

  it("racing rotations of one held token: exactly one rotates, the rest get its successor", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("fam", "h0", now + HOUR, now + 2 * HOUR, now, undefined, record("t1", "fam", now + 2 * HOUR));
    const tries = Array.from({ length: 20 }, () => heldRotation("h0", now));
    const results = (await Promise.all(tries.map((r) => a.rotateHeld(r)))) as HeldRotateResult[];
    const won = results.flatMap((r, i) => (r.status === "rotated" ? [tries[i]!] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status !== "rotated") expect(r).toMatchObject({ status: "retry", successorSealed: won[0]!.successorSealed });
    expect(await a.describe("fam")).toMatchObject({ revokedAt: null, tokens: 2 });
  });

  it("another tenant, surface or username: unknown, and nothing changes (no rotation, no reuse, no revocation)", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("fam", "h0", now + HOUR, now + 2 * HOUR, now, undefined, record("t1", "fam", now + 2 * HOUR));
    for (const p of [{ tenantId: "t2", kind: "session" as const }, { tenantId: "t1", kind: "provider" as const }, { ...mine, username: "bob" }]) {
      expect(await a.rotateHeld(heldRotation("h0", now, p))).toEqual({ status: "unknown" });
      expect(await a.checkHeld("h0", p, now)).toEqual({ status: "unknown" });
      expect(await a.revokeHeld("h0", p, "revoked_by_client", now)).toBeNull();
    }
    expect(await a.describe("fam")).toMatchObject({ revokedAt: null, tokens: 1 });
    expect(await a.checkHeld("h0", { ...mine, username: "ALICE" }, now)).toMatchObject({ status: "active" });
  });

  it("a provider record: a wider scope is scope_exceeded before any write", async () => {
    const a = authority();
    const now = Date.now();
    const held: HeldRecord = { kind: "provider", record: { tenantId: "t1", communityId: "c1", clientId: "app", sub: "u1", familyId: "fam", scopes: ["openid"], authTime: 1, amr: [], acr: "", ssoSessionId: "s", expiresAt: now + HOUR } };
    await a.openFamily("fam", "h0", now + HOUR, now + HOUR, now, undefined, held);
    const p = { tenantId: "t1", kind: "provider" as const, communityId: "c1", clientId: "app" };
    expect(await a.rotateHeld(heldRotation("h0", now, { ...p, scopes: ["openid", "email"] }))).toEqual({ status: "scope_exceeded" });
    expect(await a.checkHeld("h0", { ...p, scopes: ["email"] }, now)).toEqual({ status: "scope_exceeded" });
    expect(await a.describe("fam")).toMatchObject({ revokedAt: null, tokens: 1 });
    expect(await a.rotateHeld(heldRotation("h0", now, { ...p, scopes: ["openid"] }))).toMatchObject({ status: "rotated" });
  });

  it("unknown tokens, families opened without a record, expiry, and revocation by token", async () => {
    const a = authority();
    const now = Date.now();
    await a.openFamily("old", "hk", now + HOUR, now + HOUR, now);
    await a.openFamily("fam", "h0", now + HOUR, now + 2 * HOUR, now, undefined, record("t1", "fam", now + 2 * HOUR));
    // An old-shape family has no record: the held methods do not know its tokens.
    expect(await a.checkHeld("hk", mine, now)).toEqual({ status: "unknown" });
    expect(await a.rotateHeld(heldRotation("hk", now))).toEqual({ status: "unknown" });
    expect(await a.checkHeld("nope", mine, now)).toEqual({ status: "unknown" });
    expect(await a.checkHeld("h0", mine, now + HOUR)).toMatchObject({ status: "expired" });
    expect(await a.rotateHeld(heldRotation("h0", now + 2 * HOUR))).toMatchObject({ status: "expired" });
    expect(await a.revokeHeld("h0", mine, "revoked_by_client", now)).toMatchObject({ kind: "session", record: { familyId: "fam" } });
    expect(await a.revokeHeld("h0", mine, "revoked_by_client", now)).toBeNull();
    expect(await a.isActive("fam", now)).toBe(false);
    expect(await a.checkHeld("h0", mine, now)).toMatchObject({ status: "revoked" });
    expect(await a.isActive("old", now)).toBe(true);
  });
});

describe("RateLimiter", () => {
  const policy = { threshold: 3, windowMs: HOUR, baseDelayMs: 60_000, maxDelayMs: 300_000 };

  it("locks at the threshold and doubles the wait per further failure up to the maximum", async () => {
    const l = limiter();
    const now = Date.now();
    expect(await l.fail(policy, now)).toMatchObject({ allowed: true, failures: 1 });
    expect(await l.fail(policy, now)).toMatchObject({ allowed: true, failures: 2 });
    expect(await l.fail(policy, now)).toMatchObject({ allowed: false, retryAfter: 60, failures: 3 });
    expect(await l.check(policy, now + 59_000)).toMatchObject({ allowed: false, retryAfter: 1 });
    expect(await l.check(policy, now + 60_000)).toMatchObject({ allowed: true });
    expect(await l.fail(policy, now)).toMatchObject({ retryAfter: 120 });
    expect(await l.fail(policy, now)).toMatchObject({ retryAfter: 240 });
    expect(await l.fail(policy, now)).toMatchObject({ retryAfter: 300 });
    expect(await l.fail(policy, now)).toMatchObject({ retryAfter: 300, failures: 7 });
    await l.reset();
    expect(await l.check(policy, now)).toEqual({ allowed: true, retryAfter: 0, failures: 0 });
  });

  it("begin reserves: failures plus checks in flight never exceed the threshold", async () => {
    const l = limiter();
    const now = Date.now();
    const begun = await Promise.all(Array.from({ length: 10 }, () => l.begin(policy, now)));
    expect(begun.filter((d) => d.allowed)).toHaveLength(3);
    // Refused only until the three settle (moments): not a lock, so ask again in a second.
    for (const d of begun.filter((x) => !x.allowed)) expect(d).toMatchObject({ retryAfter: 1 });
    // Settling: one fails, one is released; a new check may then begin.
    await l.fail(policy, now, true);
    await l.release();
    expect(await l.begin(policy, now)).toMatchObject({ allowed: true, failures: 1 });
    expect(await l.begin(policy, now)).toMatchObject({ allowed: false });
    // An unsettled reservation (a crashed request) stops counting after 30 s.
    expect(await l.begin(policy, now + 30_001)).toMatchObject({ allowed: true, failures: 1 });
    // A success clears failures and reservations.
    await l.reset();
    expect((await Promise.all([l.begin(policy, now), l.begin(policy, now), l.begin(policy, now)])).every((d) => d.allowed)).toBe(true);
  });

  it("a lock lasts its current wait: then one check may begin, and its failure locks for the next, longer wait", async () => {
    const l = limiter();
    const now = Date.now();
    for (let i = 0; i < 3; i++) expect(await l.begin(policy, now)).toMatchObject({ allowed: true });
    for (let i = 0; i < 3; i++) await l.fail(policy, now, true);
    // Locked: begin answers the true remaining wait, not a constant.
    expect(await l.begin(policy, now + 1_000)).toEqual({ allowed: false, retryAfter: 59, failures: 3 });
    expect(await l.begin(policy, now + 59_500)).toMatchObject({ allowed: false, retryAfter: 1 });
    // The wait is over: a check begins (the right password would get in)...
    const after = now + 60_000;
    expect(await l.begin(policy, after)).toEqual({ allowed: true, retryAfter: 0, failures: 3 });
    // ...but only one at a time past the threshold; another is refused until it settles.
    expect(await l.begin(policy, after)).toEqual({ allowed: false, retryAfter: 1, failures: 3 });
    // It fails: the next wait is twice as long, and begin says so.
    expect(await l.fail(policy, after, true)).toMatchObject({ allowed: false, retryAfter: 120, failures: 4 });
    expect(await l.begin(policy, after + 30_000)).toMatchObject({ allowed: false, retryAfter: 90 });
    expect(await l.begin(policy, after + 120_000)).toMatchObject({ allowed: true, failures: 4 });
  });

  it("progressive: each failure after a lock ends waits twice as long as the last, up to the maximum", async () => {
    const l = limiter();
    let now = Date.now();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const b = await l.begin(policy, now);
      expect(b.allowed).toBe(true);
      const d = await l.fail(policy, now, true);
      if (!d.allowed) {
        waits.push(d.retryAfter);
        now += d.retryAfter * 1000;
      }
    }
    expect(waits).toEqual([60, 120, 240, 300, 300]);
    // A success (reset) clears the count: the next lock starts again at the base wait.
    await l.reset();
    for (let i = 0; i < 3; i++) await l.fail(policy, now);
    expect(await l.begin(policy, now)).toMatchObject({ allowed: false, retryAfter: 60, failures: 3 });
  });

  it("100 racing checks when a lock has ended: exactly one begins", async () => {
    const l = limiter();
    const now = Date.now();
    for (let i = 0; i < 3; i++) await l.fail(policy, now);
    const later = now + 60_000;
    const begun = await Promise.all(Array.from({ length: 100 }, () => l.begin(policy, later)));
    expect(begun.filter((d) => d.allowed)).toHaveLength(1);
    for (const d of begun.filter((x) => !x.allowed)) expect(d.retryAfter).toBe(1);
    // It settles without failing (released): the next check may begin.
    await l.release();
    expect(await l.begin(policy, later)).toMatchObject({ allowed: true });
  });

  it("100 racing failures are all counted", async () => {
    const l = limiter();
    const now = Date.now();
    const big = { ...policy, threshold: 1000 };
    await Promise.all(Array.from({ length: 100 }, () => l.fail(big, now)));
    expect(await l.failures(HOUR, now)).toBe(100);
  });

  it("failures outside the window are forgotten", async () => {
    const l = limiter();
    const now = Date.now();
    await l.fail(policy, now);
    await l.fail(policy, now);
    expect(await l.fail(policy, now + HOUR + 1)).toMatchObject({ allowed: true, failures: 1 });
  });

  it("a fixed-window limit allows `limit` hits per window", async () => {
    const l = limiter();
    const now = Date.now();
    const r = await Promise.all(Array.from({ length: 7 }, () => l.hit(5, 60_000, now)));
    expect(r.filter((d) => d.allowed)).toHaveLength(5);
    expect(r.find((d) => !d.allowed)).toMatchObject({ retryAfter: 60 });
    expect(await l.hit(5, 60_000, now + 60_001)).toMatchObject({ allowed: true, failures: 1 });
  });
});

describe("ReplayGuard", () => {
  it("a claim succeeds exactly once among 10 racing claims, until it expires", async () => {
    const g = guard();
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 10 }, () => g.claim("id", now + 1000, now)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await g.isClaimed("id", now + 999)).toBe(true);
    expect(await g.isClaimed("id", now + 1001)).toBe(false);
    expect(await g.claim("id", now + 5000, now + 1001)).toBe(true);
    expect(await g.claim("other", now + 1000, now)).toBe(true);
  });
});
