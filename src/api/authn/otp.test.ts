import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { Browser, authorizeQuery, hiddenFields, pkce, registerClient, userWithTotp } from "../../../test/helpers/hosted-login";
import { eventually } from "../../../test/helpers/sentinel";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { createJourney } from "../../core/journeys";
import { totpNow } from "../../core/mfa/totp";
import { renderSmsBody } from "../../core/mfa/sms";
import { redeemAuthorizationCode } from "../../core/oidc-provider/codes";
import { parseTenantSettings } from "../../core/tenants/settings";
import type { Scope } from "../../core/context";
import { forgetTenantCache } from "../../http/tenant";
import { setOutboundFetch } from "../../http/services";
import { env } from "cloudflare:test";

/**
 * Issue 11, OTP delivery and recovery codes: codes by email and SMS through the job queue (the
 * real consumer, miniflare's queue), single use, expiry, attempt limit, 20-way races, no
 * enumeration; recovery codes shown once, stored as digests, single use, regenerated; the
 * hosted login's email code and recovery code steps.
 */
type Sent = { request_id: string; expires_in: number };
type Granted = { user: { username: string }; proof_of_authentication_jwt: string };
type Need = { user_token: string; next: { step: string; allowed_factors: string[] } };

const SMS_URL = "https://sms.provider.test/v1/messages";
const SMS_AUTH = "Bearer sms-test-secret";
const smsSettings = { url: SMS_URL, authHeader: "Authorization", authSecret: SMS_AUTH, bodyTemplate: '{"to":"{to}","message":"{text}"}' };

interface Fixture {
  t: TestTenant;
  caller: AuthnCaller;
  path: string;
}

async function fixture(settings: Record<string, unknown> = {}): Promise<Fixture> {
  const t = await createTestTenant({ otpDelivery: { sms: smsSettings }, ...settings });
  await services().users.update(t.tenant.id, t.alice.uid, { emailVerified: true, phone: "+15550001111", phoneVerified: true });
  const caller = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  return { t, caller, path: `/tenant/${t.tenant.id}/community/${t.community.id}` };
}

const scopeOf = (t: TestTenant): Scope => ({ tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null });

/** The code of the newest mail to `to` not in `seen` (waits for the queue consumer). */
async function mailedCode(t: TestTenant, to: string, seen = 0): Promise<string> {
  const mail = await eventually(async () => {
    const all = await services().mailStore.list({ tenantId: t.tenant.id, to, limit: 50 });
    return all.length > seen ? all[0] : null;
  });
  return /\b(\d{6})\b/.exec(mail.text)![1]!;
}

const sms: { url: string; headers: Headers; body: string }[] = [];
function standInSmsProvider(): void {
  setOutboundFetch(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== SMS_URL) return new Response("not found", { status: 404 });
    sms.push({ url: req.url, headers: req.headers, body: await req.text() });
    return new Response(JSON.stringify({ id: "msg-1" }), { status: 200, headers: { "content-type": "application/json" } });
  });
}
afterEach(() => {
  setOutboundFetch(null);
});

const send = (f: Fixture, username: string, channel: "email" | "sms", ip?: string) =>
  authnCall<Sent>(f.caller, "POST", `${f.path}/otp/send`, { username, channel }, ip ? { ip } : {});
const verify = (f: Fixture, body: Record<string, unknown>) => authnCall<Granted & Need>(f.caller, "POST", `${f.path}/otp/verify`, body);

describe("email and SMS codes through the job queue", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it("email: the code arrives by mail, verifies once (amr email_otp, AAL1), and a replay is refused", async () => {
    const s = await send(f, "alice", "email");
    expect(s.status).toBe(200);
    expect(s.data.request_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(s.data.expires_in).toBe(300);
    const code = await mailedCode(f.t, f.t.alice.email!);
    const ok = await verify(f, { request_id: s.data.request_id, code, username: "alice" });
    expect(ok.status).toBe(200);
    expect(ok.signed).toBe(true);
    expect(ok.data.user.username).toBe("alice");
    expect(decodeJwt(ok.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["email_otp"], aal: 1 });
    const again = await verify(f, { request_id: s.data.request_id, code });
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });
  });

  it("SMS: the stand-in provider gets the configured URL, auth header and body; amr sms reaches AAL2 with a password", async () => {
    standInSmsProvider();
    sms.length = 0;
    const s = await send(f, "alice", "sms");
    const msg = await eventually(async () => sms[0] ?? null);
    expect(msg.headers.get("authorization")).toBe(SMS_AUTH);
    expect(msg.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(msg.body) as { to: string; message: string };
    expect(body.to).toBe("+15550001111");
    const code = /\b(\d{6})\b/.exec(body.message)![1]!;
    const pwd = await authnCall<Granted>(f.caller, "POST", `${f.path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    const ok = await verify(f, { request_id: s.data.request_id, code, jwt: pwd.data.proof_of_authentication_jwt });
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["pwd", "sms"], aal: 2 });
  });

  it("the SMS body template escapes what it inserts (no breaking out of the JSON string)", () => {
    const body = renderSmsBody({ contentType: "application/json", bodyTemplate: '{"to":"{to}","text":"{text}"}' }, { to: '+1","x":"y', text: "a\nb", code: "123456" });
    expect(JSON.parse(body)).toEqual({ to: '+1","x":"y', text: "a\nb" });
    expect(renderSmsBody({ contentType: "application/x-www-form-urlencoded", bodyTemplate: "to={to}&body={text}" }, { to: "+1 2", text: "a&b=c", code: "1" })).toBe("to=%2B1%202&body=a%26b%3Dc");
  });

  it("no enumeration: unknown users and users without the channel get the same answer, and their ids verify like wrong codes", async () => {
    const known = await send(f, "alice", "email", "198.51.100.20");
    const unknown = await send(f, "nobody-here", "email", "198.51.100.21");
    // admin has an email but not a verified one; newbie has no phone.
    const unverified = await send(f, "admin", "email", "198.51.100.22");
    const noPhone = await send(f, "newbie", "sms", "198.51.100.23");
    for (const r of [unknown, unverified, noPhone]) {
      expect(r.status).toBe(known.status);
      expect(Object.keys(r.data).sort()).toEqual(Object.keys(known.data).sort());
      expect(r.data.expires_in).toBe(known.data.expires_in);
      expect(r.data.request_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    await mailedCode(f.t, f.t.alice.email!, 1);
    const wrong = await verify(f, { request_id: known.data.request_id, code: "000000" });
    const missing = await verify(f, { request_id: unknown.data.request_id, code: "000000" });
    const never = await verify(f, { request_id: unverified.data.request_id, code: "000000" });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual(wrong.body);
    expect(never.body).toEqual(wrong.body);
    expect((await services().mailStore.list({ tenantId: f.t.tenant.id, to: f.t.admin.email!, limit: 5 })).length).toBe(0);
  });

  it("a code is bound to its user: another username, or another user's step-up, is refused (and does not spend it)", async () => {
    const s = await send(f, "alice", "email");
    const code = await mailedCode(f.t, f.t.alice.email!, 2);
    expect((await verify(f, { request_id: s.data.request_id, code, username: "admin" })).status).toBe(401);
    const adminProof = await authnCall<Granted>(f.caller, "POST", `${f.path}/authenticate`, { credentials: { username: "admin", password: PASSWORD } });
    expect((await verify(f, { request_id: s.data.request_id, code, jwt: adminProof.data.proof_of_authentication_jwt })).status).toBe(401);
    expect((await verify(f, { request_id: s.data.request_id, code, username: "ALICE" })).status).toBe(200);
  });

  it("bad input is a 400 and changes nothing", async () => {
    for (const body of [{ request_id: "short", code: "123456" }, { request_id: "A".repeat(22), code: "12345" }, { request_id: "A".repeat(22), code: "123456", extra: 1 }]) {
      const r = await verify(f, body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400 });
    }
    expect((await send(f, "alice", "fax" as "sms")).status).toBe(400);
  });
});

describe("single use, expiry, attempt limit, races", () => {
  it("a code expires with its short TTL", async () => {
    const f = await fixture({ otpDelivery: { ttlSeconds: 2 } });
    const s = await send(f, "alice", "email");
    expect(s.data.expires_in).toBe(2);
    const code = await mailedCode(f.t, f.t.alice.email!);
    await new Promise((r) => setTimeout(r, 2200));
    expect((await verify(f, { request_id: s.data.request_id, code })).status).toBe(401);
  });

  it("after maxAttempts wrong codes the request id is locked, even for the right code", async () => {
    const f = await fixture({ otpDelivery: { maxAttempts: 3 } });
    const s = await send(f, "alice", "email");
    const code = await mailedCode(f.t, f.t.alice.email!);
    const wrong = code === "111111" ? "222222" : "111111";
    for (let i = 0; i < 3; i++) expect((await verify(f, { request_id: s.data.request_id, code: wrong })).status).toBe(401);
    const locked = await verify(f, { request_id: s.data.request_id, code });
    expect(locked.status).toBe(429);
    // Another request id is not affected.
    const s2 = await send(f, "alice", "email");
    const code2 = await mailedCode(f.t, f.t.alice.email!, 1);
    expect((await verify(f, { request_id: s2.data.request_id, code: code2 })).status).toBe(200);
  });

  it("20 racing uses of the right code: exactly one wins", async () => {
    const f = await fixture({ otpDelivery: { maxAttempts: 20 } });
    const s = await send(f, "alice", "email");
    const code = await mailedCode(f.t, f.t.alice.email!);
    const all = await Promise.all(Array.from({ length: 20 }, () => verify(f, { request_id: s.data.request_id, code })));
    expect(all.filter((r) => r.status === 200)).toHaveLength(1);
    expect(all.every((r) => r.status === 200 || r.status === 401 || r.status === 429)).toBe(true);
  });

  it("sending is rate limited per username, alike for known and unknown names", async () => {
    const f = await fixture({ mailPerHour: 2 });
    const known = [];
    const unknown = [];
    for (let i = 0; i < 3; i++) known.push((await send(f, "alice", "email", "198.51.100.31")).status);
    for (let i = 0; i < 3; i++) unknown.push((await send(f, "ghost", "email", "198.51.100.32")).status);
    expect(known).toEqual([200, 200, 429]);
    expect(unknown).toEqual(known);
  });

  it("the policy counts email_otp: password_and_email_otp needs both, stepped up with the user_token", async () => {
    const f = await fixture();
    await createJourney(services(), scopeOf(f.t), 2, { name: "email step", ip: { value: "10.0.0.0/8", operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_email_otp"] } });
    const first = await authnCall<Need>(f.caller, "POST", `${f.path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    expect(first.data.next).toMatchObject({ step: "need_mfa", allowed_factors: ["email_otp"] });
    const s = await send(f, "alice", "email");
    const code = await mailedCode(f.t, f.t.alice.email!);
    // Alone, the email code is not enough for this policy: need_mfa again.
    const alone = await verify(f, { request_id: s.data.request_id, code });
    expect(alone.status).toBe(200);
    expect(alone.data.next?.step).toBe("need_mfa");
    const s2 = await send(f, "alice", "email");
    const code2 = await mailedCode(f.t, f.t.alice.email!, 1);
    const up = await verify(f, { request_id: s2.data.request_id, code: code2, jwt: first.data.user_token });
    expect(up.status).toBe(200);
    expect(decodeJwt(up.data.proof_of_authentication_jwt).amr).toEqual(["pwd", "email_otp"]);
  });
});

describe("TOTP recovery codes", () => {
  type Codes = { recovery_codes: string[]; remaining: number };

  async function totpProof(f: Fixture, username: string, secret: string): Promise<string> {
    const r = await authnCall<Granted>(f.caller, "POST", `${f.path}/authenticate`, { credentials: { username, password: PASSWORD, otp: await totpNow(secret) } });
    expect(r.status).toBe(200);
    return r.data.proof_of_authentication_jwt;
  }
  const useCode = (f: Fixture, username: string, code: string, jwt?: string) =>
    authnCall<Granted>(f.caller, "POST", `${f.path}/authenticate_with_recovery_code`, { username, code, ...(jwt ? { jwt } : {}) });

  it("shown once, stored as digests, single use, counted, regenerated; needs TOTP and a proof that used it", async () => {
    const f = await fixture();
    // Without TOTP there is nothing to recover.
    const pwd = await authnCall<Granted>(f.caller, "POST", `${f.path}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    expect((await authnCall(f.caller, "POST", `${f.path}/recovery_codes`, { jwt: pwd.data.proof_of_authentication_jwt })).status).toBe(400);

    const { secret, user } = await userWithTotp(f.t, "rita");
    // A password-only proof cannot make codes for a user with TOTP.
    const rpwd = await authnCall<Granted>(f.caller, "POST", `${f.path}/authenticate`, { credentials: { username: "rita", password: PASSWORD } });
    expect((await authnCall(f.caller, "POST", `${f.path}/recovery_codes`, { jwt: rpwd.data.proof_of_authentication_jwt })).status).toBe(403);

    const proof = await totpProof(f, "rita", secret);
    const gen = await authnCall<Codes>(f.caller, "POST", `${f.path}/recovery_codes`, { jwt: proof });
    expect(gen.status).toBe(200);
    expect(gen.data.recovery_codes).toHaveLength(10);
    expect(new Set(gen.data.recovery_codes).size).toBe(10);
    for (const c of gen.data.recovery_codes) expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    // Stored hashed: no row holds a code, in any spelling.
    const rows = await env.DB.prepare("SELECT code_hash FROM recovery_codes WHERE tenant_id = ? AND user_uid = ?").bind(f.t.tenant.id, user.uid).all<{ code_hash: string }>();
    expect(rows.results).toHaveLength(10);
    const stored = JSON.stringify(rows.results);
    for (const c of gen.data.recovery_codes) {
      expect(stored).not.toContain(c);
      expect(stored).not.toContain(c.replace("-", ""));
    }
    const count = async () => (await authnCall<{ remaining: number }>(f.caller, "POST", `${f.path}/recovery_codes/count`, { jwt: proof })).data.remaining;
    expect(await count()).toBe(10);

    const [first, second] = gen.data.recovery_codes as [string, string];
    const ok = await useCode(f, "rita", first.toUpperCase().replace("-", " "));
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["otp", "recovery"], aal: 1 });
    expect((await useCode(f, "rita", first)).status).toBe(401);
    expect(await count()).toBe(9);
    // With the password first (a step-up), a recovery code gives AAL2 like TOTP.
    const up = await useCode(f, "rita", second, rpwd.data.proof_of_authentication_jwt);
    expect(decodeJwt(up.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["pwd", "otp", "recovery"], aal: 2 });

    // Another user's code, an unknown user: the same 401.
    const third = gen.data.recovery_codes[2]!;
    const other = await useCode(f, "alice", third);
    const ghost = await useCode(f, "ghost", third);
    expect(other.status).toBe(401);
    expect(ghost.body).toEqual(other.body);

    // Regenerating replaces the set: the old codes stop working.
    const regen = await authnCall<Codes>(f.caller, "POST", `${f.path}/recovery_codes`, { jwt: proof });
    expect(regen.data.recovery_codes).toHaveLength(10);
    expect((await useCode(f, "rita", third)).status).toBe(401);
    expect(await count()).toBe(10);
  });

  it("20 racing uses of one recovery code: exactly one wins", async () => {
    const f = await fixture({ lockout: { userThreshold: 100 } });
    const { secret } = await userWithTotp(f.t, "rory");
    const gen = await authnCall<Codes>(f.caller, "POST", `${f.path}/recovery_codes`, { jwt: await totpProof(f, "rory", secret) });
    const code = gen.data.recovery_codes[0]!;
    const all = await Promise.all(Array.from({ length: 20 }, () => useCode(f, "rory", code)));
    expect(all.filter((r) => r.status === 200)).toHaveLength(1);
    expect(all.filter((r) => r.status === 401)).toHaveLength(19);
  });
});

describe("hosted login: the email code step and the recovery code link", () => {
  async function start(t: TestTenant, b: Browser) {
    const client = await registerClient(t, { name: "Code App" });
    const p = await pkce();
    const res = await b.get(`/oidc/${t.community.id}/authorize?${authorizeQuery(client, p.challenge)}`);
    return { html: await res.text() };
  }
  const scope = (t: TestTenant) => ({ tenant: t.tenant, community: t.community }) as Parameters<typeof redeemAuthorizationCode>[1];

  it("the policy wants email_otp: a code by email, CSRF checked, a wrong code refused, then signed in with amr pwd+email_otp", async () => {
    const f = await fixture();
    forgetTenantCache();
    await createJourney(services(), scopeOf(f.t), 2, { name: "email step", ip: { value: "10.0.0.0/8", operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_email_otp"] } });
    const b = new Browser(f.t.host);
    const base = `/oidc/${f.t.community.id}`;
    const { html } = await start(f.t, b);
    const login = await b.post(`${base}/login`, { ...hiddenFields(html), username: "alice", password: PASSWORD });
    expect(login.status).toBe(200);
    const page = await login.text();
    expect(page).toContain("<h1>Check your email</h1>");
    expect(page).toMatch(/<label for="code">Email code<\/label>/);
    const fields = hiddenFields(page);
    const code = await mailedCode(f.t, f.t.alice.email!);
    const forged = await b.post(`${base}/login/email-code`, { tx: fields.tx, csrf: "forged", code });
    expect(forged.status).toBe(403);
    const wrong = await b.post(`${base}/login/email-code`, { ...fields, code: code === "000000" ? "111111" : "000000" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('role="alert"');
    const ok = await b.post(`${base}/login/email-code`, { ...fields, code });
    expect(ok.status).toBe(303);
    const grant = await redeemAuthorizationCode(services(), scope(f.t), new URL(ok.headers.get("location")!).searchParams.get("code")!);
    expect(grant.status === "ok" && grant.grant.amr).toEqual(["pwd", "email_otp"]);
  });

  it("the TOTP page links to a recovery code page; a recovery code signs in with amr pwd+otp+recovery, once", async () => {
    const f = await fixture();
    forgetTenantCache();
    const { secret } = await userWithTotp(f.t, "hana");
    const gen = await authnCall<{ recovery_codes: string[] }>(f.caller, "POST", `${f.path}/recovery_codes`, {
      jwt: (await authnCall<Granted>(f.caller, "POST", `${f.path}/authenticate`, { credentials: { username: "hana", password: PASSWORD, otp: await totpNow(secret) } })).data.proof_of_authentication_jwt,
    });
    const code = gen.data.recovery_codes[0]!;
    const base = `/oidc/${f.t.community.id}`;
    const signIn = async () => {
      const b = new Browser(f.t.host);
      const { html } = await start(f.t, b);
      const otp = await (await b.post(`${base}/login`, { ...hiddenFields(html), username: "hana", password: PASSWORD })).text();
      const link = /href="([^"]*\/login\/recovery\?tx=[^"]+)"/.exec(otp)?.[1];
      expect(link).toBeTruthy();
      const rec = await b.get(link!.replace(/&amp;/g, "&"));
      expect(rec.status).toBe(200);
      const page = await rec.text();
      expect(page).toContain("<h1>Use a recovery code</h1>");
      return b.post(`${base}/login/recovery`, { ...hiddenFields(page), recovery_code: code });
    };
    const ok = await signIn();
    expect(ok.status).toBe(303);
    const grant = await redeemAuthorizationCode(services(), scope(f.t), new URL(ok.headers.get("location")!).searchParams.get("code")!);
    expect(grant.status === "ok" && grant.grant.amr).toEqual(["pwd", "otp", "recovery"]);
    // Used: the same code on a new sign-in is refused.
    expect((await signIn()).status).toBe(401);
  });
});
