import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { claimsOf, loginTokens, post } from "../../api/userpool/testing";
import { sha256Hex } from "../../crypto/hash";
import { randomToken, uuid } from "../../crypto/random";
import { forgetIsolateActiveCache } from "./authority";
import { newHeldRefreshToken, newRefreshToken, parseRefreshToken, presentationFits, putSessionRecord, type HeldRecord, type SessionRecord } from "./refresh-tokens";

let t: TestTenant;
let other: TestTenant;
beforeAll(async () => {
  // These tests are about rotation, a tenant's opt-in on the userpool surface (settings.ts).
  t = await createTestTenant({ refreshRotation: { userpool: true } });
  other = await createTestTenant({ refreshRotation: { userpool: true } });
});

const HEX64 = "0123456789abcdef".repeat(4);

describe("refresh token shapes", () => {
  it("held: the authority's id (64 hex) and a fresh 256-bit secret", () => {
    const a = newHeldRefreshToken(HEX64);
    const b = newHeldRefreshToken(HEX64);
    expect(a).toMatch(/^[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(parseRefreshToken(a)).toEqual({ shape: "held", authorityId: HEX64, raw: a });
  });

  it("kv (sessions opened before the record moved): a fixed session key and a fresh secret", () => {
    const a = newRefreshToken();
    const b = newRefreshToken(a.sessionKey);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(b.token.startsWith(`${a.sessionKey}.`)).toBe(true);
    expect(b.token).not.toBe(a.token);
    expect(parseRefreshToken(a.token)).toEqual({ shape: "kv", sessionKey: a.sessionKey, raw: a.token });
  });

  it("anything else is not a refresh token (and never throws)", () => {
    const k = randomToken();
    const held = newHeldRefreshToken(HEX64);
    for (const odd of [undefined, null, 42, {}, "", k, `${k}.`, `.${k}`, `${k}.${k}.`, `${k}:${k}`, `${k}.${k.slice(1)}=`, `${k.slice(0, 42)}!.${k}`, `${k}.${k}`.toUpperCase().replace(/[A-Z]/, "+"), "a".repeat(10_000),
      held.toUpperCase(), `${HEX64.slice(1)}g.${k}`, `${HEX64}:${k}`, `${HEX64}.${k}=`, `${HEX64}.${k.slice(1)}!`, `${HEX64.slice(1)}.${k}`, `${HEX64}0.${k}`, `${HEX64}.${k}.`, `${k}${k.slice(0, 21)}.${k}`]) {
      expect(parseRefreshToken(odd)).toBeNull();
    }
  });
});

describe("presentationFits: whose record a presenter may redeem", () => {
  const session: HeldRecord = {
    kind: "session",
    record: { tenantId: "t1", sub: "u1", familyId: "f1", communityId: "c1", username: "Alice", idToken: true, expiresAt: 1, carry: {} },
  };
  const provider: HeldRecord = {
    kind: "provider",
    record: { tenantId: "t1", communityId: "c1", clientId: "app", sub: "u1", familyId: "f2", scopes: ["openid", "email"], authTime: 1, amr: [], acr: "", ssoSessionId: "s", expiresAt: 1 },
  };
  it("the tenant and the surface must be the record's; the username case-insensitively", () => {
    expect(presentationFits(session, { tenantId: "t1", kind: "session" })).toBe("ok");
    expect(presentationFits(session, { tenantId: "t1", kind: "session", username: "aLICE" })).toBe("ok");
    expect(presentationFits(session, { tenantId: "t2", kind: "session" })).toBe("unknown");
    expect(presentationFits(session, { tenantId: "t1", kind: "provider" })).toBe("unknown");
    expect(presentationFits(session, { tenantId: "t1", kind: "session", username: "bob" })).toBe("unknown");
    expect(presentationFits(provider, { tenantId: "t1", kind: "session" })).toBe("unknown");
  });
  it("a provider record: its community and client; a scope within the grant's, else 'scope'", () => {
    expect(presentationFits(provider, { tenantId: "t1", kind: "provider", communityId: "c1", clientId: "app" })).toBe("ok");
    expect(presentationFits(provider, { tenantId: "t1", kind: "provider", communityId: "c1", clientId: "app", scopes: ["email"] })).toBe("ok");
    expect(presentationFits(provider, { tenantId: "t1", kind: "provider", communityId: "c2", clientId: "app" })).toBe("unknown");
    expect(presentationFits(provider, { tenantId: "t1", kind: "provider", communityId: "c1", clientId: "other" })).toBe("unknown");
    expect(presentationFits(provider, { tenantId: "t2", kind: "provider", communityId: "c1", clientId: "app", scopes: ["phone"] })).toBe("unknown");
    expect(presentationFits(provider, { tenantId: "t1", kind: "provider", communityId: "c1", clientId: "app", scopes: ["openid", "phone"] })).toBe("scope");
  });
});

/**
 * A session opened the way every session was before the record moved into the authority: a
 * KV record under the session key and a family without a record (the OLD PATH).
 */
async function openKvSession(tt: TestTenant, now = Date.now()): Promise<{ token: string; sid: string; sessionKey: string }> {
  const svc = services();
  const sid = uuid();
  const fresh = newRefreshToken();
  const expiresAt = now + 90 * 86_400_000;
  const rec: SessionRecord = { tenantId: tt.tenant.id, sub: tt.alice.uid, familyId: sid, communityId: tt.alice.communityId, username: tt.alice.username, idToken: true, expiresAt, carry: { amr: ["pwd"] }, authTime: Math.floor(now / 1000) };
  await putSessionRecord(svc, fresh.sessionKey, rec, now);
  await svc.authority.open(tt.tenant.id, tt.alice.uid, sid, await sha256Hex(fresh.token), expiresAt, expiresAt, now);
  return { token: fresh.token, sid, sessionKey: fresh.sessionKey };
}

const refreshAt = (tt: TestTenant, refresh_token: string) => post(tt, "token-refresh", { username: "alice", refresh_token });
const revokeAt = (tt: TestTenant, refresh_token: string) => post(tt, "token-revoke", { refresh_token });
const family = (tt: TestTenant, sid: string) => services().authority.describe(tt.tenant.id, tt.alice.uid, sid);

describe("a new session's token names its authority and its record lives there", () => {
  it("the login's token is held-shape, names alice's authority (not alice), and the authority answers her record", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const parsed = parseRefreshToken(s.refresh_token);
    expect(parsed).toMatchObject({ shape: "held", authorityId: services().authority.authorityId(t.tenant.id, t.alice.uid) });
    expect(s.refresh_token).not.toContain(t.alice.uid);
    const r = await services().authority.checkHeld(parsed!.shape === "held" ? parsed!.authorityId : "", await sha256Hex(s.refresh_token), { tenantId: t.tenant.id, kind: "session" });
    expect(r).toMatchObject({ status: "active", held: { kind: "session", record: { tenantId: t.tenant.id, sub: t.alice.uid, familyId: claimsOf(s.access_token).sid, username: "alice" } } });
  });

  it("another tenant's token neither refreshes, nor revokes, nor spends it (rotating or not)", async () => {
    const plain = await createTestTenant();
    for (const [home, away] of [[t, other], [plain, other], [t, plain]] as const) {
      const s = await loginTokens(home, "alice", PASSWORD);
      const sid = claimsOf(s.access_token).sid as string;
      const r = await refreshAt(away, s.refresh_token);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ message: "invalid refresh token", status: 400 });
      expect((await revokeAt(away, s.refresh_token)).status).toBe(200);
      expect(await family(home, sid)).toMatchObject({ revokedAt: null, tokens: 1 });
      // Still the home session's current token: nothing was rotated, reused or revoked.
      const ok = await refreshAt(home, s.refresh_token);
      expect(ok.status).toBe(200);
    }
  });

  it("a forged authority id, or one of another namespace's form, is an unknown token: 400, never 500", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const secret = s.refresh_token.slice(65);
    const other64 = services().authority.authorityId(other.tenant.id, other.alice.uid);
    for (const forged of [`${"0".repeat(64)}.${secret}`, `${"f".repeat(64)}.${secret}`, `${HEX64}.${secret}`, `${other64}.${secret}`, `${other64}.${randomToken()}`]) {
      const r = await refreshAt(t, forged);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ message: "invalid refresh token", status: 400 });
      expect((await revokeAt(t, forged)).status).toBe(200);
    }
    expect((await refreshAt(t, s.refresh_token)).status).toBe(200);
  });

  it("a wrong username is refused like an unknown token and spends nothing", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const r = await post(t, "token-refresh", { username: "bob", refresh_token: s.refresh_token });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: "invalid refresh token", status: 400 });
    expect((await refreshAt(t, s.refresh_token)).status).toBe(200);
  });

  it("20 concurrent rotations of a held token: exactly one successor, held-shape, same authority", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const sid = claimsOf(s.access_token).sid as string;
    const answers = await Promise.all(Array.from({ length: 20 }, () => refreshAt(t, s.refresh_token)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const successors = new Set(answers.map((r) => r.body.refresh_token as string));
    expect(successors.size).toBe(1);
    const [successor] = [...successors] as string[];
    expect(successor!.slice(0, 65)).toBe(s.refresh_token.slice(0, 65));
    expect(await family(t, sid)).toMatchObject({ revokedAt: null, tokens: 2 });
    expect((await refreshAt(t, successor!)).status).toBe(200);
  });
});

describe("old-shape (KV record) sessions keep working until they end", () => {
  it("refresh rotates within the old shape; reuse revokes; revoke needs a token it issued", async () => {
    const k = await openKvSession(t);
    const r1 = await refreshAt(t, k.token);
    expect(r1.status).toBe(200);
    const next = r1.body.refresh_token as string;
    expect(parseRefreshToken(next)).toMatchObject({ shape: "kv", sessionKey: k.sessionKey });
    expect(claimsOf(r1.body.access_token as string)).toMatchObject({ sid: k.sid, amr: ["pwd"] });
    // Another tenant: refused, nothing spent.
    expect((await refreshAt(other, next)).status).toBe(400);
    expect((await refreshAt(t, next)).status).toBe(200);
    // The first token again, after its successor was used: reuse ends the session.
    expect((await refreshAt(t, k.token)).status).toBe(400);
    expect(await family(t, k.sid)).toMatchObject({ reason: "refresh_token_reuse" });

    const k2 = await openKvSession(t);
    expect((await revokeAt(t, `${k2.sessionKey}.${randomToken()}`)).status).toBe(200);
    expect(await family(t, k2.sid)).toMatchObject({ revokedAt: null });
    expect((await revokeAt(t, k2.token)).status).toBe(200);
    expect(await family(t, k2.sid)).toMatchObject({ reason: "revoked_by_client" });
  });

  it("20 concurrent rotations of an old-shape token: exactly one successor", async () => {
    const k = await openKvSession(t);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refreshAt(t, k.token)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((r) => r.body.refresh_token)).size).toBe(1);
    expect(await family(t, k.sid)).toMatchObject({ revokedAt: null, tokens: 2 });
  });

  it("a past-its-end KV record is refused as expired", async () => {
    const k = await openKvSession(t);
    const digest = await sha256Hex(k.sessionKey);
    const rec = await services().secrets.get<Record<string, unknown>>("rs", digest);
    expect(rec).toMatchObject({ sub: t.alice.uid });
    await services().secrets.put("rs", digest, { ...rec, expiresAt: Date.now() - 1 }, 60);
    const r = await refreshAt(t, k.token);
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/expired/);
  });
});

describe("rotation keeps the session key; revocation needs a token the session issued", () => {
  const refresh = (refresh_token: string) => post(t, "token-refresh", { username: "alice", refresh_token });
  const revoke = (refresh_token: string) => post(t, "token-revoke", { refresh_token });

  it("every successor shares the session key and differs in its secret", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const r1 = await refresh(s.refresh_token);
    const r2 = await refresh(r1.body.refresh_token as string);
    const keys = [s.refresh_token, r1.body.refresh_token, r2.body.refresh_token].map((x) => (x as string).split(".")[0]);
    expect(new Set(keys).size).toBe(1);
    expect(new Set([s.refresh_token, r1.body.refresh_token, r2.body.refresh_token]).size).toBe(3);
  });

  it("a made-up secret under a real session key neither refreshes nor revokes", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const forged = `${s.refresh_token.split(".")[0]}.${randomToken()}`;
    expect((await refresh(forged)).status).toBe(400);
    expect((await revoke(forged)).status).toBe(200); // RFC 7009: unknown tokens are not an error
    const sid = claimsOf(s.access_token).sid as string;
    // The forged refresh was not reuse: the session is untouched and its real token works.
    expect(await services().authority.describe(t.tenant.id, t.alice.uid, sid)).toMatchObject({ revokedAt: null });
    expect((await refresh(s.refresh_token)).status).toBe(200);
  });

  it("revoking with the current token ends the session and its access tokens", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const r1 = await refresh(s.refresh_token);
    expect((await revoke(r1.body.refresh_token as string)).status).toBe(200);
    const sid = claimsOf(s.access_token).sid as string;
    expect(await services().authority.describe(t.tenant.id, t.alice.uid, sid)).toMatchObject({ reason: "revoked_by_client" });
    expect((await refresh(r1.body.refresh_token as string)).status).toBe(400);
  });
});

describe("held tokens' 'active' answers in the caches (isolate, then the data center's)", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
  async function openHeld() {
    const authority = services().authority;
    const tenantId = `held-${uuid()}`;
    const sub = uuid();
    const familyId = uuid();
    const until = Date.now() + 3_600_000;
    const held: HeldRecord = { kind: "session", record: { tenantId, sub, familyId, communityId: "c", username: "u", idToken: false, expiresAt: until, carry: {} } };
    await authority.open(tenantId, sub, familyId, "hash-1", until, until, undefined, undefined, held);
    return { authority, tenantId, sub, familyId, id: authority.authorityId(tenantId, sub), p: { tenantId, kind: "session" as const } };
  }

  it("shared like checkToken's and bounded the same way: a revocation elsewhere shows within 1 s", async () => {
    const s = await openHeld();
    expect(await s.authority.checkHeld(s.id, "hash-1", s.p)).toMatchObject({ status: "active" });
    const answeredBy = Date.now();
    const { env } = await import("cloudflare:test");
    expect(await env.TOKEN_AUTHORITY.get(env.TOKEN_AUTHORITY.idFromString(s.id)).revokeFamily(s.familyId, "test", Date.now())).toBe(true);
    forgetIsolateActiveCache();
    expect(await s.authority.checkHeld(s.id, "hash-1", s.p)).toMatchObject({ status: "active" });
    // Even a cached answer is the presenter's only: another tenant learns nothing from it.
    expect(await s.authority.checkHeld(s.id, "hash-1", { tenantId: "other", kind: "session" })).toEqual({ status: "unknown" });
    await sleep(answeredBy + 1000 - Date.now());
    expect(await s.authority.checkHeld(s.id, "hash-1", s.p)).toMatchObject({ status: "revoked" });
  });

  it("a revocation or a rotation through SessionAuthority is seen at once, cached answers or not", async () => {
    const a = await openHeld();
    expect(await a.authority.checkHeld(a.id, "hash-1", a.p)).toMatchObject({ status: "active" });
    expect(await a.authority.revokeHeld(a.id, "hash-1", a.p, "revoked_by_client")).toMatchObject({ record: { familyId: a.familyId } });
    expect(await a.authority.checkHeld(a.id, "hash-1", a.p)).toMatchObject({ status: "revoked" });
    forgetIsolateActiveCache();
    expect(await a.authority.checkHeld(a.id, "hash-1", a.p)).toMatchObject({ status: "revoked" });

    const b = await openHeld();
    expect(await b.authority.checkHeld(b.id, "hash-1", b.p)).toMatchObject({ status: "active" });
    const now = Date.now();
    const r = await b.authority.rotateHeld(b.id, { presentation: b.p, presentedHash: "hash-1", successorHash: "hash-2", successorSealed: "x", successorExpiresAt: now + 60_000, now, graceMs: 0 });
    expect(r).toMatchObject({ status: "rotated" });
    expect(await b.authority.checkHeld(b.id, "hash-1", b.p)).toMatchObject({ status: "rotated" });
    forgetIsolateActiveCache();
    expect(await b.authority.checkHeld(b.id, "hash-1", b.p)).toMatchObject({ status: "rotated" });
    expect(await b.authority.checkHeld(b.id, "hash-2", b.p)).toMatchObject({ status: "active" });
  });
});
