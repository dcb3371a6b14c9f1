/**
 * The journeys service against real local D1 (journeys.ts, policy.ts, cache.ts): CRUD, the
 * community boundary, the limit, the isolate cache (a local write is seen at once, a remote one
 * within the TTL, an evaluation never sees a state that never was), idps from routing
 * policies. Runs from journeys.test.ts.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { IDP_RSA_CERT } from "../../../test/helpers/saml-credentials";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { FieldError } from "../field-error";
import { objectId } from "../service-providers/object-id";
import { parseTenantSettings } from "../tenants/settings";
import { setPolicyCacheTtlForTests } from "./cache";
import { createJourney, deleteJourney, fetchJourneys, MAX_JOURNEYS, replaceJourney } from "./journeys";
import { FALLBACK_CATEGORY, type Journey } from "./model";
import { authSchemes, evaluatePolicy } from "./policy";

let svc: Services;
let t: TestTenant;
let other: TestTenant;
const scopeOf = (x: TestTenant): Scope => ({ tenant: x.tenant, settings: parseTenantSettings(x.tenant.settings), community: x.community, ip: "203.0.113.10", userAgent: null });

beforeAll(async () => {
  svc = services();
  t = await createTestTenant();
  other = await createTestTenant();
});
afterEach(() => setPolicyCacheTtlForTests());

async function failure(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AuthError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

/** A fresh community of `t`'s tenant, so each test starts with no journeys. */
async function freshScope(): Promise<Scope> {
  const n = `c-${crypto.randomUUID()}`;
  const community = await svc.tenants.createCommunity({ id: n, tenantId: t.tenant.id, name: n });
  return { ...scopeOf(t), community };
}

const body = (over: Record<string, unknown> = {}) => ({ name: "office", enabled: true, decision: { action: "grant_access", authenticationMethods: ["password"] }, ...over });
const evalQ = { facts: {}, done: [], versions: [1, 2] as const, enforceFallback: true };

describe("journeys CRUD (real D1)", () => {
  it("creates, fetches, replaces (keeping id and createdAt) and deletes; v1 and v2 stay apart", async () => {
    const scope = await freshScope();
    const a = await createJourney(svc, scope, 2, body({ requestingAppId: { value: "adminx", operator: "eq" }, appConfigId: { value: ["c1", "c2"], operator: "in" }, category: "cat-a" }));
    expect(a).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), tenantId: t.tenant.id, communityId: scope.community.id, version: 2, name: "office", enabled: true, category: "cat-a", priority: 0 });
    expect(a).not.toHaveProperty("revision");
    const b = await createJourney(svc, scope, 2, body({ name: "b", requestingAppId: { value: ["other"], operator: "in" } }));
    const v1 = await createJourney(svc, scope, 1, body({ name: "v1" }));

    expect((await fetchJourneys(svc, scope, 2, {})).map((j) => j.id)).toEqual([a.id, b.id]);
    expect((await fetchJourneys(svc, scope, 1, {})).map((j) => j.id)).toEqual([v1.id]);
    expect(await fetchJourneys(svc, scope, 2, { ids: [a.id, v1.id, "nope"] })).toEqual([a]);
    expect((await fetchJourneys(svc, scope, 2, { requestingAppId: "adminx" })).map((j) => j.id)).toEqual([a.id]);
    expect((await fetchJourneys(svc, scope, 2, { requestingAppId: "other" })).map((j) => j.id)).toEqual([b.id]);
    expect((await fetchJourneys(svc, scope, 2, { appConfigIds: ["zz", "c2"] })).map((j) => j.id)).toEqual([a.id]);
    expect((await fetchJourneys(svc, scope, 2, { category: "cat-a" })).map((j) => j.id)).toEqual([a.id]);
    expect(await fetchJourneys(svc, scope, 2, { category: "cat-a", requestingAppId: "other" })).toEqual([]);
    expect(await fetchJourneys(svc, scope, 1, { requestingAppId: "adminx" })).toEqual([]);

    const replaced = await replaceJourney(svc, scope, 2, a.id, body({ name: "renamed", usernames: { value: "u", operator: "in" }, priority: 3 }));
    expect(replaced).toMatchObject({ id: a.id, createdAt: a.createdAt, name: "renamed", priority: 3, category: null, rules: { usernames: { value: ["u"], operator: "in" } } });
    expect(replaced.updatedAt).toBeGreaterThanOrEqual(a.updatedAt);
    // PATCH is a full replacement: the conditions left out are gone.
    expect(replaced.rules.requestingAppId).toBeUndefined();
    expect(await fetchJourneys(svc, scope, 2, { ids: [a.id] })).toEqual([replaced]);

    expect((await failure(replaceJourney(svc, scope, 1, a.id, body()))).code).toBe("not_found");
    expect((await failure(deleteJourney(svc, scope, 1, a.id))).code).toBe("not_found");
    await deleteJourney(svc, scope, 2, a.id);
    expect((await failure(deleteJourney(svc, scope, 2, a.id))).code).toBe("not_found");
    expect((await failure(replaceJourney(svc, scope, 2, a.id, body()))).code).toBe("not_found");
    expect((await fetchJourneys(svc, scope, 2, {})).map((j) => j.id)).toEqual([b.id]);
  });

  it("bad input is a FieldError and changes nothing", async () => {
    const scope = await freshScope();
    const a = await createJourney(svc, scope, 1, body());
    const e = await failure(createJourney(svc, scope, 1, body({ ip: { value: "192.136.456.200-192.136.456.300", operator: "in" } })));
    expect(e).toBeInstanceOf(FieldError);
    expect((e as FieldError).field).toBe("ip.value");
    expect(((await failure(replaceJourney(svc, scope, 1, a.id, body({ groups: { value: ["g"], operator: "gt" } })))) as FieldError).field).toBe("groups.operator");
    expect(await fetchJourneys(svc, scope, 1, {})).toEqual([a]);
  });

  it("another community's journeys are invisible and untouchable", async () => {
    const mine = await createJourney(svc, scope0(), 2, body());
    const theirs = scopeOf(other);
    expect(await fetchJourneys(svc, theirs, 2, { ids: [mine.id] })).toEqual([]);
    expect((await failure(replaceJourney(svc, theirs, 2, mine.id, body()))).code).toBe("not_found");
    expect((await failure(deleteJourney(svc, theirs, 2, mine.id))).code).toBe("not_found");
    expect((await evaluatePolicy(svc, theirs, evalQ)).source).toBe("default");
    expect(await fetchJourneys(svc, scope0(), 2, { ids: [mine.id] })).toEqual([mine]);
  });

  it(`refuses journey ${MAX_JOURNEYS + 1} of a version (400), not the other version's first`, async () => {
    const scope = await freshScope();
    const now = Date.now();
    // Fill the community in one statement (a recursive CTE): 2,000 creates one by one would cost seconds.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO auth_journeys (id, tenant_id, community_id, version, name, enabled, category, body, revision, created_at, updated_at)
       SELECT 'bulk-' || i, ?2, ?3, 1, 'bulk ' || i, 1, NULL, ?4, 0, ?5 + i, ?5 + i FROM n`,
    )
      .bind(MAX_JOURNEYS, t.tenant.id, scope.community.id, JSON.stringify({ rules: { usernames: { value: ["nobody"], operator: "in" } }, decision: { action: "deny_access", authenticationMethods: [] }, priority: 0 }), now)
      .run();
    const e = await failure(createJourney(svc, scope, 1, body()));
    expect(e.code).toBe("invalid_request");
    expect(e.message).toContain(String(MAX_JOURNEYS));
    await createJourney(svc, scope, 2, body());
    // 2,000 compiled journeys, none matching: the v2 one decides.
    expect((await evaluatePolicy(svc, scope, { ...evalQ, facts: { usernames: ["somebody"] } })).source).toBe("journey");
    expect((await evaluatePolicy(svc, scope, { ...evalQ, facts: { usernames: ["Nobody"] } })).step).toBe("deny_access");
  });
});

/** A cache hit involves no I/O: a reader loop must yield, or it starves the writer. */
const tick = () => new Promise((r) => setTimeout(r, 0));

let base: Scope | null = null;
function scope0(): Scope {
  base ??= scopeOf(t);
  return base;
}

describe("the isolate cache", () => {
  it("a write in this isolate is seen at once", async () => {
    const scope = await freshScope();
    expect((await evaluatePolicy(svc, scope, evalQ)).source).toBe("default");
    const j = await createJourney(svc, scope, 2, body({ decision: { action: "mfa_required", authenticationMethods: ["otp"] } }));
    expect(await evaluatePolicy(svc, scope, evalQ)).toMatchObject({ step: "need_mfa", allowedFactors: ["otp"] });
    await replaceJourney(svc, scope, 2, j.id, body({ decision: { action: "deny_access", authenticationMethods: [] } }));
    expect((await evaluatePolicy(svc, scope, evalQ)).step).toBe("deny_access");
    await deleteJourney(svc, scope, 2, j.id);
    expect((await evaluatePolicy(svc, scope, evalQ)).source).toBe("default");
  });

  it("a write elsewhere (straight to D1, no invalidation here) is seen once the entry expires", async () => {
    const TTL = 300;
    setPolicyCacheTtlForTests(TTL);
    const scope = await freshScope();
    const before = Date.now(); // the entry is stored after this
    expect((await evaluatePolicy(svc, scope, evalQ)).source).toBe("default");
    const now = Date.now();
    await svc.journeys.create({ id: crypto.randomUUID(), tenantId: t.tenant.id, communityId: scope.community.id, version: 2, name: "remote", enabled: true, category: null, priority: 0, rules: {}, decision: { action: "deny_access", authenticationMethods: [] }, createdAt: now, updatedAt: now, revision: 0 });
    const asked = Date.now();
    const stale = await evaluatePolicy(svc, scope, evalQ);
    // Still the cached policy, unless a loaded machine took longer than the TTL to get here.
    if (asked - before < TTL) expect(stale.source).toBe("default");
    await new Promise((r) => setTimeout(r, TTL + 50));
    expect((await evaluatePolicy(svc, scope, evalQ)).step).toBe("deny_access");
  });

  it("evaluations racing two replacements see the old set, the state between, or the new set; never a mix that never was", async () => {
    const scope = await freshScope();
    const m = (f: string) => body({ decision: { action: "mfa_required", authenticationMethods: [f] } });
    const a = await createJourney(svc, scope, 2, body({ decision: { action: "grant_access", authenticationMethods: ["password"] } }));
    const b = await createJourney(svc, scope, 2, body({ decision: { action: "grant_access", authenticationMethods: ["fido"] } }));
    const key = (s: { factors: string[]; result: string }[]) => s.map((x) => `${x.result}:${x.factors.join("+")}`).join(" ");
    const OLD = "grant_access:password grant_access:fido";
    const BETWEEN = "mfa_required:otp grant_access:fido";
    const NEW = "mfa_required:otp mfa_required:pin";
    const seen = new Set<string>();
    let writing = true;
    const readers = Array.from({ length: 4 }, async () => {
      while (writing) {
        seen.add(key(await authSchemes(svc, scope, { facts: {}, enforceFallback: false })));
        await tick();
      }
    });
    await replaceJourney(svc, scope, 2, a.id, m("otp"));
    await replaceJourney(svc, scope, 2, b.id, m("pin"));
    writing = false;
    await Promise.all(readers);
    seen.add(key(await authSchemes(svc, scope, { facts: {}, enforceFallback: false })));
    for (const s of seen) expect([OLD, BETWEEN, NEW]).toContain(s);
    expect(seen.has(NEW)).toBe(true);
  });

  it("one replacement is seen whole: the old rule's username with the new rule's IP never matches", async () => {
    const scope = await freshScope();
    const old = { usernames: { value: ["u1"], operator: "in" }, ip: { value: "10.0.0.0/8", operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } };
    const neu = { usernames: { value: ["u2"], operator: "in" }, ip: { value: "192.168.0.0/16", operator: "in" }, decision: { action: "deny_access", authenticationMethods: [] } };
    const j = await createJourney(svc, scope, 2, body(old));
    const mixed = { ...evalQ, facts: { usernames: ["u1"], ip: "192.168.1.1" } };
    let writing = true;
    const steps = new Set<string>();
    const readers = Array.from({ length: 4 }, async () => {
      while (writing) {
        steps.add((await evaluatePolicy(svc, scope, mixed)).step);
        await tick();
      }
    });
    for (let i = 0; i < 3; i++) {
      await replaceJourney(svc, scope, 2, j.id, body(neu));
      await replaceJourney(svc, scope, 2, j.id, body(old));
    }
    writing = false;
    await Promise.all(readers);
    expect([...steps]).toEqual(["grant_access"]);
  });
});

describe("idps for idp_redirect", () => {
  async function addIdp(scope: Scope, routingPolicy: Record<string, unknown> | undefined, n: number): Promise<string> {
    const id = objectId();
    const idpEntityId = `https://idp${n}.example/${id}`;
    const connection = { idpName: `IdP ${n}`, idpEntityId, samlLoginUrl: "https://idp.example/sso", samlLogoutUrl: "https://idp.example/slo", ssoBinding: "HTTP-Redirect", sloBinding: "HTTP-POST", forceAuthn: false, spEntityId: "https://sp.example", spSigningCertificate: "", idpSigningCertificate: IDP_RSA_CERT };
    const now = Date.now() + n;
    await svc.identity.externalIdps.create({ id, tenantId: scope.tenant.id, communityId: scope.community.id, idpEntityId, body: { connection, ...(routingPolicy ? { routingPolicy } : {}) }, sealedSecrets: null, version: 0, createdAt: now, updatedAt: now });
    return id;
  }

  it("lists the external IdPs whose routingPolicy matches the facts, in creation order, only for idp_redirect", async () => {
    const scope = await freshScope();
    const byGroup = await addIdp(scope, { enabled: true, groups: { value: ["staff"], operator: "overlap" }, usersInIdpStore: true }, 1);
    const byUser = await addIdp(scope, { enabled: true, usernames: { value: ["Alice"], operator: "overlap" }, usersInIdpStore: true }, 2);
    await addIdp(scope, { enabled: false, usersInIdpStore: true }, 3);
    await addIdp(scope, undefined, 4);
    const everyone = await addIdp(scope, { enabled: true, usersInIdpStore: false }, 5);
    const j = await createJourney(svc, scope, 2, body({ decision: { action: "mfa_required", authenticationMethods: ["password_and_otp", "idp_redirect"] } }));

    const alice = await evaluatePolicy(svc, scope, { ...evalQ, facts: { usernames: ["alice"], groups: ["staff"] } });
    expect(alice).toMatchObject({ step: "need_mfa", allowedFactors: ["password", "otp", "idp_redirect"], idps: [byGroup, byUser, everyone], journey: { id: j.id } });
    expect((await evaluatePolicy(svc, scope, { ...evalQ, facts: { usernames: ["bob"] } })).idps).toEqual([everyone]);
    // Done with a federated login: granted, no idps.
    expect(await evaluatePolicy(svc, scope, { ...evalQ, done: ["idp_redirect"] })).toMatchObject({ step: "grant_access", idps: [] });
    // Without idp_redirect among the allowed factors there are no idps.
    await replaceJourney(svc, scope, 2, j.id, body({ decision: { action: "mfa_required", authenticationMethods: ["otp"] } }));
    expect((await evaluatePolicy(svc, scope, { ...evalQ, facts: { usernames: ["alice"] } })).idps).toEqual([]);
  });

  it("v2 auth schemes from the service: only v2 journeys, the fallback when enforced", async () => {
    const scope = await freshScope();
    await createJourney(svc, scope, 1, body({ decision: { action: "deny_access", authenticationMethods: [] } }));
    const fb: Journey = await createJourney(svc, scope, 2, body({ category: FALLBACK_CATEGORY, decision: { action: "mfa_required", authenticationMethods: ["fido"] } }));
    expect(await authSchemes(svc, scope, { facts: {}, enforceFallback: false })).toEqual([{ factors: ["password"], authenticationJourneyV2Id: "default", result: "grant_access" }]);
    expect(await authSchemes(svc, scope, { facts: {}, enforceFallback: true })).toEqual([{ factors: ["fido"], authenticationJourneyV2Id: fb.id, result: "mfa_required" }]);
    // v1 evaluation sees its own deny, and the v2 fallback only when nothing of v1 matches.
    expect((await evaluatePolicy(svc, scope, { ...evalQ, versions: [1] })).step).toBe("deny_access");
    expect((await evaluatePolicy(svc, scope, { ...evalQ, fallbackOnly: true, versions: [2] })).journey?.id).toBe(fb.id);
  });
});
