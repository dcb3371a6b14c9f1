import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../crypto/hash";
import { callJson } from "../../../test/helpers/http";
import { PASSWORD, services } from "../../../test/helpers/tenant";
import { bearer, createSentinelTenant, eventually, jwtPayload, sentinelLogin, type SentinelTenant } from "../../../test/helpers/sentinel";

let t: SentinelTenant;
const HOOK_SECRET = "okta-hook-shared-secret-0123456789";
beforeAll(async () => {
  t = await createSentinelTenant({ oktaTokenHook: { secretSha256: await sha256Hex(HOOK_SECRET) } });
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) => callJson("POST", `/v1.0/auth${path}`, body, { host: t.host, headers });
const get = (path: string, headers: Record<string, string> = {}) => callJson("GET", `/v1.0/auth${path}`, undefined, { host: t.host, headers });

describe("POST /token", () => {
  it("returns a bearer JWT naming the user, roles and organisation", async () => {
    const r = await post("/token", { username: "alice", password: PASSWORD });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ tokenType: "Bearer", expiresIn: 86400 });
    expect(r.body.termsAndConditionsPending).toBeUndefined();
    const claims = jwtPayload(r.body.token as string);
    expect(claims).toMatchObject({ sub: t.alice.uid, username: "alice", roles: ["user"], corpId: t.community.name });
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  it("logs in to another organisation named by corpId", async () => {
    const r = await post("/token", { username: "bob", password: PASSWORD, corpId: t.other.name });
    expect(r.status).toBe(200);
    expect(jwtPayload(r.body.token as string)).toMatchObject({ sub: t.bob.uid, corpId: t.other.name, community: t.other.id });
  });

  it("answers a wrong password, an unknown user and an unknown corpId alike", async () => {
    const a = await post("/token", { username: "alice", password: "wrong password here" });
    const b = await post("/token", { username: "nobody-here", password: PASSWORD });
    const c = await post("/token", { username: "alice", password: PASSWORD, corpId: "NO-SUCH-CORP" });
    for (const r of [a, b, c]) {
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ status: 401, error: "Unauthorized", code: "invalid_credentials", message: "incorrect username or password", path: "/v1.0/auth/token" });
    }
  });

  it("gives a user who must change the password only a CHANGE_PASSWORD token", async () => {
    const r = await post("/token", { username: "newbie", password: PASSWORD });
    expect(r.status).toBe(200);
    expect(r.body.passwordChangeRequired).toBe(true);
    const claims = jwtPayload(r.body.token as string);
    expect(claims).toMatchObject({ roles: ["CHANGE_PASSWORD"], token_use: "reset" });
    // It is not an access token.
    expect((await get("/refreshToken", bearer(r.body.token as string))).status).toBe(401);
    expect((await get("/password", bearer(r.body.token as string))).status).toBe(200);
  });
});

describe("GET /refreshToken", () => {
  it("returns a new token for the same session with a later expiry", async () => {
    const token = await sentinelLogin(t, "alice");
    const before = jwtPayload(token);
    await new Promise((r) => setTimeout(r, 1100));
    const r = await get("/refreshToken", bearer(token));
    expect(r.status).toBe(200);
    const after = jwtPayload(r.body.token as string);
    expect(after.sid).toBe(before.sid);
    expect(after.exp as number).toBeGreaterThan(before.exp as number);
    expect(after.corpId).toBe(t.community.name);
  });

  it("never extends a session past the tenant's maximum age", async () => {
    const short = await createSentinelTenant({ sessionMaxAgeSeconds: 120 });
    const token = await sentinelLogin(short, "alice");
    expect(jwtPayload(token).exp as number).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 121);
    const r = await callJson("GET", "/v1.0/auth/refreshToken", undefined, { host: short.host, headers: bearer(token) });
    expect(r.status).toBe(200);
    expect(r.body.expiresIn as number).toBeLessThanOrEqual(120);
  });
});

describe("POST /clientToken", () => {
  it("gives a trusted client a token for its API user", async () => {
    const svc = services();
    const secret = "api-client-secret-0123456789abcdef";
    const client = await svc.clients.create({
      clientId: `api-${t.community.id}`,
      tenantId: t.tenant.id,
      communityId: t.community.id,
      name: "reporting",
      secretHash: await sha256Hex(secret),
      grants: ["client_credentials"],
      roles: [],
      userId: t.alice.id,
      disabled: false,
    });
    const r = await post("/clientToken", { clientId: client.clientId, clientSecret: secret });
    expect(r.status).toBe(200);
    expect(jwtPayload(r.body.token as string)).toMatchObject({ sub: t.alice.uid, client_id: client.clientId });
    const wrongCorp = await post("/clientToken", { clientId: client.clientId, clientSecret: secret, corpId: t.other.name });
    expect(wrongCorp.status).toBe(401);
    const wrong = await post("/clientToken", { clientId: client.clientId, clientSecret: "not-the-secret-at-all" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("invalid_client");
  });
});

describe("POST /enrichToken", () => {
  const hook = (login: string) => ({
    eventType: "com.okta.oauth2.tokens.transform",
    data: { context: { user: { id: "00u1", profile: { login } } }, identity: { claims: { sub: "00u1" } }, access: { claims: { sub: login } } },
  });

  it("adds roles and organisation to Okta's access and ID tokens", async () => {
    const r = await post("/enrichToken", hook("alice"), { authorization: HOOK_SECRET });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      commands: [
        { type: "com.okta.access.patch", value: [{ op: "add", path: "/claims/roles", value: ["user"] }, { op: "add", path: "/claims/corpId", value: t.community.name }] },
        { type: "com.okta.identity.patch", value: [{ op: "add", path: "/claims/roles", value: ["user"] }, { op: "add", path: "/claims/corpId", value: t.community.name }] },
      ],
    });
  });

  it("adds nothing for an unknown user", async () => {
    const r = await post("/enrichToken", hook("stranger@example.com"), { authorization: HOOK_SECRET });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ commands: [] });
  });

  it("checks the secret before the body: 401 without it, 400 or 415 with it (issue 7 item 5)", async () => {
    const noSecret = await post("/enrichToken", { nope: 1 });
    expect(noSecret.status).toBe(401);
    expect(noSecret.body.code).toBe("invalid_client");
    expect((await post("/enrichToken", "[1,2", { authorization: "wrong", "content-type": "application/json" })).status).toBe(401);
    const bad = await post("/enrichToken", "[]", { authorization: HOOK_SECRET, "content-type": "application/json" });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("invalid_request");
    const text = await post("/enrichToken", "x", { authorization: HOOK_SECRET, "content-type": "text/plain" });
    expect(text.status).toBe(415);
  });

  it("refuses a missing or wrong secret", async () => {
    expect((await post("/enrichToken", hook("alice"))).status).toBe(401);
    const r = await post("/enrichToken", hook("alice"), { authorization: "wrong" });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe("invalid_client");
  });
});

describe("password reset by link", () => {
  it("mails a single-use CHANGE_PASSWORD link; POST /password sets the password and ends every session", async () => {
    const svc = services();
    const u = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "forgetful", email: `forgetful@${t.host}`, roles: ["USER"], passwordHash: t.alice.passwordHash, passwordChangedAt: Date.now() - 10_000 });
    const session = await sentinelLogin(t, "forgetful");
    const r = await post("/passwordReset", { username: "Forgetful" });
    expect(r.status).toBe(200);
    const mail = await eventually(async () => (await svc.mailStore.list({ to: u.email!, limit: 1 }))[0]);
    const m = /#token=([A-Za-z0-9._-]+)/.exec(mail.text);
    expect(m, mail.text).not.toBeNull();
    const token = decodeURIComponent(m![1]!);
    expect(jwtPayload(token)).toMatchObject({ roles: ["CHANGE_PASSWORD"], sub: u.uid });

    const check = await get("/password", bearer(token));
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ valid: true, username: "forgetful" });

    const weak = await post("/password", { password: "short" }, bearer(token));
    expect(weak.status).toBe(400);
    expect(weak.body.code).toBe("password_policy");
    const mismatch = await post("/password", { password: "a brand new passphrase", confirmPassword: "something else" }, bearer(token));
    expect(mismatch.status).toBe(400);

    const set = await post("/password", { password: "a brand new passphrase", confirmPassword: "a brand new passphrase" }, bearer(token));
    expect(set.status).toBe(200);
    // The token is dead, the old session ended, the new password works.
    expect((await post("/password", { password: "another new passphrase" }, bearer(token))).status).toBe(401);
    expect((await get("/password", bearer(token))).status).toBe(401);
    expect((await get("/refreshToken", bearer(session))).status).toBe(401);
    expect((await post("/token", { username: "forgetful", password: "a brand new passphrase" })).status).toBe(200);
  });

  it("answers the same for an unknown user and sends nothing", async () => {
    const r = await post("/passwordReset", { username: "no-such-user" });
    const known = await post("/passwordReset", { username: "orgadmin" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual(known.body);
  });

  it("is rate limited per username", async () => {
    const limited = await createSentinelTenant({ mailPerHour: 2 });
    const send = () => callJson("POST", "/v1.0/auth/passwordReset", { username: "ghost" }, { host: limited.host });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(200);
    const r = await send();
    expect(r.status).toBe(429);
    expect(r.body.code).toBe("rate_limited");
    expect(r.headers.get("retry-after")).not.toBeNull();
  });
});

describe("POST /usernameRequest", () => {
  it("mails the usernames of an address and answers the same for an unknown one", async () => {
    const svc = services();
    const r = await post("/usernameRequest", { email: t.alice.email!.toUpperCase() });
    const unknown = await post("/usernameRequest", { email: "nobody@nowhere.example" });
    expect(r.status).toBe(200);
    expect(unknown.body).toEqual(r.body);
    const mail = await eventually(async () => (await svc.mailStore.list({ to: t.alice.email!, limit: 5 })).find((m) => m.subject.startsWith("Your username")));
    expect(mail.text).toContain("alice");
    expect(mail.text).not.toContain(PASSWORD);
  });

  it("is rate limited per address", async () => {
    const limited = await createSentinelTenant({ mailPerHour: 1 });
    const send = () => callJson("POST", "/v1.0/auth/usernameRequest", { email: "x@y.example" }, { host: limited.host });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(429);
  });
});

describe("POST /setAssociatedAccountPassword", () => {
  it("enables the caller's associated account and sets its password", async () => {
    const svc = services();
    const child = await svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "alice-kid", roles: ["USER"], disabled: true, status: "pending", parentUserId: t.alice.id, passwordHash: t.alice.passwordHash });
    const token = await sentinelLogin(t, "alice");
    expect((await post("/token", { username: "alice-kid", password: PASSWORD })).status).toBe(403);
    const r = await post("/setAssociatedAccountPassword", { username: "alice-kid", password: "kid's own passphrase" }, bearer(token));
    expect(r.status).toBe(200);
    const after = await svc.users.byUid(t.tenant.id, child.uid);
    expect(after).toMatchObject({ disabled: false, status: "active" });
    expect((await post("/token", { username: "alice-kid", password: "kid's own passphrase" })).status).toBe(200);
  });

  it("answers 404 for someone else's account and for an unknown one", async () => {
    const token = await sentinelLogin(t, "alice");
    const a = await post("/setAssociatedAccountPassword", { username: "orgadmin", password: "kid's own passphrase" }, bearer(token));
    const b = await post("/setAssociatedAccountPassword", { username: "nobody", password: "kid's own passphrase" }, bearer(token));
    expect(a.status).toBe(404);
    expect(b.body).toMatchObject({ ...a.body, timestamp: b.body.timestamp });
  });
});

describe("terms and conditions", () => {
  it("tokens say acceptance is pending until the current version is accepted, and the log records it", async () => {
    const tc = await createSentinelTenant({ termsAndConditions: { version: "2026-01" } });
    const login = await callJson<{ token: string; termsAndConditionsPending?: boolean }>("POST", "/v1.0/auth/token", { username: "alice", password: PASSWORD }, { host: tc.host });
    expect(login.body.termsAndConditionsPending).toBe(true);
    expect(jwtPayload(login.body.token)).toMatchObject({ tc_pending: true, tc_version: "2026-01" });

    const wrong = await callJson("POST", "/v1.0/auth/acceptTermsAndConditions", { version: "2025-01" }, { host: tc.host, headers: bearer(login.body.token) });
    expect(wrong.status).toBe(400);
    const otherOrg = await callJson("POST", "/v1.0/auth/acceptTermsAndConditions", { corpId: tc.other.name }, { host: tc.host, headers: { ...bearer(login.body.token) } });
    expect(otherOrg.status).toBe(403);

    const r = await callJson<Record<string, string>>("POST", "/v1.0/auth/termsAndConditions", undefined, {
      host: tc.host,
      headers: { ...bearer(login.body.token), "user-agent": "SentinelTest/1.0" },
      ip: "198.51.100.4",
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ userId: tc.alice.uid, corpId: tc.community.name, version: "2026-01" });
    expect(jwtPayload(r.body.token!).tc_pending).toBeUndefined();

    const log = await services().termsLog.list(tc.tenant.id, tc.alice.uid);
    expect(log[0]).toMatchObject({ userId: tc.alice.uid, communityId: tc.community.id, version: "2026-01", ip: "198.51.100.4", userAgent: "SentinelTest/1.0" });
    expect(log[0]!.acceptedAt).toBeGreaterThan(Date.now() - 60_000);

    // Later logins and refreshes no longer say pending.
    const again = await callJson<{ token: string; termsAndConditionsPending?: boolean }>("POST", "/v1.0/auth/token", { username: "alice", password: PASSWORD }, { host: tc.host });
    expect(again.body.termsAndConditionsPending).toBeUndefined();
    const refreshed = await callJson<{ token: string }>("GET", "/v1.0/auth/refreshToken", undefined, { host: tc.host, headers: bearer(login.body.token) });
    expect(jwtPayload(refreshed.body.token).tc_pending).toBeUndefined();
  });

  it("POST /acceptTermsAndConditions logs an explicit organisation and version", async () => {
    const token = await sentinelLogin(t, "orgadmin");
    const r = await post("/acceptTermsAndConditions", { corpId: t.community.name, version: "v7" }, bearer(token));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: "v7", corpId: t.community.name });
    const log = await services().termsLog.list(t.tenant.id, t.orgadmin.uid);
    expect(log[0]).toMatchObject({ version: "v7", communityId: t.community.id });
  });

  it("needs a version when the tenant has none configured", async () => {
    const token = await sentinelLogin(t, "orgadmin");
    const r = await post("/termsAndConditions", undefined, bearer(token));
    expect(r.status).toBe(400);
  });
});

describe("POST /loginAs", () => {
  it("gives an impersonator a token for a user of its organisation, carrying act, and audits every use", async () => {
    const svc = services();
    const token = await sentinelLogin(t, "helpdesk");
    const r = await post("/loginAs", { username: "alice" }, bearer(token));
    expect(r.status).toBe(200);
    const claims = jwtPayload(r.body.token as string);
    expect(claims).toMatchObject({ sub: t.alice.uid, username: "alice", act: { sub: t.impersonator.uid, username: "helpdesk" } });
    expect(claims.exp as number).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3601);

    const used = await get("/refreshToken", bearer(r.body.token as string));
    expect(used.status).toBe(200);
    expect(jwtPayload(used.body.token as string).act).toEqual({ sub: t.impersonator.uid, username: "helpdesk" });
    const events = await eventually(async () => {
      const e = await svc.audit.list(t.tenant.id, { type: "impersonated_request", userId: t.alice.uid });
      return e.length > 0 ? e : null;
    });
    expect(events[0]).toMatchObject({ userId: t.alice.uid, actorId: t.impersonator.uid });
    expect(events[0]!.detail).toMatchObject({ path: "/v1.0/auth/refreshToken", actorUsername: "helpdesk" });
    const started = await svc.audit.list(t.tenant.id, { type: "impersonation_started", userId: t.alice.uid });
    expect(started[0]?.actorId).toBe(t.impersonator.uid);
  });

  it("lets a system administrator impersonate in any organisation", async () => {
    const token = await sentinelLogin(t, "sysadmin");
    const r = await post("/loginAs", { username: "bob", corpId: t.other.name }, bearer(token));
    expect(r.status).toBe(200);
    expect(jwtPayload(r.body.token as string)).toMatchObject({ sub: t.bob.uid, act: { sub: t.sysadmin.uid } });
  });
});
