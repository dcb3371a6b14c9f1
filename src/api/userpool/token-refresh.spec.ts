import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { endAllSessions, verifyAccessToken } from "../../core/sessions/tokens";
import { forgetTenantCache } from "../../http/tenant";
import { claimsOf, loginTokens, post, scopeOf, sleep, type Json } from "./testing";

/**
 * POST /v1/token-refresh as seed 002 documents it: `{username, refresh_token}` in,
 * `{id_token, access_token, expires_in}` out, and the login's refresh token kept for the
 * session's whole life (Cognito's default). Rotation is a tenant's opt-in
 * (refreshRotation.userpool); its reuse detection is tested in core/sessions/tokens.test.ts.
 */
const DOCUMENTED = ["access_token", "expires_in", "id_token"];
const NEW_PASSWORD = "a brand new passphrase 42";

let t: TestTenant;
beforeAll(async () => {
  // A 1 s grace: were the refresh rotating, a second use after it would be reuse.
  t = await createTestTenant({ refreshGraceSeconds: 1 });
});

const refresh = (tt: TestTenant, refresh_token: string, username = "alice") => post(tt, "token-refresh", { username, refresh_token });

function expectRefused(r: { status: number; body: Json }) {
  expect(r.status).toBe(400);
  expect(r.body).toEqual({ message: "invalid refresh token", status: 400 });
}

async function newUser(tt: TestTenant, name: string) {
  const base = await services().users.byUid(tt.tenant.id, tt.alice.uid);
  return services().users.create({ tenantId: tt.tenant.id, communityId: tt.community.id, username: name, email: `${name}@${tt.host}`, roles: ["user"], passwordHash: base!.passwordHash });
}

/** The subject's TokenAuthority, and every SQL statement it runs while `f` does. */
async function statementsDuring(tt: TestTenant, uid: string, f: () => Promise<void>): Promise<string[]> {
  const stub = env.TOKEN_AUTHORITY.get(env.TOKEN_AUTHORITY.idFromName(`${tt.tenant.id}:${uid}`));
  const seen: string[] = [];
  const restore = await runInDurableObject(stub, (instance) => {
    const sql = (instance as unknown as { sql: SqlStorage }).sql;
    const original = sql.exec.bind(sql);
    const spy = vi.spyOn(sql, "exec").mockImplementation(((query: string, ...bindings: SqlStorageValue[]) => {
      seen.push(query);
      return original(query, ...bindings);
    }) as typeof sql.exec);
    return () => spy.mockRestore();
  });
  try {
    await f();
  } finally {
    await runInDurableObject(stub, () => restore());
  }
  return seen;
}

async function kvKeyCount(): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await env.TOKENS.list(cursor ? { cursor } : {});
    n += page.keys.length;
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return n;
}

describe("POST /v1/token-refresh without rotation (the default)", () => {
  it("answers exactly the document's fields, and the login's token works again after the grace window", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const first = await refresh(t, s.refresh_token, "Alice");
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(DOCUMENTED);
    expect(first.body.expires_in).toBe(86400);
    await sleep(1100);
    const again = await refresh(t, s.refresh_token);
    expect(again.status).toBe(200);
    expect(Object.keys(again.body).sort()).toEqual(DOCUMENTED);
    // Nothing was revoked: every access token of the session still verifies, in the same session.
    const scope = await scopeOf(t);
    for (const token of [s.access_token, first.body.access_token as string, again.body.access_token as string]) {
      const claims = await verifyAccessToken(services(), scope, token);
      expect(claims.sid).toBe(claimsOf(s.access_token).sid);
    }
    expect(claimsOf(first.body.id_token as string).sub).toBe(t.alice.uid);
    // auth_time is when alice signed in (OIDC Core §2), not when a refresh signed the token.
    const signedIn = claimsOf(s.id_token).auth_time as number;
    expect(typeof signedIn).toBe("number");
    expect(claimsOf(again.body.id_token as string).auth_time).toBe(signedIn);
    expect(claimsOf(again.body.id_token as string).iat as number).toBeGreaterThan(signedIn);
  });

  it("20 refreshes at once with one token: all 200", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(t, s.refresh_token)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((await refresh(t, s.refresh_token)).status).toBe(200);
  });

  it("writes nothing to the TokenAuthority (only SELECTs) and nothing to KV", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const keysBefore = await kvKeyCount();
    const statements = await statementsDuring(t, t.alice.uid, async () => {
      for (let i = 0; i < 3; i++) {
        expect((await refresh(t, s.refresh_token)).status).toBe(200);
        await sleep(1050); // past the isolate's 1 s cache, so the authority is asked each time
      }
    });
    expect(statements.length).toBeGreaterThan(0);
    for (const q of statements) expect(q.trim()).toMatch(/^SELECT/i);
    expect(await kvKeyCount()).toBe(keysBefore);
    const sid = claimsOf(s.access_token).sid as string;
    expect(await services().authority.describe(t.tenant.id, t.alice.uid, sid)).toEqual({ revokedAt: null, reason: null, tokens: 1 });
  });

  it("fails at once after POST /v1/token-revoke, with every access token of the session", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const r = await refresh(t, s.refresh_token);
    expect(r.status).toBe(200);
    expect((await post(t, "token-revoke", { refresh_token: s.refresh_token })).status).toBe(200);
    expectRefused(await refresh(t, s.refresh_token));
    await expect(verifyAccessToken(services(), await scopeOf(t), r.body.access_token as string)).rejects.toMatchObject({ code: "token_revoked" });
  });

  it("a revocation made by another isolate is hidden by this isolate's cache for at most one second", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    expect((await refresh(t, s.refresh_token)).status).toBe(200); // cached as active now
    // Revoke straight in the Durable Object, as another isolate would (this isolate's cache is not told).
    const stub = env.TOKEN_AUTHORITY.get(env.TOKEN_AUTHORITY.idFromName(`${t.tenant.id}:${t.alice.uid}`));
    expect(await stub.revokeFamily(claimsOf(s.access_token).sid as string, "test", Date.now())).toBe(true);
    await sleep(1050);
    expectRefused(await refresh(t, s.refresh_token));
  });

  it("fails at once when the user's sessions end (password change elsewhere, every session ended)", async () => {
    await newUser(t, "keeper");
    const mine = await loginTokens(t, "keeper", PASSWORD);
    const other = await loginTokens(t, "keeper", PASSWORD);
    expect((await refresh(t, other.refresh_token, "keeper")).status).toBe(200);
    const changed = await post(t, "change-password", { access_token: mine.access_token, previous_password: PASSWORD, proposed_password: NEW_PASSWORD });
    expect(changed.status).toBe(200);
    expectRefused(await refresh(t, other.refresh_token, "keeper"));
    // The caller's own session lives on, and still without rotation.
    const kept = await refresh(t, mine.refresh_token, "keeper");
    expect(kept.status).toBe(200);
    expect(kept.body.refresh_token).toBeUndefined();
    const u = await services().users.byUsername(t.community.id, "keeper");
    await endAllSessions(services(), await scopeOf(t), u!.uid, "test");
    expectRefused(await refresh(t, mine.refresh_token, "keeper"));
  });

  it("fails at once when the user is disabled", async () => {
    const u = await newUser(t, "to-disable");
    const s = await loginTokens(t, "to-disable", PASSWORD);
    expect((await refresh(t, s.refresh_token, "to-disable")).status).toBe(200);
    await services().users.update(t.tenant.id, u.uid, { disabled: true });
    const r = await refresh(t, s.refresh_token, "to-disable");
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ message: expect.any(String), status: 403 });
  });

  it("checks the token itself: a forged secret under a genuine session key fails and ends nothing", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const [key, secret] = s.refresh_token.split(".") as [string, string];
    const forged = `${key}.${secret.startsWith("A") ? "B" : "A"}${secret.slice(1)}`;
    expectRefused(await refresh(t, forged));
    expectRefused(await refresh(t, `${key}.${"A".repeat(43)}`));
    expect((await refresh(t, s.refresh_token)).status).toBe(200);
  });

  it("a username that is not the token's subject is refused alike for a valid, revoked, forged or unknown token", async () => {
    const valid = await loginTokens(t, "alice", PASSWORD);
    const revoked = await loginTokens(t, "alice", PASSWORD);
    expect((await post(t, "token-revoke", { refresh_token: revoked.refresh_token })).status).toBe(200);
    const [key] = valid.refresh_token.split(".") as [string];
    for (const token of [valid.refresh_token, revoked.refresh_token, `${key}.${"A".repeat(43)}`, `${"C".repeat(43)}.${"A".repeat(43)}`]) {
      for (const name of ["admin", "nobody-here", "alice2"]) expectRefused(await refresh(t, token, name));
    }
    // The valid token was not harmed by the refusals.
    expect((await refresh(t, valid.refresh_token)).status).toBe(200);
  });

  it("answers 400 in the document's shape for wrong types and an access token in place of a refresh token", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    for (const body of [{ username: "alice", refresh_token: 7 }, { username: ["alice"], refresh_token: s.refresh_token }, { username: "alice" }, {}]) {
      const r = await post(t, "token-refresh", body);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ message: expect.any(String), status: 400 });
    }
    expectRefused(await refresh(t, s.access_token));
  });
});

describe("POST /v1/token-refresh with rotation on (refreshRotation.userpool)", () => {
  it("answers a successor refresh_token; the old token is retired after the grace window", async () => {
    const rot = await createTestTenant({ refreshRotation: { userpool: true }, refreshGraceSeconds: 1 });
    const s = await loginTokens(rot, "alice", PASSWORD);
    const r = await refresh(rot, s.refresh_token);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual([...DOCUMENTED, "refresh_token"].sort());
    expect(r.body.refresh_token).not.toBe(s.refresh_token);
    // Within the grace window a retry gets the same successor (Cognito's retry grace period).
    expect((await refresh(rot, s.refresh_token)).body.refresh_token).toBe(r.body.refresh_token);
    await sleep(1100);
    const reuse = await refresh(rot, s.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body.message).toMatch(/already used/);
    expect((await refresh(rot, r.body.refresh_token as string)).status).toBe(400);
  });

  it("switching rotation off later: a rotated token stays dead, the current one keeps working unrotated", async () => {
    const tt = await createTestTenant({ refreshRotation: { userpool: true } });
    const s = await loginTokens(tt, "alice", PASSWORD);
    const rotated = await refresh(tt, s.refresh_token);
    const current = rotated.body.refresh_token as string;
    await services().tenants.updateTenantSettings(tt.tenant.id, { refreshRotation: { userpool: false } });
    forgetTenantCache();
    expectRefused(await refresh(tt, s.refresh_token));
    const r = await refresh(tt, current);
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeUndefined();
    expect((await refresh(tt, current)).status).toBe(200);
  });
});
