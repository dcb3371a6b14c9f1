import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompactSign, decodeJwt, exportJWK, generateKeyPair as joseKeyPair } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { setOutboundFetch } from "../../http/services";
import { setUserPin } from "../../core/mfa/pin";
import { issueProof } from "../../core/authn/proofs";
import { parseTenantSettings } from "../../core/tenants/settings";
import { canonicalPattern, train } from "../../core/typing/detector";
import { uwlHelpers, wallet } from "./step-up-factors-uwl.spec";

type Login = { user?: { username: string }; proof_of_authentication_jwt?: string; user_token?: string; next?: { step: string; allowed_factors: string[] } };

/** Deterministic synthetic typings of one person (31 features, as bench/typing-eer.mjs). */
function typist(seed: number) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
  const means = Array.from({ length: 31 }, (_, i) => (i % 3 === 0 ? 80 + u() * 50 : 150 + u() * 200));
  return () => means.map((m) => Math.round(m * Math.exp(0.15 * n()) * 1000) / 1000);
}

// ---------- LiveID stand-in face service ----------
const FACE_URL = "https://face.test/verify";
type Mode = "match" | "nomatch" | "unsigned" | "forged" | "other-request" | "expired" | "other-user" | "error";
let mode: Mode = "match";
const faces = new Map<string, string>(); // selfie -> uid
const calls: Record<string, unknown>[] = [];

async function faceKeys() {
  const real = await joseKeyPair("ES256", { extractable: true });
  const fake = await joseKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(real.publicKey);
  return { real, fake, jwk: { kty: "EC", crv: "P-256", x: jwk.x!, y: jwk.y! } };
}

function standIn(keys: Awaited<ReturnType<typeof faceKeys>>): typeof fetch {
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url !== FACE_URL) return new Response("no such host", { status: 502 });
    const body = JSON.parse(String(init?.body)) as { request_id: string; selfie: string; uid?: string };
    calls.push(body);
    if (mode === "error") return new Response("boom", { status: 500 });
    const now = Math.floor(Date.now() / 1000);
    const found = faces.get(body.selfie);
    const claims = {
      request_id: mode === "other-request" ? "another-request-id" : body.request_id,
      sub: mode === "other-user" ? "someone-else" : (body.uid ?? found ?? "unknown"),
      match: mode !== "nomatch" && found !== undefined && (body.uid === undefined || body.uid === found),
      liveness: true,
      iat: mode === "expired" ? now - 600 : now,
      exp: mode === "expired" ? now - 300 : now + 60,
    };
    const payload = new TextEncoder().encode(JSON.stringify(claims));
    let verdict: string;
    if (mode === "unsigned") verdict = `${btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "")}.${btoa(JSON.stringify(claims)).replace(/=+$/, "")}.`;
    else verdict = await new CompactSign(payload).setProtectedHeader({ alg: "ES256" }).sign(mode === "forged" ? keys.fake.privateKey : keys.real.privateKey);
    return Response.json({ verdict });
  };
}

export function typingAndLiveidSpecs(): void {
  let t: TestTenant;
  let app: AuthnCaller;
  let base = "";
  const login = async (credentials: Record<string, string>, jwt?: string, ip?: string) =>
    authnCall<Login>(app, "POST", `${base}/authenticate`, { credentials, ...(jwt ? { jwt } : {}) }, ip ? { ip } : {});
  const alice = typist(11);
  const enrolment = Array.from({ length: 20 }, alice);
  const model = train(enrolment);
  // Near the mean: surely accepted, and each one new.
  let k = 0;
  const genuine = () => model.mean.map((m, i) => Math.round((m + (i === k % 31 ? 0.001 * ++k : 0)) * 1000) / 1000);
  const behave = (body: Record<string, unknown>, ip?: string) => authnCall<Login>(app, "POST", `${base}/authenticate_with_behavior_auth`, body, ip ? { ip } : {});
  let keys: Awaited<ReturnType<typeof faceKeys>>;
  const aliceSelfie = btoa("selfie-of-alice");
  const adminSelfie = btoa("selfie-of-admin");

  beforeAll(async () => {
    keys = await faceKeys();
    t = await createTestTenant({ liveid: { url: FACE_URL, publicKeyJwk: keys.jwk } });
    app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
    base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
    faces.set(aliceSelfie, t.alice.uid);
    faces.set(adminSelfie, t.admin.uid);
    setOutboundFetch(standIn(keys));
  });
  afterAll(() => setOutboundFetch(null));

  describe("typing pattern (authenticate_with_behavior_auth)", () => {
    let proof = "";
    beforeAll(async () => {
      proof = (await login({ username: "alice", password: PASSWORD })).data.proof_of_authentication_jwt!;
    });

    it("enrols 20 typings with a proof; too few, mixed lengths and malformed numbers are 400", async () => {
      const csv = enrolment.map(canonicalPattern);
      const r = await authnCall(app, "POST", `${base}/behavior_auth/enroll`, { jwt: proof, patterns: csv });
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(r.data).toEqual({ enrolled: true, samples: 20, features: 31 });
      expect((await authnCall(app, "POST", `${base}/behavior_auth/enroll`, { jwt: proof, patterns: csv.slice(0, 5) })).status).toBe(400);
      expect((await authnCall(app, "POST", `${base}/behavior_auth/enroll`, { jwt: proof, patterns: [...csv.slice(0, 19), "1,2,3,4,5"] })).status).toBe(400);
      expect((await authnCall(app, "POST", `${base}/behavior_auth/enroll`, { jwt: proof, patterns: [...csv.slice(0, 19), "1,2,x,4,5"] })).status).toBe(400);
      // Replacing the profile needs a proof that used it (or AAL2).
      expect((await authnCall(app, "POST", `${base}/behavior_auth/enroll`, { jwt: proof, patterns: csv })).status).toBe(403);
    });

    it("steps up a password proof: amr [pwd, behavior_auth], still AAL1", async () => {
      const r = await behave({ username: "alice", authModule: "typing", pattern: canonicalPattern(genuine()), jwt: proof });
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(r.data.user!.username).toBe("alice");
      expect(decodeJwt(r.data.proof_of_authentication_jwt!)).toMatchObject({ amr: ["pwd", "behavior_auth"], aal: 1 });
    });

    it("never stands alone: without jwt it is a 400", async () => {
      expect((await behave({ username: "alice", pattern: canonicalPattern(genuine()) })).status).toBe(400);
    });

    it("refuses an impostor, an exact repeat (also of an enrolment typing) and a malformed pattern", async () => {
      const p = canonicalPattern(genuine());
      expect((await behave({ username: "alice", pattern: p, jwt: proof })).status).toBe(200);
      expect((await behave({ username: "alice", pattern: p, jwt: proof })).status).toBe(401);
      expect((await behave({ username: "alice", pattern: canonicalPattern(enrolment[3]!), jwt: proof })).status).toBe(401);
      expect((await behave({ username: "alice", pattern: canonicalPattern(model.mean.map((m) => m * 2.5)), jwt: proof })).status).toBe(401);
      expect((await behave({ username: "alice", pattern: "1,2", jwt: proof })).status).toBe(400);
      expect((await behave({ username: "alice", pattern: "NaN,1,2,3,4,5", jwt: proof })).status).toBe(400);
    });

    it("20 racing copies of one new pattern: exactly one accepted", async () => {
      const p = canonicalPattern(genuine());
      const rs = await Promise.all(Array.from({ length: 20 }, () => behave({ username: "alice", pattern: p, jwt: proof }, "203.0.113.30")));
      expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
      expect(rs.filter((r) => r.status === 401)).toHaveLength(19);
    });

    it("a user without a profile answers like a wrong pattern; a jwt of another user is 401", async () => {
      const adminProof = (await login({ username: "admin", password: PASSWORD })).data.proof_of_authentication_jwt!;
      const none = await behave({ username: "admin", pattern: canonicalPattern(genuine()), jwt: adminProof });
      expect([none.status, none.data]).toEqual([401, { statusCode: 401, error: "Unauthorized", message: "invalid credentials" }]);
      expect((await behave({ username: "alice", pattern: canonicalPattern(genuine()), jwt: adminProof })).status).toBe(401);
    });
  });

  describe("LiveID (authenticate_with_liveid) against a stand-in face service", () => {
    const liveid = (payload: unknown, ip?: string) => authnCall<Login & Record<string, unknown>>(app, "POST", `${base}/authenticate_with_liveid`, payload, ip ? { ip } : {});

    it("the document's body (the selfie string): the flat user object and a proof with amr face", async () => {
      mode = "match";
      const r = await liveid(aliceSelfie);
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(r.signed).toBe(true);
      expect(r.data).toMatchObject({ username: "alice", uid: t.alice.uid, did: "", publicKey: "", pon_data: {} });
      expect(decodeJwt(r.data.proof_of_authentication_jwt!)).toMatchObject({ amr: ["face"], aal: 1 });
      const sent = calls.at(-1)!;
      expect(sent).toMatchObject({ selfie: aliceSelfie, tenant_id: t.tenant.id, community_id: t.community.id });
      expect(sent.uid).toBeUndefined();
    });

    it("a user with a PIN: need_mfa [pin] with user_token, then the PIN through authenticate's step-up", async () => {
      mode = "match";
      const svc = services();
      const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
      await setUserPin(svc, scope, t.admin, "482913");
      const r = await liveid(adminSelfie);
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(r.data.next).toEqual({ step: "need_mfa", allowed_factors: ["pin"], idps: [] });
      expect(r.data.proof_of_authentication_jwt).toBeUndefined();
      const wrong = await login({ username: "admin", pin: "000000" }, r.data.user_token);
      expect(wrong.status).toBe(401);
      const ok = await login({ username: "admin", pin: "482913" }, r.data.user_token);
      expect(ok.status, JSON.stringify(ok.data)).toBe(200);
      expect(decodeJwt(ok.data.proof_of_authentication_jwt!)).toMatchObject({ amr: ["face", "pin"] });
      // The user_token served once.
      expect((await login({ username: "admin", pin: "482913" }, r.data.user_token)).status).toBe(401);
    });

    it("1:1 with username: the named user's uid goes to the service; a verdict for another user is 401", async () => {
      mode = "match";
      expect((await liveid({ selfie: aliceSelfie, username: "alice" })).status).toBe(200);
      expect(calls.at(-1)!.uid).toBe(t.alice.uid);
      expect((await liveid({ selfie: adminSelfie, username: "alice" })).status).toBe(401);
      mode = "other-user";
      expect((await liveid({ selfie: aliceSelfie, username: "alice" })).status).toBe(401);
      mode = "match";
      expect((await liveid({ selfie: aliceSelfie, username: "nobody" })).status).toBe(401);
    });

    for (const m of ["unsigned", "forged", "other-request", "expired", "nomatch"] as const) {
      it(`a verdict that is ${m} is 401`, async () => {
        mode = m;
        const r = await liveid(aliceSelfie);
        mode = "match";
        expect([r.status, r.data.message]).toEqual([401, "invalid credentials"]);
      });
    }

    it("the service failing is a 502; an oversized selfie a 400, an oversized body a 413; not configured is 404", async () => {
      mode = "error";
      expect((await liveid(aliceSelfie)).status).toBe(502);
      mode = "match";
      expect((await liveid("A".repeat(45_100))).status).toBe(400);
      expect((await liveid("A".repeat(70_000))).status).toBe(413);
      expect((await liveid("not base64!")).status).toBe(400);
      expect((await liveid({ selfie: aliceSelfie, extra: 1 })).status).toBe(400);
      const plain = await createTestTenant();
      const other = await authnCaller({ tenantId: plain.tenant.id, level: "app", communities: [plain.community.id] });
      expect((await authnCall(other, "POST", `/tenant/${plain.tenant.id}/community/${plain.community.id}/authenticate_with_liveid`, aliceSelfie)).status).toBe(404);
    });
  });
}

/** The policy's need_mfa and deny on these logins (one tenant with two v2 journeys by IP). */
export function policyOnStepUpSpecs(): void {
  let t: TestTenant;
  let app: AuthnCaller;
  let admin: AuthnCaller;
  let base = "";
  const h = uwlHelpers(() => app, () => base);
  const w = wallet("P-256");
  const DENY_IP = "198.51.100.9";
  const MFA_IP = "192.0.2.9";

  beforeAll(async () => {
    const keys = await faceKeys();
    t = await createTestTenant({ liveid: { url: FACE_URL, publicKeyJwk: keys.jwk, pin: "never" } });
    app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
    admin = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
    base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
    const put = async (name: string, body: Record<string, unknown>) => {
      const r = await authnCall(admin, "PUT", `/v2${base}/authenticationJourney`, { name, enabled: true, ...body });
      expect(r.status, JSON.stringify(r.data)).toBe(200);
    };
    await put("deny-net", { ip: { value: ["198.51.100.0/24"], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } });
    await put("mfa-net", { ip: { value: ["192.0.2.0/24"], operator: "in" }, decision: { action: "mfa_required", authenticationMethods: ["uwl_and_pin"] } });
    const proof = (await h.login({ username: "alice", password: PASSWORD })).data.proof_of_authentication_jwt!;
    expect((await h.register(proof, w)).status).toBe(200);
    const svc = services();
    await setUserPin(svc, { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null }, t.alice, "731942");
    faces.set(btoa("policy-alice"), t.alice.uid);
    setOutboundFetch(standIn(keys));
  });
  afterAll(() => setOutboundFetch(null));

  describe("the authentication policy on UWL, typing and LiveID logins", () => {
    it("deny_access: UWL and LiveID from the denied network are 403", async () => {
      mode = "match";
      const r = await h.uwl(await h.signedBody("alice", w), DENY_IP);
      expect([r.status, (r.data as unknown as { message: string }).message]).toEqual([403, "the authentication policy denied access"]);
      expect((await authnCall(app, "POST", `${base}/authenticate_with_liveid`, btoa("policy-alice"), { ip: DENY_IP })).status).toBe(403);
    });

    it("need_mfa: UWL alone from the MFA network asks for the PIN; the PIN step-up completes uwl_and_pin", async () => {
      const r = await h.uwl(await h.signedBody("alice", w), MFA_IP);
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(r.data.next?.step).toBe("need_mfa");
      expect(r.data.proof_of_authentication_jwt).toBeUndefined();
      const ok = await h.login({ username: "alice", pin: "731942" }, r.data.user_token, MFA_IP);
      expect(ok.status, JSON.stringify(ok.data)).toBe(200);
      expect(decodeJwt(ok.data.proof_of_authentication_jwt!)).toMatchObject({ amr: ["uwl", "pin"], aal: 2 });
    });

    it("typing and LiveID: 403 from the denied network, need_mfa from the MFA network (they do not satisfy uwl_and_pin)", async () => {
      const scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
      const proof = await issueProof(services(), scope, t.alice, { amr: ["pwd"], ip: "203.0.113.7" });
      const person = typist(23);
      const typings = Array.from({ length: 20 }, person);
      expect((await authnCall(app, "POST", `${base}/behavior_auth/enroll`, { jwt: proof, patterns: typings.map(canonicalPattern) })).status).toBe(200);
      const mean = train(typings).mean;
      const behave = (i: number, ip: string) =>
        authnCall<Login>(app, "POST", `${base}/authenticate_with_behavior_auth`, { username: "alice", pattern: canonicalPattern(mean.map((m, j) => (j === 0 ? m + 0.001 * i : m))), jwt: proof }, { ip });
      expect((await behave(1, DENY_IP)).status).toBe(403);
      const mfa = await behave(2, MFA_IP);
      expect([mfa.status, mfa.data.next?.step]).toEqual([200, "need_mfa"]);
      mode = "match";
      const face = await authnCall<Login>(app, "POST", `${base}/authenticate_with_liveid`, btoa("policy-alice"), { ip: MFA_IP });
      expect([face.status, face.data.next?.step]).toEqual([200, "need_mfa"]);
      expect(face.data.proof_of_authentication_jwt).toBeUndefined();
    });

    it("a UWL step-up from a need_mfa user_token of a PIN login completes the method too", async () => {
      const pin = await h.login({ username: "alice", pin: "731942" }, undefined, MFA_IP);
      expect(pin.data.next?.step).toBe("need_mfa");
      const r = await h.uwl({ ...(await h.signedBody("alice", w)), jwt: pin.data.user_token }, MFA_IP);
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(decodeJwt(r.data.proof_of_authentication_jwt!)).toMatchObject({ amr: ["pin", "uwl"] });
    });
  });
}
