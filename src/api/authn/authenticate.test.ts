import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { setUserPin } from "../../core/mfa/pin";
import { beginTotpEnrolment, totpNow } from "../../core/mfa/totp";
import { open } from "../../crypto/secret-box";
import type { Scope } from "../../core/context";
import { parseTenantSettings } from "../../core/tenants/settings";

let t: TestTenant;
let app: AuthnCaller;
let svcLevel: AuthnCaller;
let base: string;

function scopeOf(tt: TestTenant): Scope {
  return { tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "203.0.113.7", userAgent: null };
}

/** Enrols TOTP directly through core and returns the base32 secret. */
async function enrolTotp(tt: TestTenant, username: string): Promise<string> {
  const svc = services();
  const user = (await svc.users.byUsername(tt.community.id, username))!;
  const e = await beginTotpEnrolment(svc, scopeOf(tt), user);
  // Activate directly (the confirm route is tested in factors.test.ts).
  const pending = await svc.secrets.get<{ sealed: string }>("totp-enrol", await (await import("../../crypto/hash")).sha256Hex(`${tt.tenant.id}\u0000${user.uid}`));
  await svc.users.update(tt.tenant.id, user.uid, { totpSecretSealed: pending!.sealed });
  expect(await open(svc.config.keyEncryptionSecret, "totp-secret", pending!.sealed)).toBe(e.secret);
  return e.secret;
}

beforeAll(async () => {
  t = await createTestTenant();
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  svcLevel = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("POST authenticate", () => {
  it("answers the user object and a signed proof naming pwd at AAL1", async () => {
    const r = await authnCall<{ user: Record<string, unknown>; proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, {
      credentials: { username: "alice", password: PASSWORD },
    });
    expect(r.status).toBe(200);
    expect(r.signed).toBe(true);
    expect(r.body.publicKey).toBe(app.servicePublicKey);
    expect(r.data.user).toMatchObject({ username: "alice", uid: t.alice.uid, dguid: t.alice.dguid, tenantId: t.tenant.id, communityId: t.community.id, disabled: false, firstname: "Alice" });
    const claims = decodeJwt(r.data.proof_of_authentication_jwt);
    expect(claims).toMatchObject({ sub: t.alice.uid, amr: ["pwd"], aal: 1, acr: "aal1", tenant: t.tenant.id, community: t.community.id, token_use: "proof", ip: "203.0.113.7" });
  });

  it("accepts the plaintext preview (development) and answers plaintext", async () => {
    const r = await authnCall<{ user: { username: string } }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { preview: true });
    expect(r.status).toBe(200);
    expect(typeof r.body.data).toBe("object");
    expect(r.data.user.username).toBe("alice");
  });

  it("password + PIN + TOTP: every factor checked, AAL2", async () => {
    const svc = services();
    await setUserPin(svc, scopeOf(t), (await svc.users.byUsername(t.community.id, "admin"))!, "482913");
    const secret = await enrolTotp(t, "admin");
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, {
      credentials: { username: "admin", password: PASSWORD, pin: "482913", otp: await totpNow(secret) },
    });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["pwd", "pin", "otp"], aal: 2, acr: "aal2" });
  });

  it("steps up: a proof from the password plus a PIN accumulates amr", async () => {
    const first = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD } });
    expect(first.status).toBe(200);
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, {
      credentials: { username: "admin", pin: "482913" },
      jwt: first.data.proof_of_authentication_jwt,
    });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt).amr).toEqual(["pwd", "pin"]);
  });

  it("refuses a step-up proof of another user (401) without counting a failure", async () => {
    const first = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD }, jwt: first.data.proof_of_authentication_jwt });
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });
  });

  it("answers the same 401 for a wrong password and an unknown user", async () => {
    const wrong = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: "wrong password!" } });
    const unknown = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "nobody-here", password: "wrong password!" } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it("a right password with a wrong PIN fails", async () => {
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "admin", password: PASSWORD, pin: "000000" } });
    expect(r.status).toBe(401);
  });

  it("validation: username required, at least one factor (400)", async () => {
    const a = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { password: PASSWORD } });
    const b = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice" } });
    expect(a.status).toBe(400);
    expect(b.status).toBe(400);
    expect(b.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
  });

  it("a disabled user is refused with 403 after the right password", async () => {
    const svc = services();
    await svc.users.update(t.tenant.id, t.newbie.uid, { disabled: true });
    const r = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "newbie", password: PASSWORD } });
    expect(r.status).toBe(403);
  });

  it("records the connecting IP for app licenses, ignoring X-Forwarded-For", async () => {
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "198.51.100.4", headers: { "x-forwarded-for": "192.0.2.99" } });
    expect(decodeJwt(r.data.proof_of_authentication_jwt).ip).toBe("198.51.100.4");
  });

  it("records the forwarded IP for service licenses", async () => {
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(svcLevel, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: "198.51.100.4", headers: { "x-forwarded-for": "192.0.2.99, 10.0.0.1" } });
    expect(decodeJwt(r.data.proof_of_authentication_jwt).ip).toBe("192.0.2.99");
  });
});
