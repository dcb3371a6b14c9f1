import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastMail, request, startWorker, verifyWithJwks, type StartedWorker } from "./harness";

/**
 * The userpool API (seed 002) over real HTTP against `wrangler dev`, with tokens checked by
 * Node's own crypto against the published JWKS.
 */
let w: StartedWorker;
beforeAll(async () => {
  w = await startWorker();
});
afterAll(async () => {
  await w?.stop();
});

const login = (username: string, password: string) => request(w, "POST", "/v1/login", { username, password });

describe("userpool over HTTP", () => {
  it("serves its OpenAPI document", async () => {
    const r = await request(w, "GET", "/openapi/userpool.json");
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
    expect(Object.keys(r.body.paths)).toContain("/login");
  });

  it("logs in and issues ES256 tokens that Node's crypto verifies against the JWKS", async () => {
    const r = await login(w.demo.user.username, w.demo.user.password);
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body.expires_in).toBe(86400);
    const access = await verifyWithJwks(w, r.body.access_token);
    expect(access.header).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(access.header.kid).toBeTruthy();
    expect(access.payload).toMatchObject({ sub: w.demo.user.uid, tenant: w.demo.tenantId, token_use: "access" });
    expect(access.payload.exp - access.payload.iat).toBe(86400);
    expect(typeof access.payload.sid).toBe("string");
    const id = await verifyWithJwks(w, r.body.id_token);
    expect(id.payload).toMatchObject({ sub: w.demo.user.uid, token_use: "id", sid: access.payload.sid });
    expect(typeof r.body.refresh_token).toBe("string");
    // Opaque, not a JWT: the id of the subject's TokenAuthority (which holds the session) and a
    // 256-bit secret (core/sessions/refresh-tokens.ts, docs/security.md).
    expect(r.body.refresh_token).toMatch(/^[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$/);

    // The verifier is real: one changed payload byte fails it.
    const [h, , s] = (r.body.access_token as string).split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...access.payload, roles: ["admin"] })).toString("base64url")}.${s}`;
    await expect(verifyWithJwks(w, forged)).rejects.toThrow(/signature/);
  });

  it("answers a wrong password and an unknown user identically", async () => {
    const wrong = await login(w.demo.user.username, "not-the-password");
    const unknown = await login("nobody-here", "not-the-password");
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toMatchObject({ status: 401 });
    expect(typeof wrong.body.message).toBe("string");
  });

  it("rejects malformed input in its documented error shape, never with a 5xx", async () => {
    for (const body of ["{not json", JSON.stringify({ username: 5 }), JSON.stringify({})]) {
      const r = await request(w, "POST", "/v1/login", body, { "content-type": "application/json" });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ status: 400 });
    }
    const big = await request(w, "POST", "/v1/login", JSON.stringify({ username: "a", password: "x".repeat(1024 * 1024) }), { "content-type": "application/json" });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ status: 413 });
  });

  it("refreshes as the document says (the login's refresh token is kept, no new one), and revokes", async () => {
    const first = await login(w.demo.admin.username, w.demo.admin.password);
    const rt0 = first.body.refresh_token as string;
    const r1 = await request(w, "POST", "/v1/token-refresh", { username: w.demo.admin.username, refresh_token: rt0 });
    expect(r1.status).toBe(200);
    expect(Object.keys(r1.body).sort()).toEqual(["access_token", "expires_in", "id_token"]);
    const a1 = await verifyWithJwks(w, r1.body.access_token);
    expect(a1.payload.sub).toBe(w.demo.admin.uid);
    expect(a1.payload.roles).toEqual(w.demo.admin.roles);
    expect(a1.payload.client_id).toBe("userpool");
    // The same token again, as a client written from the document does: still 200.
    const again = await request(w, "POST", "/v1/token-refresh", { username: w.demo.admin.username, refresh_token: rt0 });
    expect(again.status).toBe(200);
    // Another user's name with this token is refused.
    const otherName = await request(w, "POST", "/v1/token-refresh", { username: w.demo.user.username, refresh_token: rt0 });
    expect(otherName.status).toBe(400);

    // Revoking the refresh token ends the session: refresh fails, and its access tokens too.
    const rev = await request(w, "POST", "/v1/token-revoke", { refresh_token: rt0 });
    expect(rev.status).toBe(200);
    expect(rev.body).toMatchObject({ status: 200 });
    const after = await request(w, "POST", "/v1/token-refresh", { username: w.demo.admin.username, refresh_token: rt0 });
    expect(after.status).toBe(400);
    const useAccess = await request(w, "POST", "/v1/change-password", {
      access_token: r1.body.access_token,
      previous_password: w.demo.admin.password,
      proposed_password: "a-new-admin-password-1",
    });
    expect(useAccess.status).toBe(401);
    // The password did not change: the old one still logs in.
    expect((await login(w.demo.admin.username, w.demo.admin.password)).status).toBe(200);
  });

  it("answers NEW_PASSWORD_REQUIRED with a single-use session", async () => {
    const u = w.demo.newPasswordRequired;
    const r = await login(u.username, u.password);
    expect(r.status).toBe(200);
    expect(r.body.challenge_name).toBe("NEW_PASSWORD_REQUIRED");
    expect(r.body.access_token).toBeUndefined();
    const newPassword = "newbie-chosen-password-42";
    const done = await request(w, "POST", "/v1/new-password-required", { session: r.body.session, username: u.username, new_password: newPassword });
    expect(done.status).toBe(200);
    expect((await verifyWithJwks(w, done.body.access_token)).payload.sub).toBe(u.uid);
    const again = await request(w, "POST", "/v1/new-password-required", { session: r.body.session, username: u.username, new_password: "yet-another-password-43" });
    expect(again.status).toBe(400);
    const next = await login(u.username, newPassword);
    expect(next.status).toBe(200);
    expect(next.body.access_token).toBeTruthy();
  });

  it("resets a password with the emailed code, once", async () => {
    const u = w.demo.user;
    const missing = await request(w, "POST", "/v1/forgot-password", { username: "nobody-here" });
    const existing = await request(w, "POST", "/v1/forgot-password", { username: u.username });
    expect(existing.status).toBe(200);
    expect(existing.body).toEqual(missing.body);
    let mail: { text: string } | null = null;
    for (let i = 0; i < 40 && !mail; i++) {
      mail = await lastMail(w, "alice@localhost");
      if (!mail) await new Promise((r) => setTimeout(r, 100));
    }
    const code = /reset code is (\S+)/.exec(mail?.text ?? "")?.[1];
    expect(code).toBeTruthy();
    const session = await login(u.username, u.password);
    const newPassword = "alice-reset-password-77";
    const ok = await request(w, "POST", "/v1/forgot-password-confirm", { username: u.username, password: newPassword, confirmation_code: code });
    expect(ok.status).toBe(200);
    const reused = await request(w, "POST", "/v1/forgot-password-confirm", { username: u.username, password: "alice-other-password-78", confirmation_code: code });
    expect(reused.status).toBe(400);
    expect((await login(u.username, u.password)).status).toBe(401);
    expect((await login(u.username, newPassword)).status).toBe(200);
    // The reset ended the sessions that existed before it.
    const stale = await request(w, "POST", "/v1/token-refresh", { username: u.username, refresh_token: session.body.refresh_token });
    expect(stale.status).toBe(400);
    u.password = newPassword;
  });

  it("changes the password with an access token and ends the other sessions", async () => {
    const u = w.demo.user;
    const other = await login(u.username, u.password);
    const mine = await login(u.username, u.password);
    const proposed = "alice-changed-password-99";
    const r = await request(w, "POST", "/v1/change-password", { access_token: mine.body.access_token, previous_password: u.password, proposed_password: proposed });
    expect(r.status).toBe(200);
    const otherRefresh = await request(w, "POST", "/v1/token-refresh", { username: u.username, refresh_token: other.body.refresh_token });
    expect(otherRefresh.status).toBe(400);
    const mineRefresh = await request(w, "POST", "/v1/token-refresh", { username: u.username, refresh_token: mine.body.refresh_token });
    expect(mineRefresh.status).toBe(200);
    expect((await login(u.username, proposed)).status).toBe(200);
    u.password = proposed;
  });
});
