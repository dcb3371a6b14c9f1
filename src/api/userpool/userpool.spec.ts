import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { claimsOf, eventually, headerOf, lastMailId, loginTokens, mailTo, post, requestCode, resetCodeDigest, scopeOf, sleep } from "./testing";
import { sha256Hex } from "../../crypto/hash";
import { verifyAccessToken } from "../../core/sessions/tokens";

/**
 * The userpool API (seed 002) end to end through the Worker: every operation's success and
 * each documented failure, in the documented `{message, status}` shape.
 */
const NEW_PASSWORD = "a brand new passphrase 42";

let t: TestTenant;
beforeAll(async () => {
  // Generous mail limit: many tests here ask for codes; the limit itself is tested on its own tenant.
  t = await createTestTenant({ mailPerHour: 1000 });
});

/** Every error of this API: `{message, status}` with the HTTP status repeated. */
function expectError(r: { status: number; body: Record<string, unknown> }, status: number) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ message: expect.any(String), status });
}

async function newUser(tt: TestTenant, name: string, extra: { mustChangePassword?: boolean } = {}) {
  const base = await services().users.byUid(tt.tenant.id, tt.alice.uid);
  return services().users.create({
    tenantId: tt.tenant.id,
    communityId: tt.community.id,
    username: name,
    email: `${name.toLowerCase()}@${tt.host}`,
    roles: ["user"],
    passwordHash: base!.passwordHash,
    ...extra,
  });
}

describe("POST /v1/login", () => {
  it("returns access, id and refresh tokens for a correct password", async () => {
    const r = await post(t, "login", { username: "alice", password: PASSWORD });
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body).toEqual({ id_token: expect.any(String), access_token: expect.any(String), refresh_token: expect.any(String), expires_in: 86400 });
    const access = claimsOf(r.body.access_token as string);
    expect(headerOf(r.body.access_token as string)).toMatchObject({ alg: "ES256", typ: "at+jwt", kid: expect.any(String) });
    expect(access).toMatchObject({ sub: t.alice.uid, tenant: t.tenant.id, username: "alice", token_use: "access", aud: t.tenant.id });
    expect((access.exp as number) - (access.iat as number)).toBe(86400);
    const id = claimsOf(r.body.id_token as string);
    expect(headerOf(r.body.id_token as string)).toMatchObject({ typ: "JWT" });
    expect(id).toMatchObject({ sub: t.alice.uid, token_use: "id", email: `alice@${t.host}`, given_name: "Alice", sid: access.sid });
  });

  it("compares usernames in lower case", async () => {
    const r = await post(t, "login", { username: "ALICE", password: PASSWORD });
    expect(r.status).toBe(200);
    expect(claimsOf(r.body.access_token as string).sub).toBe(t.alice.uid);
  });

  it("answers 401 alike for a wrong password and an unknown user", async () => {
    const wrong = await post(t, "login", { username: "alice", password: "not the password" });
    const unknown = await post(t, "login", { username: "nobody-here", password: "not the password" });
    expectError(wrong, 401);
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
  });

  it("answers 400 for missing or mistyped fields", async () => {
    expectError(await post(t, "login", { username: "alice" }), 400);
    expectError(await post(t, "login", { password: PASSWORD }), 400);
    expectError(await post(t, "login", { username: 42, password: PASSWORD }), 400);
    expectError(await post(t, "login", { username: "alice", password: "" }), 400);
  });

  it("answers 403 for a disabled user with the right password (401 with a wrong one)", async () => {
    const u = await newUser(t, "disabled-login");
    await services().users.update(t.tenant.id, u.uid, { disabled: true });
    expectError(await post(t, "login", { username: "disabled-login", password: PASSWORD }), 403);
    expectError(await post(t, "login", { username: "disabled-login", password: "wrong password here" }), 401);
  });

  it("returns the NEW_PASSWORD_REQUIRED challenge with a session instead of tokens", async () => {
    const r = await post(t, "login", { username: "newbie", password: PASSWORD });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ challenge_name: "NEW_PASSWORD_REQUIRED", session: expect.any(String), expires_in: 300 });
  });
});

describe("POST /v1/new-password-required", () => {
  it("completes the challenge once: tokens, then the session is spent", async () => {
    await newUser(t, "Fresh1", { mustChangePassword: true });
    const challenge = await post(t, "login", { username: "fresh1", password: PASSWORD });
    const session = challenge.body.session as string;
    const r = await post(t, "new-password-required", { session, username: "FRESH1", new_password: NEW_PASSWORD });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id_token: expect.any(String), access_token: expect.any(String), refresh_token: expect.any(String), expires_in: 86400 });
    expectError(await post(t, "new-password-required", { session, username: "fresh1", new_password: "yet another passphrase" }), 400);
    // The new password is the password now, and no challenge is asked any more.
    expectError(await post(t, "login", { username: "fresh1", password: PASSWORD }), 401);
    const again = await post(t, "login", { username: "fresh1", password: NEW_PASSWORD });
    expect(again.status).toBe(200);
    expect(again.body.access_token).toEqual(expect.any(String));
  });

  it("refuses a weak password without spending the session", async () => {
    await newUser(t, "fresh2", { mustChangePassword: true });
    const session = (await post(t, "login", { username: "fresh2", password: PASSWORD })).body.session as string;
    const weak = await post(t, "new-password-required", { session, username: "fresh2", new_password: "password123" });
    expectError(weak, 400);
    expect(weak.body.message).toMatch(/common/);
    expectError(await post(t, "new-password-required", { session, username: "fresh2", new_password: "short" }), 400);
    const ok = await post(t, "new-password-required", { session, username: "fresh2", new_password: NEW_PASSWORD });
    expect(ok.status).toBe(200);
  });

  it("refuses another username, an unknown session and an expired one", async () => {
    await newUser(t, "fresh3", { mustChangePassword: true });
    const session = (await post(t, "login", { username: "fresh3", password: PASSWORD })).body.session as string;
    expectError(await post(t, "new-password-required", { session, username: "alice", new_password: NEW_PASSWORD }), 400);
    expectError(await post(t, "new-password-required", { session: "x".repeat(43), username: "fresh3", new_password: NEW_PASSWORD }), 400);
    // Age the session's record past its expiry (the KV TTL floor is 60 s; the record's own expiry rules).
    const digest = await sha256Hex(session);
    const rec = await services().secrets.get<Record<string, unknown>>("cs", digest);
    await services().secrets.put("cs", digest, { ...rec, expiresAt: Date.now() - 1 }, 60);
    expectError(await post(t, "new-password-required", { session, username: "fresh3", new_password: NEW_PASSWORD }), 400);
  });

  it("answers 400 for missing fields", async () => {
    expectError(await post(t, "new-password-required", { username: "newbie", new_password: NEW_PASSWORD }), 400);
    expectError(await post(t, "new-password-required", { session: "abc", new_password: NEW_PASSWORD }), 400);
    expectError(await post(t, "new-password-required", { session: "abc", username: "newbie" }), 400);
  });
});

describe("POST /v1/token-refresh", () => {
  it("returns new access and id tokens, and no refresh token: the login's stays valid (seed 002)", async () => {
    const first = await loginTokens(t, "alice", PASSWORD);
    const r = await post(t, "token-refresh", { username: "Alice", refresh_token: first.refresh_token });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ id_token: expect.any(String), access_token: expect.any(String), expires_in: 86400 });
    // Same session: the new access token names the same family.
    expect(claimsOf(r.body.access_token as string).sid).toBe(claimsOf(first.access_token).sid);
    const next = await post(t, "token-refresh", { username: "alice", refresh_token: first.refresh_token });
    expect(next.status).toBe(200);
  });

  it("with the tenant's rotation on, also returns the successor refresh token", async () => {
    const rot = await createTestTenant({ refreshRotation: { userpool: true } });
    const first = await loginTokens(rot, "alice", PASSWORD);
    const r = await post(rot, "token-refresh", { username: "alice", refresh_token: first.refresh_token });
    expect(r.body).toEqual({ id_token: expect.any(String), access_token: expect.any(String), refresh_token: expect.any(String), expires_in: 86400 });
    expect(r.body.refresh_token).not.toBe(first.refresh_token);
    expect((await post(rot, "token-refresh", { username: "alice", refresh_token: r.body.refresh_token })).status).toBe(200);
  });

  it("answers 400 for an unknown refresh token and for another user's name", async () => {
    expectError(await post(t, "token-refresh", { username: "alice", refresh_token: "A".repeat(43) }), 400);
    const s = await loginTokens(t, "alice", PASSWORD);
    expectError(await post(t, "token-refresh", { username: "admin", refresh_token: s.refresh_token }), 400);
    // The mismatch did not spend the token.
    expect((await post(t, "token-refresh", { username: "alice", refresh_token: s.refresh_token })).status).toBe(200);
  });

  it("answers 403 when the user has been disabled", async () => {
    const u = await newUser(t, "disabled-refresh");
    const s = await loginTokens(t, "disabled-refresh", PASSWORD);
    await services().users.update(t.tenant.id, u.uid, { disabled: true });
    expectError(await post(t, "token-refresh", { username: "disabled-refresh", refresh_token: s.refresh_token }), 403);
  });

  it("answers 400 for missing fields", async () => {
    expectError(await post(t, "token-refresh", { username: "alice" }), 400);
    expectError(await post(t, "token-refresh", { refresh_token: "A".repeat(43) }), 400);
  });
});

describe("POST /v1/token-revoke", () => {
  it("revokes the refresh token and every access token issued from it", async () => {
    const s = await loginTokens(t, "alice", PASSWORD);
    const refreshed = await post(t, "token-refresh", { username: "alice", refresh_token: s.refresh_token });
    const scope = await scopeOf(t);
    await verifyAccessToken(services(), scope, s.access_token);
    expect(refreshed.status).toBe(200);
    const r = await post(t, "token-revoke", { refresh_token: s.refresh_token });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: expect.any(String), status: 200 });
    expectError(await post(t, "token-refresh", { username: "alice", refresh_token: s.refresh_token }), 400);
    // Both access tokens of the family (from the login and from the refresh) fail at once.
    for (const token of [s.access_token, refreshed.body.access_token as string]) {
      expectError(await post(t, "change-password", { access_token: token, previous_password: PASSWORD, proposed_password: NEW_PASSWORD }), 401);
      await expect(verifyAccessToken(services(), scope, token)).rejects.toMatchObject({ code: "token_revoked" });
    }
    // Another session of the same user is untouched.
    const other = await loginTokens(t, "alice", PASSWORD);
    await expect(verifyAccessToken(services(), scope, other.access_token)).resolves.toMatchObject({ sub: t.alice.uid });
  });

  it("answers 200 for an unknown or already revoked token (RFC 7009 §2.2)", async () => {
    const r = await post(t, "token-revoke", { refresh_token: "B".repeat(43) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: expect.any(String), status: 200 });
    const s = await loginTokens(t, "alice", PASSWORD);
    expect((await post(t, "token-revoke", { refresh_token: s.refresh_token })).status).toBe(200);
    expect((await post(t, "token-revoke", { refresh_token: s.refresh_token })).status).toBe(200);
  });

  it("answers 400 for a missing token", async () => {
    expectError(await post(t, "token-revoke", {}), 400);
    expectError(await post(t, "token-revoke", { refresh_token: 7 }), 400);
  });
});

describe("POST /v1/forgot-password and /v1/forgot-password-confirm", () => {
  it("answers identically for existing and missing users, and mails only the existing one", async () => {
    const before = await lastMailId(t, `admin@${t.host}`);
    const existing = await post(t, "forgot-password", { username: "ADMIN" });
    const missing = await post(t, "forgot-password", { username: "no-such-user" });
    expect(existing.status).toBe(200);
    expect(missing.status).toBe(existing.status);
    expect(missing.body).toEqual(existing.body);
    expect(existing.body).toEqual({ message: expect.any(String), status: 200 });
    expect(existing.headers.get("content-type")).toBe(missing.headers.get("content-type"));
    // The queue consumer delivers within about a second (wrangler.toml max_batch_timeout).
    await eventually(async () => (await mailTo(t, `admin@${t.host}`, before))[0]);
    await sleep(200);
    expect((await mailTo(t, `admin@${t.host}`, before)).length).toBe(1);
    expect((await services().mailStore.list({ tenantId: t.tenant.id, to: `no-such-user@${t.host}` })).length).toBe(0);
  });

  it("sets the new password with the mailed code, which works once and ends the user's sessions", async () => {
    const u = await newUser(t, "resetter");
    const old = await loginTokens(t, "resetter", PASSWORD);
    const code = await requestCode(t, "resetter", `resetter@${t.host}`);
    expect(code).toMatch(/^[A-Za-z0-9]{8}$/);
    const r = await post(t, "forgot-password-confirm", { username: "resetter", password: NEW_PASSWORD, confirmation_code: code });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: expect.any(String), status: 200 });
    expectError(await post(t, "forgot-password-confirm", { username: "resetter", password: "another passphrase 43", confirmation_code: code }), 400);
    expectError(await post(t, "login", { username: "resetter", password: PASSWORD }), 401);
    expect((await post(t, "login", { username: "resetter", password: NEW_PASSWORD })).status).toBe(200);
    // A reset ends every earlier session of the user.
    expectError(await post(t, "token-refresh", { username: "resetter", refresh_token: old.refresh_token }), 400);
    await expect(verifyAccessToken(services(), await scopeOf(t), old.access_token)).rejects.toMatchObject({ code: "token_revoked" });
    expect((await services().users.byUid(t.tenant.id, u.uid))!.passwordChangedAt).toBeGreaterThan(0);
  });

  it("refuses a weak new password without consuming the code", async () => {
    await newUser(t, "resetter2");
    const code = await requestCode(t, "resetter2", `resetter2@${t.host}`);
    const weak = await post(t, "forgot-password-confirm", { username: "resetter2", password: "12345678", confirmation_code: code });
    expectError(weak, 400);
    expectError(await post(t, "forgot-password-confirm", { username: "resetter2", password: "resetter2", confirmation_code: code }), 400);
    expect((await post(t, "forgot-password-confirm", { username: "resetter2", password: NEW_PASSWORD, confirmation_code: code })).status).toBe(200);
  });

  it("refuses an expired code", async () => {
    const u = await newUser(t, "resetter3");
    const code = await requestCode(t, "resetter3", `resetter3@${t.host}`);
    // Age the code's record past its expiry (KV's TTL floor is 60 s; the record's own expiry rules).
    const digest = await resetCodeDigest(t.tenant.id, u.uid, code);
    const rec = await services().secrets.get<Record<string, unknown>>("rc", digest);
    expect(rec).not.toBeNull();
    await services().secrets.put("rc", digest, { ...rec, expiresAt: Date.now() - 1 }, 60);
    expectError(await post(t, "forgot-password-confirm", { username: "resetter3", password: NEW_PASSWORD, confirmation_code: code }), 400);
  });

  it("a newer code supersedes the older one", async () => {
    await newUser(t, "resetter4");
    const first = await requestCode(t, "resetter4", `resetter4@${t.host}`);
    await sleep(1100); // KV allows one write per key per second
    const second = await requestCode(t, "resetter4", `resetter4@${t.host}`);
    expectError(await post(t, "forgot-password-confirm", { username: "resetter4", password: NEW_PASSWORD, confirmation_code: first }), 400);
    expect((await post(t, "forgot-password-confirm", { username: "resetter4", password: NEW_PASSWORD, confirmation_code: second })).status).toBe(200);
  });

  it("a code sent before the password was changed another way is void", async () => {
    await newUser(t, "resetter6");
    const code = await requestCode(t, "resetter6", `resetter6@${t.host}`);
    await sleep(2);
    const s = await loginTokens(t, "resetter6", PASSWORD);
    expect((await post(t, "change-password", { access_token: s.access_token, previous_password: PASSWORD, proposed_password: NEW_PASSWORD })).status).toBe(200);
    expectError(await post(t, "forgot-password-confirm", { username: "resetter6", password: "another passphrase 43", confirmation_code: code }), 400);
    expect((await post(t, "login", { username: "resetter6", password: NEW_PASSWORD })).status).toBe(200);
  });

  it("limits wrong codes: after the tenant's maximum even the right code is refused with 429", async () => {
    await newUser(t, "resetter5");
    const code = await requestCode(t, "resetter5", `resetter5@${t.host}`);
    for (let i = 0; i < 5; i++) {
      expectError(await post(t, "forgot-password-confirm", { username: "resetter5", password: NEW_PASSWORD, confirmation_code: `WRONG${i}xx` }), 400);
    }
    const locked = await post(t, "forgot-password-confirm", { username: "resetter5", password: NEW_PASSWORD, confirmation_code: code });
    expectError(locked, 429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("answers a wrong code for a missing user like one for an existing user", async () => {
    const a = await post(t, "forgot-password-confirm", { username: "admin", password: NEW_PASSWORD, confirmation_code: "ABCDEFGH" });
    const b = await post(t, "forgot-password-confirm", { username: "no-such-user", password: NEW_PASSWORD, confirmation_code: "ABCDEFGH" });
    expectError(a, 400);
    expect(b.status).toBe(a.status);
    expect(b.body).toEqual(a.body);
  });

  it("answers 400 for missing fields", async () => {
    expectError(await post(t, "forgot-password", {}), 400);
    expectError(await post(t, "forgot-password-confirm", { username: "admin", password: NEW_PASSWORD }), 400);
    expectError(await post(t, "forgot-password-confirm", { username: "admin", confirmation_code: "ABCDEFGH" }), 400);
  });

  it("limits reset mails per username with 429 and Retry-After, for existing and missing users alike", async () => {
    const tt = await createTestTenant();
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await post(tt, "forgot-password", { username: "alice" }));
    const missing = [];
    for (let i = 0; i < 6; i++) missing.push(await post(tt, "forgot-password", { username: "ghost" }));
    expect(answers.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expectError(answers[5]!, 429);
    expect(Number(answers[5]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(missing.map((r) => r.status)).toEqual(answers.map((r) => r.status));
    expect(missing[5]!.body).toEqual(answers[5]!.body);
  });
});

describe("POST /v1/change-password", () => {
  it("needs the previous password; ends the user's other sessions and keeps the caller's", async () => {
    await newUser(t, "changer");
    const mine = await loginTokens(t, "changer", PASSWORD);
    const other = await loginTokens(t, "changer", PASSWORD);
    const scope = await scopeOf(t);
    expectError(await post(t, "change-password", { access_token: mine.access_token, previous_password: "not my password", proposed_password: NEW_PASSWORD }), 401);
    const r = await post(t, "change-password", { access_token: mine.access_token, previous_password: PASSWORD, proposed_password: NEW_PASSWORD });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: expect.any(String), status: 200 });
    // The other session: its access token and its refresh token fail.
    await expect(verifyAccessToken(services(), scope, other.access_token)).rejects.toMatchObject({ code: "token_revoked" });
    expectError(await post(t, "change-password", { access_token: other.access_token, previous_password: NEW_PASSWORD, proposed_password: "third passphrase 44" }), 401);
    expectError(await post(t, "token-refresh", { username: "changer", refresh_token: other.refresh_token }), 400);
    // The caller's session lives on: access token verifies, refresh token still refreshes.
    await expect(verifyAccessToken(services(), scope, mine.access_token)).resolves.toMatchObject({ username: "changer" });
    expect((await post(t, "token-refresh", { username: "changer", refresh_token: mine.refresh_token })).status).toBe(200);
    expectError(await post(t, "login", { username: "changer", password: PASSWORD }), 401);
    expect((await post(t, "login", { username: "changer", password: NEW_PASSWORD })).status).toBe(200);
  });

  it("refuses a weak proposed password with 400 and keeps the old one", async () => {
    await newUser(t, "changer2");
    const s = await loginTokens(t, "changer2", PASSWORD);
    expectError(await post(t, "change-password", { access_token: s.access_token, previous_password: PASSWORD, proposed_password: "qwerty123" }), 400);
    expectError(await post(t, "change-password", { access_token: s.access_token, previous_password: PASSWORD, proposed_password: "x".repeat(129) }), 400);
    expect((await post(t, "login", { username: "changer2", password: PASSWORD })).status).toBe(200);
  });

  it("answers 401 for an invalid access token and 400 for missing fields", async () => {
    expectError(await post(t, "change-password", { access_token: "not-a-jwt", previous_password: PASSWORD, proposed_password: NEW_PASSWORD }), 401);
    expectError(await post(t, "change-password", { previous_password: PASSWORD, proposed_password: NEW_PASSWORD }), 400);
    const s = await loginTokens(t, "alice", PASSWORD);
    expectError(await post(t, "change-password", { access_token: s.access_token, proposed_password: NEW_PASSWORD }), 400);
    expectError(await post(t, "change-password", { access_token: s.access_token, previous_password: PASSWORD }), 400);
  });

  it("counts wrong previous passwords like failed logins (429 once locked)", async () => {
    const tt = await createTestTenant({ lockout: { userThreshold: 3 } });
    const s = await loginTokens(tt, "alice", PASSWORD);
    for (let i = 0; i < 3; i++) {
      expectError(await post(tt, "change-password", { access_token: s.access_token, previous_password: `wrong-${i}-password`, proposed_password: NEW_PASSWORD }), 401);
    }
    const locked = await post(tt, "change-password", { access_token: s.access_token, previous_password: PASSWORD, proposed_password: NEW_PASSWORD });
    expectError(locked, 429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("GET /openapi/userpool.json", () => {
  it("documents every route, each with the operationId named after the document's operation", async () => {
    const res = await (await import("cloudflare:test")).SELF.fetch(`http://${t.host}/openapi/userpool.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, { post?: { operationId?: string } }> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(
      ["/change-password", "/forgot-password", "/forgot-password-confirm", "/login", "/new-password-required", "/token-refresh", "/token-revoke"].sort(),
    );
    const ids = Object.fromEntries(Object.entries(doc.paths).map(([path, item]) => [path, item.post?.operationId]));
    expect(ids).toEqual({
      "/login": "login",
      "/token-refresh": "tokenRefresh",
      "/token-revoke": "tokenRevoke",
      "/forgot-password": "forgotPassword",
      "/forgot-password-confirm": "forgotPasswordConfirm",
      "/change-password": "changePassword",
      "/new-password-required": "newPasswordRequired",
    });
  });
});
