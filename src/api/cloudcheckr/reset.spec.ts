import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { callJson } from "../../../test/helpers/http";
import { mintResetToken } from "../../core/auth/reset-token";
import { parseTenantSettings } from "../../core/tenants/settings";
import type { Scope } from "../../core/context";
import type { User } from "../../storage/ports";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant({ mailPerHour: 3 });
});

const NEW_PASSWORD = "a brand new passphrase 42";
let userCounter = 0;

/** A fresh user of the test tenant with its own address, so tests do not share tokens or limits. */
async function freshUser(): Promise<User> {
  const svc = services();
  const name = `user${userCounter++}`;
  return svc.users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: name, email: `${name}@${t.host}`, passwordHash: t.alice.passwordHash, passwordChangedAt: Date.now() - 1000, roles: ["user"] });
}

function scope(): Scope {
  return { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
}

/** Waits for the deferred reset mail and returns the token it carries. */
async function mailedToken(to: string, known = 0): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const mail = await services().mailStore.list({ to });
    if (mail.length > known) {
      const m = /Reset token: (\S+)/.exec(mail[0]!.text);
      if (m) return m[1]!;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no reset mail for ${to}`);
}

const reset = (body: Record<string, unknown>) => callJson("PUT", "/v1/auth/resetpassword", body, { host: t.host });
const perform = (token: string, username: string, password = NEW_PASSWORD, confirmation = password) =>
  reset({ token, username, password, password_confirmation: confirmation });
const loginStatus = async (username: string, password: string) =>
  (await callJson("POST", "/v1/auth/token", new URLSearchParams({ username, password }), { host: t.host })).status;

describe("POST /v1/auth/resetpassword", () => {
  it("mails a token that resets the password once, and answers the same for an unknown address", async () => {
    const u = await freshUser();
    const known = await callJson("POST", "/v1/auth/resetpassword", { email_address: u.email }, { host: t.host });
    const unknown = await callJson("POST", "/v1/auth/resetpassword", { email_address: `nobody@${t.host}` }, { host: t.host });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(known.body).toEqual(unknown.body);
    expect(known.body).toEqual({ message: "If the address is registered, a password reset token has been sent to it." });

    const token = await mailedToken(u.email!);
    const mail = (await services().mailStore.list({ to: u.email! }))[0]!;
    expect(mail.text).toContain(`"${u.username}"`);
    expect(await services().mailStore.list({ to: `nobody@${t.host}` })).toHaveLength(0);

    const r = await perform(token, u.username.toUpperCase());
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: "Your password has been reset." });
    expect(await loginStatus(u.username, NEW_PASSWORD)).toBe(200);
    expect(await loginStatus(u.username, PASSWORD)).toBe(401);
  });

  it("matches the address case-insensitively", async () => {
    const u = await freshUser();
    await callJson("POST", "/v1/auth/resetpassword", { email_address: `  ${u.email!.toUpperCase()} ` }, { host: t.host });
    expect(await mailedToken(u.email!)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("is rate limited per address, with the same answer whether or not it exists", async () => {
    const u = await freshUser();
    const ghost = `ghost-${userCounter}@${t.host}`;
    for (const email of [u.email!, ghost]) {
      for (let i = 0; i < 3; i++) expect((await callJson("POST", "/v1/auth/resetpassword", { email_address: email }, { host: t.host })).status).toBe(200);
    }
    const a = await callJson("POST", "/v1/auth/resetpassword", { email_address: u.email }, { host: t.host });
    const b = await callJson("POST", "/v1/auth/resetpassword", { email_address: ghost }, { host: t.host });
    expect(a.status).toBe(429);
    expect(b.status).toBe(429);
    expect(a.body).toEqual(b.body);
    expect(a.body).toMatchObject({ error: "rate_limited" });
    expect(Number(a.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("answers 422 for a missing or malformed address", async () => {
    for (const body of [{}, { email_address: "" }, { email_address: "not-an-address" }, { email_address: 42 }]) {
      const r = await callJson("POST", "/v1/auth/resetpassword", body, { host: t.host });
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ error: "validation_failed", errors: { email_address: [expect.any(String)] } });
    }
  });
});

describe("PUT /v1/auth/resetpassword", () => {
  it("ends every session of the user on success", async () => {
    const u = await freshUser();
    const login = await callJson<{ access_token: string }>("POST", "/v1/auth/token", new URLSearchParams({ username: u.username, password: PASSWORD }), { host: t.host });
    const { token } = await mintResetToken(services(), scope(), u);
    expect((await perform(token, u.username)).status).toBe(200);
    const r = await callJson("PATCH", "/v1/auth/token", undefined, { host: t.host, headers: { authorization: `Bearer ${login.body.access_token}` } });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ error: "token_revoked" });
  });

  it("reports each failure clearly, and no failure consumes the token", async () => {
    const u = await freshUser();
    const other = await freshUser();
    const { token } = await mintResetToken(services(), scope(), u);

    const mismatch = await perform(token, u.username, NEW_PASSWORD, "something else entirely");
    expect(mismatch.status).toBe(422);
    expect(mismatch.body).toMatchObject({ error: "validation_failed", errors: { password_confirmation: ["password confirmation does not match"] } });

    const weak = await perform(token, u.username, "short");
    expect(weak.status).toBe(422);
    expect(weak.body).toMatchObject({ error: "validation_failed", errors: { password: ["password must be at least 8 characters"] } });

    const common = await perform(token, u.username, "password123");
    expect(common.status).toBe(422);
    expect(common.body).toMatchObject({ errors: { password: ["password is too common; choose another"] } });

    const sameAsName = await perform(token, u.username, u.username);
    expect(sameAsName.status).toBe(422);

    const wrongUser = await perform(token, other.username);
    expect(wrongUser.status).toBe(400);
    expect(wrongUser.body).toEqual({ error: "token_user_mismatch", message: "this reset token was not issued to that username" });

    const unknownUser = await perform(token, "no-such-user");
    expect(unknownUser.status).toBe(400);
    expect(unknownUser.body).toMatchObject({ error: "token_user_mismatch" });

    const bogus = await perform("x".repeat(43), u.username);
    expect(bogus.status).toBe(400);
    expect(bogus.body).toEqual({ error: "invalid_token", message: "invalid reset token" });

    // None of the above used the token up, and none changed the password.
    expect(await loginStatus(u.username, PASSWORD)).toBe(200);
    expect((await perform(token, u.username)).status).toBe(200);

    const reused = await perform(token, u.username, "yet another passphrase");
    expect(reused.status).toBe(400);
    expect(reused.body).toEqual({ error: "token_used", message: "this reset token has already been used" });
    expect(await loginStatus(u.username, NEW_PASSWORD)).toBe(200);
  });

  it("refuses an expired token with token_expired", async () => {
    const u = await freshUser();
    const settings = parseTenantSettings(t.tenant.settings);
    const { token } = await mintResetToken(services(), scope(), u, { now: Date.now() - settings.resetCodeTtlSeconds * 1000 - 1000 });
    const r = await perform(token, u.username);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: "token_expired" });
    expect(await loginStatus(u.username, PASSWORD)).toBe(200);
  });

  it("kills every other token of the user once the password changes", async () => {
    const u = await freshUser();
    const a = await mintResetToken(services(), scope(), u);
    const b = await mintResetToken(services(), scope(), u);
    expect((await perform(a.token, u.username)).status).toBe(200);
    const r = await perform(b.token, u.username, "another new passphrase");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: "token_expired" });
    expect(await loginStatus(u.username, NEW_PASSWORD)).toBe(200);
  });

  it("refuses a token of another tenant", async () => {
    const other = await createTestTenant();
    const otherScope: Scope = { tenant: other.tenant, settings: parseTenantSettings(other.tenant.settings), community: other.community, ip: "203.0.113.7", userAgent: null };
    const { token } = await mintResetToken(services(), otherScope, other.alice);
    const r = await perform(token, "alice");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: "invalid_token" });
  });

  it("answers 422 per field for missing or mistyped fields", async () => {
    const r = await reset({ token: 5, username: "alice" });
    expect(r.status).toBe(422);
    expect(Object.keys((r.body as { errors: Record<string, unknown> }).errors).sort()).toEqual(["password", "password_confirmation", "token"]);
  });
});
