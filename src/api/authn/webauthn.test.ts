import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { b64url, SoftCredential, unb64url, type AssertionJSON } from "../../../test/helpers/soft-authenticator";
import { hashPassword } from "../../crypto/password";
import { createJourney } from "../../core/journeys";
import { parseTenantSettings } from "../../core/tenants/settings";
import { setChallengeTtlForTests } from "../../core/webauthn/challenges";
import type { Scope } from "../../core/context";

/**
 * FIDO2 / WebAuthn on the Authn API (issue 11): registration, authenticate_with_fido with and
 * without a username, the relying party's origin and RP ID, single-use and expiring challenges,
 * the signature counter, user verification, foreign credentials, hostile input, the policy's
 * answers, and credential management. The authenticator is test/helpers/soft-authenticator.ts
 * (independent of the server's WebAuthn library).
 */

interface Ctx {
  tt: TestTenant;
  app: AuthnCaller;
  base: string;
  origin: string;
}

type Options = { challenge: string; rpId: string; allowCredentials: { id: string }[]; userVerification: string; timeout: number };
type CreationOptions = { challenge: string; rp: { id: string; name: string }; user: { id: string; name: string }; attestation: string; excludeCredentials: { id: string }[] };
type FidoAnswer = { status: string; errorMessage: string; sub: string; user: string; authenticatorId: string; authselection: string; proof_of_authentication_jwt: string };

async function setup(): Promise<Ctx> {
  const tt = await createTestTenant();
  const app = await authnCaller({ tenantId: tt.tenant.id, level: "app", communities: [tt.community.id] });
  return { tt, app, base: `/tenant/${tt.tenant.id}/community/${tt.community.id}`, origin: `http://${tt.host}` };
}

let userN = 0;
/** A fresh user of the tenant, so the login limiter's counters of one test never touch another's. */
async function newUser(c: Ctx): Promise<string> {
  const svc = services();
  const username = `fido${userN++}`;
  await svc.users.create({ tenantId: c.tt.tenant.id, communityId: c.tt.community.id, username, email: `${username}@${c.tt.host}`, roles: ["user"], passwordHash: await hashPassword(PASSWORD, svc.config.passwordPepper), passwordChangedAt: Date.now() });
  return username;
}

async function passwordProof(c: Ctx, username: string): Promise<string> {
  const r = await authnCall<{ proof_of_authentication_jwt: string }>(c.app, "POST", `${c.base}/authenticate`, { credentials: { username, password: PASSWORD } });
  expect(r.status).toBe(200);
  return r.data.proof_of_authentication_jwt;
}

async function register(c: Ctx, username: string, cred: SoftCredential, proof?: string): Promise<{ id: string; name: string }> {
  const jwt = proof ?? (await passwordProof(c, username));
  const o = await authnCall<CreationOptions>(c.app, "POST", `${c.base}/webauthn/registration/options`, { jwt });
  expect(o.status).toBe(200);
  const v = await authnCall<{ id: string; name: string }>(c.app, "POST", `${c.base}/webauthn/registration/verify`, { jwt, credential: await cred.attest(o.data, { origin: c.origin }), name: "Key" });
  expect(v.status).toBe(200);
  return v.data;
}

async function options(c: Ctx, body: Record<string, unknown> = {}): Promise<Options> {
  const r = await authnCall<Options>(c.app, "POST", `${c.base}/webauthn/authentication/options`, body);
  expect(r.status).toBe(200);
  return r.data;
}

function fido(c: Ctx, body: Record<string, unknown>) {
  return authnCall<FidoAnswer>(c.app, "POST", `${c.base}/authenticate_with_fido`, body);
}

async function auditTypes(c: Ctx): Promise<{ type: string; detail: unknown }[]> {
  await new Promise((r) => setTimeout(r, 80));
  return (await services().audit.list(c.tt.tenant.id, { limit: 100 })) as { type: string; detail: unknown }[];
}

let c: Ctx;
beforeAll(async () => {
  c = await setup();
});
afterEach(() => setChallengeTtlForTests(null));

describe("registration", () => {
  it("options: rp.id is the tenant's hostname, attestation none, user handle = uid; verify stores the credential", async () => {
    const u = await newUser(c);
    const jwt = await passwordProof(c, u);
    const o = await authnCall<CreationOptions>(c.app, "POST", `${c.base}/webauthn/registration/options`, { jwt });
    expect(o.status).toBe(200);
    expect(o.data.rp.id).toBe(c.tt.host);
    expect(o.data.attestation).toBe("none");
    const uid = decodeJwt(jwt).sub!;
    expect(new TextDecoder().decode(unb64url(o.data.user.id))).toBe(uid);
    expect(unb64url(o.data.challenge).length).toBe(32);
    const cred = await SoftCredential.create();
    const v = await authnCall<{ id: string; name: string; credentialId: string }>(c.app, "POST", `${c.base}/webauthn/registration/verify`, { jwt, credential: await cred.attest(o.data, { origin: c.origin }) });
    expect(v.status).toBe(200);
    expect(v.data).toMatchObject({ name: "Passkey", credentialId: cred.idB64 });
    // The same response again: the challenge is used up.
    const again = await authnCall(c.app, "POST", `${c.base}/webauthn/registration/verify`, { jwt: await passwordProofWithFido(c, u, cred), credential: await cred.attest(o.data, { origin: c.origin }) });
    expect(again.status).toBe(401);
    const list = await authnCall<{ credentials: { id: string }[] }>(c.app, "POST", `${c.base}/webauthn/credentials/fetch`, { jwt });
    expect(list.data.credentials.map((x) => x.id)).toEqual([v.data.id]);
  });

  it("a wrong origin or RP ID at registration is refused (401) and nothing is stored", async () => {
    const u = await newUser(c);
    const jwt = await passwordProof(c, u);
    for (const ceremony of [{ origin: "https://evil.example" }, { origin: c.origin, rpId: "evil.example" }]) {
      const o = await authnCall<CreationOptions>(c.app, "POST", `${c.base}/webauthn/registration/options`, { jwt });
      const v = await authnCall(c.app, "POST", `${c.base}/webauthn/registration/verify`, { jwt, credential: await (await SoftCredential.create()).attest(o.data, ceremony) });
      expect(v.status).toBe(401);
    }
    const list = await authnCall<{ credentials: unknown[] }>(c.app, "POST", `${c.base}/webauthn/credentials/fetch`, { jwt });
    expect(list.data.credentials).toEqual([]);
  });

  it("adding a second credential needs a proof that used fido or reached AAL2 (403 with the password alone)", async () => {
    const u = await newUser(c);
    const first = await SoftCredential.create();
    await register(c, u, first);
    const pwd = await passwordProof(c, u);
    expect((await authnCall(c.app, "POST", `${c.base}/webauthn/registration/options`, { jwt: pwd })).status).toBe(403);
    const strong = await passwordProofWithFido(c, u, first);
    await register(c, u, await SoftCredential.create(), strong);
  });
});

/** A proof after a FIDO sign-in (passwordless, UV): amr fido + mfa, AAL2. */
async function passwordProofWithFido(c: Ctx, username: string, cred: SoftCredential): Promise<string> {
  const o = await options(c, { username });
  const r = await fido(c, { username, assertionResults: await cred.assert(o, { origin: c.origin }) });
  expect(r.status).toBe(200);
  return r.data.proof_of_authentication_jwt;
}

describe("authenticate_with_fido", () => {
  it("with a username: the document's answer (user as a JSON string), amr fido+mfa, AAL2, signed", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    const reg = await register(c, u, cred);
    const o = await options(c, { username: u });
    expect(o.rpId).toBe(c.tt.host);
    expect(o.userVerification).toBe("required");
    expect(o.allowCredentials.map((x) => x.id)).toEqual([cred.idB64]);
    const r = await fido(c, { username: u, authModule: "passkeys", assertionResults: await cred.assert(o, { origin: c.origin }) });
    expect(r.status).toBe(200);
    expect(r.signed).toBe(true);
    expect(r.data).toMatchObject({ status: "Ok", errorMessage: "", authenticatorId: reg.id, authselection: "passkeys" });
    expect(typeof r.data.user).toBe("string");
    expect(JSON.parse(r.data.user)).toMatchObject({ username: u, uid: r.data.sub });
    expect(decodeJwt(r.data.proof_of_authentication_jwt)).toMatchObject({ sub: r.data.sub, amr: ["fido", "mfa"], aal: 2 });
  });

  it("discoverable: options without username have empty allowCredentials; the user handle names the user", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    const o = await options(c);
    expect(o.allowCredentials).toEqual([]);
    const r = await fido(c, { assertionResults: await cred.assert(o, { origin: c.origin }) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.data.user).username).toBe(u);
  });

  it("options for an unknown user or a user without credentials look like a user's (no enumeration)", async () => {
    const u = await newUser(c);
    const a = await options(c, { username: "nobody-here" });
    const b = await options(c, { username: u });
    expect(a.allowCredentials).toHaveLength(1);
    expect(b.allowCredentials).toHaveLength(1);
    expect((await options(c, { username: "nobody-here" })).allowCredentials).toEqual(a.allowCredentials);
  });

  it("a wrong origin or a wrong RP ID is refused (401)", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    for (const ceremony of [{ origin: "https://evil.example" }, { origin: c.origin, rpId: "evil.example" }, { origin: `https://${c.tt.host}.evil.example` }]) {
      const o = await options(c, { username: u });
      expect((await fido(c, { username: u, assertionResults: await cred.assert(o, ceremony) })).status).toBe(401);
    }
  });

  it("a challenge is single use: a replay is refused; 20 racing uses of one assertion, exactly one wins", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    const o = await options(c, { username: u });
    const a = await cred.assert(o, { origin: c.origin });
    expect((await fido(c, { username: u, assertionResults: a })).status).toBe(200);
    expect((await fido(c, { username: u, assertionResults: a })).status).toBe(401);

    const u2 = await newUser(c);
    const cred2 = await SoftCredential.create();
    await register(c, u2, cred2);
    const o2 = await options(c);
    const a2 = await cred2.assert(o2, { origin: c.origin });
    const results = await Promise.all(Array.from({ length: 20 }, () => fido(c, { assertionResults: a2 })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 401 || s === 429)).toBe(true);
  });

  it("an expired challenge is refused (a 1 s lifetime, waited out)", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    setChallengeTtlForTests(1000);
    const o = await options(c, { username: u });
    expect(o.timeout).toBe(1000);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await fido(c, { username: u, assertionResults: await cred.assert(o, { origin: c.origin }) })).status).toBe(401);
  });

  it("the signature counter: going backwards is refused and audited as a possible clone; both zero is allowed", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    let o = await options(c, { username: u });
    expect((await fido(c, { username: u, assertionResults: await cred.assert(o, { origin: c.origin, counter: 10 }) })).status).toBe(200);
    for (const counter of [5, 10]) {
      o = await options(c, { username: u });
      const r = await fido(c, { username: u, assertionResults: await cred.assert(o, { origin: c.origin, counter }) });
      expect(r.status).toBe(401);
      expect(String((r.data as unknown as { message: string }).message)).toContain("cloned");
    }
    const events = await auditTypes(c);
    expect(events.filter((e) => e.type === "webauthn_counter_regressed").length).toBeGreaterThanOrEqual(2);
    o = await options(c, { username: u });
    expect((await fido(c, { username: u, assertionResults: await cred.assert(o, { origin: c.origin, counter: 11 }) })).status).toBe(200);

    // An authenticator without a counter (always 0) signs in again and again.
    const u2 = await newUser(c);
    const zero = await SoftCredential.create(false);
    await register(c, u2, zero);
    for (let i = 0; i < 2; i++) {
      o = await options(c, { username: u2 });
      expect((await fido(c, { username: u2, assertionResults: await zero.assert(o, { origin: c.origin }) })).status).toBe(200);
    }
  });

  it("user verification: required without jwt (401), not required as a second factor (amr pwd+fido, AAL2)", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    let o = await options(c, { username: u });
    const noUv = await fido(c, { username: u, assertionResults: await cred.assert(o, { origin: c.origin, uv: false }) });
    expect(noUv.status).toBe(401);
    const jwt = await passwordProof(c, u);
    o = await options(c, { username: u, jwt });
    expect(o.userVerification).toBe("preferred");
    const r = await fido(c, { username: u, jwt, assertionResults: await cred.assert(o, { origin: c.origin, uv: false }) });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt)).toMatchObject({ amr: ["pwd", "fido"], aal: 2 });
    // No user presence at all is never accepted.
    o = await options(c, { username: u, jwt: await passwordProof(c, u) });
    expect((await fido(c, { username: u, jwt: await passwordProof(c, u), assertionResults: await cred.assert(o, { origin: c.origin, up: false }) })).status).toBe(401);
  });

  it("another user's credential, another user's step-up token and another tenant's credential are refused", async () => {
    const u = await newUser(c);
    const other = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    let o = await options(c);
    expect((await fido(c, { username: other, assertionResults: await cred.assert(o, { origin: c.origin }) })).status).toBe(401);
    o = await options(c);
    expect((await fido(c, { jwt: await passwordProof(c, other), assertionResults: await cred.assert(o, { origin: c.origin }) })).status).toBe(401);
    // A challenge given for `other` does not serve u's credential.
    o = await options(c, { username: other });
    expect((await fido(c, { assertionResults: await cred.assert(o, { origin: c.origin }) })).status).toBe(401);

    const d = await setup();
    const o2 = await options(d);
    expect((await fido(d, { assertionResults: await cred.assert(o2, { origin: d.origin }) })).status).toBe(401);
    expect((await fido(d, { assertionResults: await cred.assert(o2, { origin: c.origin, rpId: c.tt.host }) })).status).toBe(401);
  });

  it("forged and malformed assertionResults: 400 or 401, never 5xx, and the challenge survives bad input", async () => {
    const u = await newUser(c);
    const cred = await SoftCredential.create();
    await register(c, u, cred);
    const o = await options(c, { username: u });
    const good = await cred.assert(o, { origin: c.origin });
    const variants: unknown[] = [
      {},
      { ...good, type: "other" },
      { ...good, id: "not base64url!" },
      { ...good, response: { ...good.response, clientDataJSON: "" } },
      { ...good, response: { ...good.response, clientDataJSON: b64url(new TextEncoder().encode("{not json")) } },
      { ...good, response: { ...good.response, clientDataJSON: b64url(new TextEncoder().encode(JSON.stringify({ type: "webauthn.get", challenge: 5 }))) } },
      { ...good, response: { ...good.response, signature: b64url(new Uint8Array(70)) } },
      { ...good, response: { ...good.response, signature: "" } },
      { ...good, response: { ...good.response, authenticatorData: b64url(new Uint8Array(10)) } },
      { ...good, response: { ...good.response, authenticatorData: "AAAA" } },
      { ...good, response: { ...good.response, userHandle: b64url(new TextEncoder().encode("someone-else")) } },
      { ...good, id: b64url(new Uint8Array(32)), rawId: b64url(new Uint8Array(32)) },
      "string",
      [good],
    ];
    for (const v of variants) {
      const r = await fido(c, { username: u, assertionResults: v });
      expect([400, 401]).toContain(r.status);
      expect(r.body).toMatchObject({ statusCode: r.status });
    }
    expect((await fido(c, { username: u })).status).toBe(400);
    // The genuine assertion still works: failed attempts did not use its challenge up.
    const ok = await fido(c, { username: u, assertionResults: good satisfies AssertionJSON });
    expect(ok.status).toBe(200);
  });
});

describe("the authentication policy decides authenticate_with_fido", () => {
  function scopeOf(tt: TestTenant): Scope {
    return { tenant: tt.tenant, settings: parseTenantSettings(tt.tenant.settings), community: tt.community, ip: "203.0.113.7", userAgent: null };
  }

  it("need_mfa: {user_token, next}; then the password as the next factor gives the proof (amr accumulates)", async () => {
    const d = await setup();
    const u = await newUser(d);
    const cred = await SoftCredential.create();
    await register(d, u, cred);
    await createJourney(services(), scopeOf(d.tt), 2, { name: "fido needs a password", decision: { action: "mfa_required", authenticationMethods: ["password_and_fido"] } });
    const o = await options(d, { username: u });
    const r = await authnCall<{ user_token: string; next: { step: string; allowed_factors: string[] } }>(d.app, "POST", `${d.base}/authenticate_with_fido`, { username: u, assertionResults: await cred.assert(o, { origin: d.origin }) });
    expect(r.status).toBe(200);
    expect(r.data.next.step).toBe("need_mfa");
    expect(r.data.next.allowed_factors).toContain("password");
    const up = await authnCall<{ proof_of_authentication_jwt: string }>(d.app, "POST", `${d.base}/authenticate`, { credentials: { username: u, password: PASSWORD }, jwt: r.data.user_token });
    expect(up.status).toBe(200);
    expect(decodeJwt(up.data.proof_of_authentication_jwt).amr).toEqual(["fido", "mfa", "pwd"]);
  });

  it("deny_access: 403 and no proof", async () => {
    const d = await setup();
    const u = await newUser(d);
    const cred = await SoftCredential.create();
    await register(d, u, cred);
    await createJourney(services(), scopeOf(d.tt), 1, { name: "no fido user", usernames: { value: [u], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } });
    const o = await options(d, { username: u });
    const r = await fido(d, { username: u, assertionResults: await cred.assert(o, { origin: d.origin }) });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ statusCode: 403 });
  });
});

describe("credential management", () => {
  it("rename, delete (needs fido or AAL2), unknown ids 404, another user's credential untouchable; a deleted credential no longer signs in", async () => {
    const u = await newUser(c);
    const other = await newUser(c);
    const cred = await SoftCredential.create();
    const reg = await register(c, u, cred);
    const pwd = await passwordProof(c, u);
    const ren = await authnCall(c.app, "PATCH", `${c.base}/webauthn/credentials/${reg.id}`, { jwt: pwd, name: "  Laptop  " });
    expect(ren.status).toBe(200);
    expect(ren.data).toEqual({ id: reg.id, name: "Laptop" });
    const list = await authnCall<{ credentials: { id: string; name: string }[] }>(c.app, "POST", `${c.base}/webauthn/credentials/fetch`, { jwt: pwd });
    expect(list.data.credentials).toMatchObject([{ id: reg.id, name: "Laptop" }]);
    expect((await authnCall(c.app, "PATCH", `${c.base}/webauthn/credentials/nope`, { jwt: pwd, name: "x" })).status).toBe(404);
    const otherPwd = await passwordProof(c, other);
    expect((await authnCall(c.app, "PATCH", `${c.base}/webauthn/credentials/${reg.id}`, { jwt: otherPwd, name: "mine" })).status).toBe(404);
    expect((await authnCall(c.app, "DELETE", `${c.base}/webauthn/credentials/${reg.id}`, { jwt: otherPwd })).status).toBe(404);
    expect((await authnCall(c.app, "DELETE", `${c.base}/webauthn/credentials/${reg.id}`, { jwt: pwd })).status).toBe(403);
    const strong = await passwordProofWithFido(c, u, cred);
    const del = await authnCall(c.app, "DELETE", `${c.base}/webauthn/credentials/${reg.id}`, { jwt: strong });
    expect(del.status).toBe(200);
    expect(del.data).toEqual({ deleted: true });
    const o = await options(c);
    expect((await fido(c, { assertionResults: await cred.assert(o, { origin: c.origin }) })).status).toBe(401);
  });
});
