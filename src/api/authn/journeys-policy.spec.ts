import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller, type AuthnResult } from "../../../test/helpers/authn-caller";
import { IDP_RSA_CERT } from "../../../test/helpers/saml-credentials";
import { issueProof, verifyProof } from "../../core/authn/proofs";
import { parseTenantSettings } from "../../core/tenants/settings";
import { verifyDataSignature } from "../../crypto/envelope";

/**
 * Auth Policy evaluate (v1), Auth Policy V2 evaluate and auth_schemes (seed 004, issue 10),
 * run by journeys.test.ts. One tenant with a small, known policy:
 *   v2 office:    ip nin 10.0.0.0/8, 2001:db8::/32        -> mfa_required [password_and_otp, fido]
 *   v2 blocked:   groups overlap [blocked]                  -> deny_access
 *   v2 fed:       groups overlap [contractors]              -> mfa_required [idp_redirect]
 *   v2 off:       (disabled, no rules)                      -> deny_access
 *   v2 fallback:  category adaptive_auth_fallback_policy_v2 -> mfa_required [otp]
 *   v1 v1deny:    usernames in [v1user]                     -> deny_access
 */
interface Decision {
  next: { step: string; allowed_factors: string[]; idps: string[] };
  proof_of_authentication_jwt?: string;
  signature_token?: string;
}
interface Scheme {
  factors: string[];
  authenticationJourneyV2Id: string;
  result: string;
}

export function policySpecs(): void {
  let p: TestTenant;
  let other: TestTenant;
  let admin: AuthnCaller;
  let app: AuthnCaller;
  let otherApp: AuthnCaller;
  let base: string;
  const ids: Record<string, string> = {};
  let idpId = "";
  const OUTSIDE = "203.0.113.9";
  const INSIDE = "10.0.0.7";
  const scopeOf = (x: TestTenant) => ({ tenant: x.tenant, settings: parseTenantSettings(x.tenant.settings), community: x.community, ip: "203.0.113.7", userAgent: null });
  const proofFor = (x: TestTenant, amr: string[]) => issueProof(services(), scopeOf(x), x.alice, { amr, ip: "203.0.113.7" });

  const put = async (version: 1 | 2, name: string, body: Record<string, unknown>) => {
    const r = await authnCall<{ id: string }>(admin, "PUT", `${version === 2 ? "/v2" : ""}${base}/authenticationJourney`, { name, enabled: true, ...body });
    expect(r.status, JSON.stringify(r.data)).toBe(200);
    ids[name] = r.data.id;
  };

  beforeAll(async () => {
    p = await createTestTenant();
    other = await createTestTenant();
    admin = await authnCaller({ tenantId: p.tenant.id, level: "service", communities: [p.community.id] });
    app = await authnCaller({ tenantId: p.tenant.id, level: "app", communities: [p.community.id] });
    otherApp = await authnCaller({ tenantId: other.tenant.id, level: "app", communities: [other.community.id] });
    base = `/tenant/${p.tenant.id}/community/${p.community.id}`;
    await put(2, "office", { ip: { value: ["10.0.0.0/8", "2001:db8::/32"], operator: "nin" }, decision: { action: "mfa_required", authenticationMethods: ["password_and_otp", "fido"] } });
    await put(2, "blocked", { groups: { value: ["blocked"], operator: "overlap" }, decision: { action: "deny_access", authenticationMethods: [] } });
    await put(2, "fed", { groups: { value: ["contractors"], operator: "overlap" }, decision: { action: "mfa_required", authenticationMethods: ["idp_redirect"] } });
    await put(2, "off", { enabled: false, decision: { action: "deny_access", authenticationMethods: [] } });
    await put(2, "fallback", { category: "adaptive_auth_fallback_policy_v2", decision: { action: "mfa_required", authenticationMethods: ["otp"] } });
    await put(1, "v1deny", { usernames: { value: ["v1user"], operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } });
    const idp = await authnCall<{ _id: string }>(admin, "PUT", `${base}/external_idp`, {
      connection: {
        idpName: "Contractors IdP",
        idpEntityId: `https://idp.contractors.example/${p.tenant.id}`,
        samlLoginUrl: "https://idp.contractors.example/sso",
        samlLogoutUrl: "https://idp.contractors.example/slo",
        ssoBinding: "HTTP-Redirect",
        sloBinding: "HTTP-Redirect",
        forceAuthn: false,
        spEntityId: "https://sp.example",
        idpSigningCertificate: IDP_RSA_CERT,
      },
      routingPolicy: { enabled: true, groups: { value: ["contractors"], operator: "overlap" } },
    });
    expect(idp.status, JSON.stringify(idp.data)).toBe(200);
    idpId = idp.data._id;
  });

  /** A plain call (the document's form); checks the answer's signature_token over the rest. */
  async function evaluate(path: "v1" | "v2", payload: unknown, caller = app): Promise<AuthnResult<Decision>> {
    const r = await authnCall<Decision>(caller, "POST", `${path === "v2" ? "/v2" : ""}${base}/auth_policy/evaluate`, payload, { plain: true });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBeLessThan(500);
    if (r.status === 200) {
      const { signature_token, ...rest } = r.body;
      expect(typeof signature_token).toBe("string");
      const curve = (await services().authn.keyring.serviceKey()).curve;
      expect(verifyDataSignature(JSON.stringify(rest), signature_token as string, caller.servicePublicKey, curve)).toBe(true);
    }
    return r;
  }
  const next = async (path: "v1" | "v2", payload: unknown) => {
    const r = await evaluate(path, payload);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.data;
  };
  const schemes = async (payload: unknown) => {
    const r = await authnCall<{ schemes: Scheme[] }>(app, "POST", `/v2${base}/auth_policy/auth_schemes`, payload, { plain: true });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.data.schemes;
  };

  describe("Auth Policy V2: evaluate", () => {
    it("the document's answer shape, signed; need_mfa lists the missing factors of each alternative", async () => {
      const d = await next("v2", { facts: { IP: OUTSIDE, username: "userA", authenticationMethods: ["password"] }, enforceFallbackPolicy: true });
      expect(d).toEqual({ next: { step: "need_mfa", allowed_factors: ["otp", "fido"], idps: [] }, signature_token: expect.any(String) });
      // Done methods that complete one alternative: granted, but no proof without a jwt.
      const g = await next("v2", { facts: { IP: OUTSIDE, authenticationMethods: ["password", "otp"] }, enforceFallbackPolicy: true });
      expect(g.next).toEqual({ step: "grant_access", allowed_factors: [], idps: [] });
      expect(g.proof_of_authentication_jwt).toBeUndefined();
      // IPv6 and the lower-case `ip` spelling; the office range covers 2001:db8::/32.
      expect((await next("v2", { facts: { ip: "2001:db8::1" } })).next.step).toBe("grant_access");
      expect((await next("v2", { facts: { ip: "2001:db9::1" } })).next.step).toBe("need_mfa");
      // A malformed fact IP is unknown: `nin` holds for it (the safe side).
      expect((await next("v2", { facts: { IP: "999.1.1.1" } })).next.step).toBe("need_mfa");
    });

    it("deny beats mfa; a disabled journey never matches; idp_redirect names the routed external IdPs", async () => {
      expect((await next("v2", { facts: { IP: OUTSIDE, groups: ["blocked"] } })).next).toEqual({ step: "deny_access", allowed_factors: [], idps: [] });
      expect((await next("v2", { facts: { IP: INSIDE, groups: ["contractors"] } })).next).toEqual({ step: "need_mfa", allowed_factors: ["idp_redirect"], idps: [idpId] });
    });

    it("no match: the default (grant_access) unless the fallback is enforced; type fallback asks only the fallback", async () => {
      expect((await next("v2", { facts: { IP: INSIDE } })).next.step).toBe("grant_access");
      expect((await next("v2", { facts: { IP: INSIDE } , enforceFallbackPolicy: false })).next.step).toBe("grant_access");
      expect((await next("v2", { facts: { IP: INSIDE }, enforceFallbackPolicy: true })).next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
      expect((await next("v2", { facts: { IP: OUTSIDE, groups: ["blocked"] }, enforceFallbackPolicy: true, type: "fallback" })).next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
      // No facts at all: the IP is unknown, and `ip nin` holds for an unknown IP (the safe side).
      expect((await next("v2", {})).next).toEqual({ step: "need_mfa", allowed_factors: ["password", "otp", "fido"], idps: [] });
      expect((await authnCall(app, "POST", `/v2${base}/auth_policy/evaluate`, undefined, { headers: { "content-type": "" } })).status).toBe(200);
    });

    it("a jwt: its user and amr are the facts (the caller's methods are not trusted); granted answers carry a fresh proof", async () => {
      const pwd = await proofFor(p, ["pwd"]);
      const d = await next("v2", { facts: { IP: OUTSIDE, authenticationMethods: ["password", "otp"] }, jwt: pwd });
      expect(d.next).toEqual({ step: "need_mfa", allowed_factors: ["otp", "fido"], idps: [] });
      expect(d.proof_of_authentication_jwt).toBeUndefined();

      const both = await proofFor(p, ["pwd", "otp"]);
      const g = await next("v2", { facts: { IP: OUTSIDE, username: "alice" }, jwt: both });
      expect(g.next.step).toBe("grant_access");
      const claims = await verifyProof(services(), scopeOf(p), g.proof_of_authentication_jwt!);
      expect(claims).toMatchObject({ sub: p.alice.uid, amr: ["pwd", "otp"] });
      expect(g.proof_of_authentication_jwt).not.toBe(both);

      // The user's own groups count when the caller gives none.
      await services().users.update(p.tenant.id, p.alice.uid, { groups: ["blocked"] });
      expect((await next("v2", { facts: { IP: INSIDE }, jwt: both })).next.step).toBe("deny_access");
      await services().users.update(p.tenant.id, p.alice.uid, { groups: [] });

      // Someone else's username with this user's proof.
      const r = await evaluate("v2", { facts: { username: "bob" }, jwt: both });
      expect(r.status).toBe(400);
      expect((r.data as unknown as { message: string }).message).toMatch(/username/);
      // Empty or null: no jwt.
      expect((await next("v2", { facts: { IP: INSIDE }, jwt: "" })).proof_of_authentication_jwt).toBeUndefined();
      expect((await next("v2", { facts: { IP: INSIDE }, jwt: null })).proof_of_authentication_jwt).toBeUndefined();
    });

    it("a forged, alg:none, other community's or revoked jwt is 401", async () => {
      const good = await proofFor(p, ["pwd", "otp"]);
      const [h, c, s] = good.split(".");
      const flipped = `${h}.${c}.${s!.slice(0, -2)}${s!.endsWith("AA") ? "BB" : "AA"}`;
      const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const none = `${b64({ alg: "none", typ: "proof+jwt" })}.${c}.`;
      const noneClaims = `${b64({ alg: "none" })}.${b64({ ...decodeJwt(good), amr: ["pwd", "otp", "fido"] })}.`;
      const theirs = await proofFor(other, ["pwd", "otp"]);
      const revoked = await proofFor(p, ["pwd", "otp"]);
      const rc = decodeJwt(revoked);
      await services().authority.revokeFamily(p.tenant.id, rc.sub!, rc.sid as string, "test");
      // A pending login (`user_token` of an authenticate that needs another factor) is no proof.
      const pending = await authnCall<{ user_token?: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, { ip: OUTSIDE });
      expect(pending.status).toBe(200);
      expect(typeof pending.data.user_token).toBe("string");
      for (const [what, jwt] of [["forged", flipped], ["alg none", none], ["alg none, claims changed", noneClaims], ["other community", theirs], ["revoked", revoked], ["garbage", "a.b.c"], ["pending login", pending.data.user_token!]] as const) {
        const r = await evaluate("v2", { facts: { IP: OUTSIDE }, jwt });
        expect(r.status, what).toBe(401);
        expect(r.body.proof_of_authentication_jwt, what).toBeUndefined();
      }
    });

    it("hostile payloads are 400 naming the field (or 413), never a 5xx", async () => {
      const cases: [unknown, RegExp][] = [
        [{ facts: [] }, /facts/],
        [{ facts: "x" }, /facts/],
        [{ facts: { IP: 7 } }, /facts\.IP/],
        [{ facts: { groups: [1, 2] } }, /facts\.groups/],
        [{ facts: { mobileLocation: "near" } }, /facts\.mobileLocation/],
        [{ facts: { authenticationMethods: ["carrier_pigeon"] } }, /authenticationMethods/],
        [{ facts: {}, enforceFallbackPolicy: "yes" }, /enforceFallbackPolicy/],
        [{ facts: {}, jwt: 5 }, /jwt/],
        [{ facts: {}, type: "primary" }, /type/],
        [{ facts: {}, type: 1 }, /type/],
      ];
      for (const [payload, field] of cases) {
        const r = await evaluate("v2", payload);
        expect(r.status, JSON.stringify(payload)).toBe(400);
        expect(r.body.message, JSON.stringify(payload)).toMatch(field);
      }
      for (const rawBody of ["not json", "[]", "null", "7", '{"data": "junk"}']) {
        const r = await authnCall(app, "POST", `/v2${base}/auth_policy/evaluate`, undefined, { rawBody });
        expect(r.status, rawBody).toBeGreaterThanOrEqual(400);
        expect(r.status, rawBody).toBeLessThan(500);
      }
      const huge = { facts: { groups: Array.from({ length: 3000 }, (_, i) => `group-${i}-${"x".repeat(30)}`) } };
      expect((await evaluate("v2", huge)).status).toBe(413);
    });

    it("any license of the community; the envelope is answered enveloped and signed", async () => {
      expect((await evaluate("v2", { facts: {} }, admin)).status).toBe(200);
      expect((await evaluate("v2", { facts: {} }, otherApp)).status).toBe(403);
      const r = await authnCall<Decision>(app, "POST", `/v2${base}/auth_policy/evaluate`, { facts: { IP: OUTSIDE } });
      expect(r.status).toBe(200);
      expect(r.signed).toBe(true);
      expect(r.data.next.step).toBe("need_mfa");
    });
  });

  describe("Auth Policy (v1): evaluate", () => {
    it("v1 journeys decide; v2 journeys do not, except the v2 fallback; never a proof", async () => {
      expect((await next("v1", { facts: { username: "V1User", IP: INSIDE } })).next.step).toBe("deny_access");
      // v2's `blocked` is not a v1 journey.
      expect((await next("v1", { facts: { groups: ["blocked"], IP: OUTSIDE } })).next.step).toBe("grant_access");
      expect((await next("v1", { facts: { groups: ["blocked"] }, enforceFallbackPolicy: true })).next).toEqual({ step: "need_mfa", allowed_factors: ["otp"], idps: [] });
      // v1 has no jwt: one sent is ignored, and no proof is minted from the caller's word.
      const d = await next("v1", { facts: { authenticationMethods: ["otp"] }, enforceFallbackPolicy: true, jwt: await proofFor(p, ["pwd", "otp"]) });
      expect(d.next.step).toBe("grant_access");
      expect(d.proof_of_authentication_jwt).toBeUndefined();
      const bad = await evaluate("v1", { facts: { IP: ["10.0.0.1", 7] } });
      expect(bad.status).toBe(400);
    });
  });

  describe("Auth Policy V2: auth_schemes", () => {
    it("one scheme per matching journey in precedence order; else the fallback when enforced; else the default", async () => {
      expect(await schemes({ facts: { IP: OUTSIDE, groups: ["blocked"] } })).toEqual([
        { factors: [], authenticationJourneyV2Id: ids.blocked, result: "deny_access" },
        { factors: ["password", "otp", "fido"], authenticationJourneyV2Id: ids.office, result: "mfa_required" },
      ]);
      expect(await schemes({ facts: { IP: INSIDE }, enforceFallbackPolicy: true })).toEqual([{ factors: ["otp"], authenticationJourneyV2Id: ids.fallback, result: "mfa_required" }]);
      expect(await schemes({ facts: { IP: INSIDE } })).toEqual([{ factors: ["password"], authenticationJourneyV2Id: "default", result: "grant_access" }]);
      const r = await authnCall<{ message: string }>(app, "POST", `/v2${base}/auth_policy/auth_schemes`, { facts: { IP: 1 } }, { plain: true });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/facts\.IP/);
      expect((await authnCall(otherApp, "POST", `/v2${base}/auth_policy/auth_schemes`, { facts: {} }, { plain: true })).status).toBe(403);
    });
  });
}
