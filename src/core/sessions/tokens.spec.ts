import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { claimsOf, loginTokens, post, scopeOf, sleep } from "../../api/userpool/testing";
import { passwordLogin } from "../auth/login";
import { setUserPassword } from "../users/passwords";
import { issueSession, verifyAccessToken } from "./tokens";

/**
 * Refresh-token rotation under concurrency, grace-window retries and reuse detection, driven
 * through the userpool API against the real TokenAuthority Durable Object. Rotation is a
 * tenant's opt-in on the userpool surface (settings.ts refreshRotation), so these tenants turn
 * it on; the default, non-rotating refresh is tested in api/userpool/token-refresh.test.ts.
 */
const ROTATING = { refreshRotation: { userpool: true } };
let t: TestTenant;
let strict: TestTenant;
beforeAll(async () => {
  t = await createTestTenant(ROTATING);
  strict = await createTestTenant({ ...ROTATING, refreshGraceSeconds: 1 });
});

const refresh = (tt: TestTenant, refresh_token: string) => post(tt, "token-refresh", { username: "alice", refresh_token });

describe("concurrent refreshes of one refresh token", () => {
  it("20 at once: all 200, exactly one successor, no revocation, and the successor works", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const sid = claimsOf(s.access_token).sid as string;
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(t, s.refresh_token)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const successors = new Set(answers.map((r) => r.body.refresh_token));
    expect(successors.size).toBe(1);
    const [successor] = [...successors] as string[];
    expect(successor).not.toBe(s.refresh_token);
    const fam = await services().authority.describe(t.tenant.id, t.alice.uid, sid);
    expect(fam).toMatchObject({ revokedAt: null, tokens: 2 });
    // Every access token handed out verifies; the successor rotates normally.
    const scope = await scopeOf(t);
    for (const r of answers) await expect(verifyAccessToken(services(), scope, r.body.access_token as string)).resolves.toMatchObject({ sid });
    const next = await refresh(t, successor!);
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(successor);
  });

  it("a retry within the grace window gets the same successor", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const a = await refresh(t, s.refresh_token);
    const b = await refresh(t, s.refresh_token);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.refresh_token).toBe(a.body.refresh_token);
  });

  it("a retry of the rotated token after its successor was used is reuse, even within the grace window", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const a = await refresh(t, s.refresh_token);
    expect((await refresh(t, a.body.refresh_token as string)).status).toBe(200);
    const replay = await refresh(t, s.refresh_token);
    expect(replay.status).toBe(400);
    const sid = claimsOf(s.access_token).sid as string;
    expect(await services().authority.describe(t.tenant.id, t.alice.uid, sid)).toMatchObject({ reason: "refresh_token_reuse" });
  });
});

describe("reuse of a rotated token after the grace window", () => {
  it("revokes the family: its access tokens fail at once and its successor fails too", async () => {
    const s = await loginTokens(strict, "alice", PASSWORD);
    const rotated = await refresh(strict, s.refresh_token);
    expect(rotated.status).toBe(200);
    const scope = await scopeOf(strict);
    // Prime the isolate's one-second "active" cache: revocation must not hide behind it.
    await verifyAccessToken(services(), scope, rotated.body.access_token as string);
    await sleep(1100);
    await verifyAccessToken(services(), scope, rotated.body.access_token as string);
    const reuse = await refresh(strict, s.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body).toEqual({ message: expect.stringMatching(/already used/), status: 400 });
    for (const token of [s.access_token, rotated.body.access_token as string]) {
      await expect(verifyAccessToken(services(), scope, token)).rejects.toMatchObject({ code: "token_revoked" });
      const r = await post(strict, "change-password", { access_token: token, previous_password: PASSWORD, proposed_password: "a brand new passphrase 42" });
      expect(r.status).toBe(401);
    }
    expect((await refresh(strict, rotated.body.refresh_token as string)).status).toBe(400);
    // Other sessions of the user are not touched by one family's reuse.
    const other = await loginTokens(strict, "alice", PASSWORD);
    await expect(verifyAccessToken(services(), scope, other.access_token)).resolves.toBeDefined();
  });

  it("with a grace of 0 s, any second use of a rotated token is reuse", async () => {
    const zero = await createTestTenant({ ...ROTATING, refreshGraceSeconds: 0 });
    const s = await loginTokens(zero, "alice", PASSWORD);
    const rotated = await refresh(zero, s.refresh_token);
    await sleep(5);
    expect((await refresh(zero, s.refresh_token)).status).toBe(400);
    expect((await refresh(zero, rotated.body.refresh_token as string)).status).toBe(400);
    await expect(verifyAccessToken(services(), await scopeOf(zero), rotated.body.access_token as string)).rejects.toMatchObject({ code: "token_revoked" });
  });
});

describe("revocation from another isolate", () => {
  it("is hidden by this isolate's cache for at most one second", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const sid = claimsOf(s.access_token).sid as string;
    const scope = await scopeOf(t);
    const svc = services();
    await verifyAccessToken(svc, scope, s.access_token); // cached as active now
    // Revoke straight in the Durable Object, as another isolate would (this isolate's cache is not told).
    const { env } = await import("cloudflare:test");
    const stub = env.TOKEN_AUTHORITY.get(env.TOKEN_AUTHORITY.idFromName(`${t.tenant.id}:${t.alice.uid}`));
    expect(await stub.revokeFamily(sid, "test", Date.now())).toBe(true);
    await sleep(1050);
    await expect(verifyAccessToken(svc, scope, s.access_token)).rejects.toMatchObject({ code: "token_revoked" });
  });
});

describe("a login racing a password reset", () => {
  it("a session whose password check preceded the reset is born revoked; a login after it is not", async () => {
    const tt = await createTestTenant(ROTATING);
    const svc = services();
    const scope = await scopeOf(tt);
    const subject = (u: typeof tt.alice) => ({ sub: u.uid, communityId: u.communityId, username: u.username, roles: u.roles, user: u });
    // The login checks the old password...
    const outcome = await passwordLogin(svc, scope, "alice", PASSWORD);
    await sleep(2);
    // ...a reset ends every session before the login has opened its own...
    await setUserPassword(svc, scope, outcome.user, "the password after the reset", "password_reset");
    // ...then the login opens its session.
    const late = await issueSession(svc, scope, subject(outcome.user), { refresh: true, idToken: true, authenticatedAt: outcome.authenticatedAt });
    await expect(verifyAccessToken(svc, scope, late.accessToken)).rejects.toMatchObject({ code: "token_revoked" });
    expect((await refresh(tt, late.refreshToken!)).status).toBe(400);
    // A login with the new password, after the reset, is unaffected; so is a session opened without authenticatedAt.
    await sleep(2);
    const after = await loginTokens(tt, "alice", "the password after the reset");
    await expect(verifyAccessToken(svc, scope, after.access_token)).resolves.toBeDefined();
    expect((await refresh(tt, after.refresh_token)).status).toBe(200);
  });
});

describe("lifetimes", () => {
  it("a refresh token of a session past its absolute end is refused (the record the authority holds ends with it)", async () => {
    const short = await createTestTenant({ ...ROTATING, refreshTokenTtlSeconds: 60 });
    const s = await loginTokens(short, "alice", PASSWORD);
    const { sha256Hex } = await import("../../crypto/hash");
    const authorityId = s.refresh_token.slice(0, 64);
    const digest = await sha256Hex(s.refresh_token);
    const presentation = { tenantId: short.tenant.id, kind: "session" as const };
    const { env } = await import("cloudflare:test");
    const stub = env.TOKEN_AUTHORITY.get(env.TOKEN_AUTHORITY.idFromString(authorityId));
    const end = Date.now() + 90 * 86_400_000 + 1000;
    expect(await stub.checkHeld(digest, presentation, end)).toMatchObject({ status: "expired" });
    const r = await stub.rotateHeld({ presentation, presentedHash: digest, successorHash: "0".repeat(64), successorSealed: "x", successorExpiresAt: end + 60_000, now: end, graceMs: 0 });
    expect(r).toMatchObject({ status: "expired" });
    // Refusals change nothing: today the token is still the session's current one.
    expect((await refresh(short, s.refresh_token)).status).toBe(200);
  });

  it("a refresh token past its own sliding expiry is refused by the authority", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const sid = claimsOf(s.access_token).sid as string;
    const { sha256Hex } = await import("../../crypto/hash");
    const r = await services().authority.rotate(t.tenant.id, t.alice.uid, {
      familyId: sid,
      presentedHash: await sha256Hex(s.refresh_token),
      successorHash: "0".repeat(64),
      successorSealed: "x",
      successorExpiresAt: Date.now() + 91 * 86_400_000,
      now: Date.now() + 91 * 86_400_000,
      graceMs: 0,
    });
    expect(r.status).toBe("expired");
  });

  it("access and refresh lifetimes follow the tenant's settings", async () => {
    const custom = await createTestTenant({ accessTokenTtlSeconds: 600 });
    const s = await loginTokens(custom, "alice", PASSWORD);
    expect(s.expires_in).toBe(600);
    const c = claimsOf(s.access_token);
    expect((c.exp as number) - (c.iat as number)).toBe(600);
  });
});
