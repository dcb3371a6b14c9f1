import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { totpNow } from "../../core/mfa/totp";

let t: TestTenant;
let app: AuthnCaller;
let base: string;

beforeAll(async () => {
  t = await createTestTenant();
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

async function login(credentials: Record<string, string>): Promise<{ status: number; proof: string }> {
  const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials });
  return { status: r.status, proof: r.data.proof_of_authentication_jwt };
}

/**
 * A TOTP code for a time step this file has not used yet. Each (user, step) is accepted once, so
 * tests that compute "the current code" twice flake when a 30 s boundary falls between them.
 * Waiting until at least 5 s remain in the step keeps current-1..current+1 all inside the
 * server's drift window for the few calls that follow.
 */
const usedSteps = new Set<number>();
async function freshOtp(secret: string): Promise<string> {
  const period = 30_000;
  const left = period - (Date.now() % period);
  if (left < 5_000) await new Promise((r) => setTimeout(r, left + 50));
  const current = Math.floor(Date.now() / period);
  for (const step of [current, current + 1, current - 1]) {
    if (usedSteps.has(step)) continue;
    usedSteps.add(step);
    return totpNow(secret, step * period);
  }
  throw new Error("no unused TOTP step in the drift window");
}

describe("TOTP enrolment (extension)", () => {
  let secret = "";

  it("enrol then confirm: the secret becomes the user's TOTP factor", async () => {
    const { proof } = await login({ username: "alice", password: PASSWORD });
    const e = await authnCall<{ secret: string; otpauth_uri: string; digits: number; period: number }>(app, "POST", `${base}/totp/enroll`, { jwt: proof });
    expect(e.status).toBe(200);
    expect(e.data.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(e.data.otpauth_uri).toContain(`secret=${e.data.secret}`);
    expect(e.data).toMatchObject({ digits: 6, period: 30 });
    secret = e.data.secret;
    // Not active before confirmation.
    expect((await login({ username: "alice", otp: await totpNow(secret) })).status).toBe(401);
    const wrong = await authnCall(app, "POST", `${base}/totp/confirm`, { jwt: proof, otp: "000000" });
    expect(wrong.status).toBe(401);
    const ok = await authnCall(app, "POST", `${base}/totp/confirm`, { jwt: proof, otp: await freshOtp(secret) });
    expect(ok.status).toBe(200);
    expect(ok.data).toEqual({ enrolled: true });
    const r = await login({ username: "alice", password: PASSWORD, otp: await freshOtp(secret) });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.proof)).toMatchObject({ amr: ["pwd", "otp"], aal: 2 });
  });

  it("replacing an enrolled TOTP needs a proof that used it (403 with a password-only proof)", async () => {
    const pwdOnly = await login({ username: "alice", password: PASSWORD });
    expect((await authnCall(app, "POST", `${base}/totp/enroll`, { jwt: pwdOnly.proof })).status).toBe(403);
    const withOtp = await login({ username: "alice", otp: await freshOtp(secret) });
    expect(withOtp.status).toBe(200);
    expect((await authnCall(app, "POST", `${base}/totp/enroll`, { jwt: withOtp.proof })).status).toBe(200);
  });

  it("confirm without a pending enrolment is 400; a bad proof is 401", async () => {
    const { proof } = await login({ username: "admin", password: PASSWORD });
    expect((await authnCall(app, "POST", `${base}/totp/confirm`, { jwt: proof, otp: "123456" })).status).toBe(400);
    expect((await authnCall(app, "POST", `${base}/totp/enroll`, { jwt: "a.b.c" })).status).toBe(401);
    expect((await authnCall(app, "POST", `${base}/totp/enroll`, {})).status).toBe(400);
  });
});

describe("PIN (extension)", () => {
  it("sets a PIN, which then authenticates", async () => {
    const { proof } = await login({ username: "admin", password: PASSWORD });
    const r = await authnCall(app, "PUT", `${base}/pin`, { jwt: proof, pin: "246810" });
    expect(r.status).toBe(200);
    const p = await login({ username: "admin", pin: "246810" });
    expect(p.status).toBe(200);
    expect(decodeJwt(p.proof).amr).toEqual(["pin"]);
  });

  it("refuses PINs that are not 4 to 12 digits (400)", async () => {
    const { proof } = await login({ username: "admin", pin: "246810" });
    for (const pin of ["123", "12345678901234", "abcd", "12 34"]) {
      expect((await authnCall(app, "PUT", `${base}/pin`, { jwt: proof, pin })).status).toBe(400);
    }
  });

  it("replacing a PIN needs a proof that used it or AAL2", async () => {
    const pwd = await login({ username: "admin", password: PASSWORD });
    expect((await authnCall(app, "PUT", `${base}/pin`, { jwt: pwd.proof, pin: "1357" })).status).toBe(403);
    const pin = await login({ username: "admin", pin: "246810" });
    expect((await authnCall(app, "PUT", `${base}/pin`, { jwt: pin.proof, pin: "1357" })).status).toBe(200);
  });
});
