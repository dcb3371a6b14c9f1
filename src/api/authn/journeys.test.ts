import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller, type AuthnResult } from "../../../test/helpers/authn-caller";
import { call } from "../../../test/helpers/http";
import { policySpecs } from "./journeys-policy.spec";

/**
 * The 11 operations of issue 10 (seed 004): Authentication Journey v1 and v2 (fetch, PUT,
 * PATCH, DELETE), Auth Policy evaluate (v1), Auth Policy V2 evaluate and auth_schemes. Success,
 * each documented error, and hostile input: none may answer a 5xx or change what is stored.
 */
let t: TestTenant;
let other: TestTenant;
let svcCaller: AuthnCaller;
let appCaller: AuthnCaller;
let otherCaller: AuthnCaller;
let v1: string;
let v2: string;

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  svcCaller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  appCaller = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  otherCaller = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
  v1 = `/tenant/${t.tenant.id}/community/${t.community.id}`;
  v2 = `/v2${v1}`;
});

/** No 5xx, ever. */
function sane<T>(r: AuthnResult<T>, what: string): AuthnResult<T> {
  expect(r.status, `${what}: ${JSON.stringify(r.body).slice(0, 300)}`).toBeLessThan(500);
  return r;
}

/** The document's PUT example, with an IP range that is valid IPv4. */
const docJourney = (over: Record<string, unknown> = {}) => ({
  name: "auth-journey-1",
  enabled: true,
  groups: { value: ["group a", "group b"], operator: "overlap" },
  deviceIds: { value: ["device-id-1", "device-id-2"], operator: "overlap" },
  applications: { value: ["salesforce", "gsuite"], operator: "in" },
  usernames: { value: ["username_1", "username_2"], operator: "in" },
  ip: { value: "192.136.45.200-192.136.45.230", operator: "in" },
  domain: { value: ["google.com", "1kosmos.com"], operator: "in" },
  decision: { action: "mfa_required", authenticationMethods: ["password_and_otp", "fido"] },
  machineNames: { value: ["qa-win2016-0"], operator: "in" },
  machineIds: { value: ["B324123"], operator: "in" },
  machineUsers: { value: ["user@qa-win2016-0"], operator: "in" },
  mobileLocation: { value: 100, operator: "gt" },
  ...over,
});

type J = Record<string, unknown> & { id: string };

describe("Authentication Journey (v1)", () => {
  it("PUT answers the journey; fetch answers an array in both spellings; PATCH replaces everything; DELETE is 204 then 404", async () => {
    const created = sane(await authnCall<J>(svcCaller, "PUT", `${v1}/authenticationJourney`, docJourney()), "PUT");
    expect(created.status).toBe(200);
    const { decision, ...rest } = docJourney();
    expect(created.data).toMatchObject({ ...rest, decision, id: expect.any(String), tenantId: t.tenant.id, communityId: t.community.id, priority: 0 });
    expect(created.data.category).toBeUndefined();
    const id = created.data.id;

    const all = await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, {});
    expect(all.status).toBe(200);
    const fetched = all.data.find((j) => j.id === id)!;
    // Both spellings the document shows: PUT's and the fetch example's.
    expect(fetched).toMatchObject({ ...created.data, journeyName: "auth-journey-1", deviceId: created.data.deviceIds, application: created.data.applications, username: created.data.usernames });
    expect((await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, { ids: [id, "nope"] })).data.map((j) => j.id)).toEqual([id]);
    // No body at all (and no content type): every journey.
    expect((await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, undefined, { headers: { "content-type": "" } })).status).toBe(200);

    // PATCH is a full replacement: what is left out is gone; id stays; journeyName is accepted.
    const patched = await authnCall<J>(svcCaller, "PATCH", `${v1}/authenticationJourney/${id}`, {
      journeyName: "renamed",
      enabled: false,
      groups: { value: "solo", operator: "in" },
      decision: { action: "deny_access", authenticationMethods: [] },
    });
    expect(patched.status).toBe(200);
    expect(patched.data).toMatchObject({ id, name: "renamed", enabled: false, groups: { value: ["solo"], operator: expect.any(String) } });
    expect(patched.data.deviceIds).toBeUndefined();
    expect(patched.data.ip).toBeUndefined();

    expect((await authnCall(svcCaller, "DELETE", `${v1}/authenticationJourney/${id}`, undefined)).status).toBe(204);
    expect((await authnCall(svcCaller, "DELETE", `${v1}/authenticationJourney/${id}`, undefined)).status).toBe(404);
    expect((await authnCall(svcCaller, "PATCH", `${v1}/authenticationJourney/${id}`, docJourney())).status).toBe(404);
    expect((await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, { ids: [id] })).data).toEqual([]);
  });

  it("refuses bad journeys with a 400 naming the field, and stores nothing", async () => {
    const before = (await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, {})).data.length;
    const cases: [Record<string, unknown>, RegExp][] = [
      // The document's own example range is not IPv4 (456 > 255).
      [docJourney({ ip: { value: "192.136.456.200-192.136.456.300", operator: "in" } }), /ip\.value/],
      [docJourney({ ip: { value: "10.0.0.9-10.0.0.1", operator: "in" } }), /ip\.value/],
      [docJourney({ ip: { value: "10.0.0.0/33", operator: "in" } }), /ip\.value/],
      [docJourney({ ip: { value: "10.0.0.1-::1", operator: "in" } }), /ip\.value/],
      [docJourney({ groups: { value: ["a"], operator: "eq" } }), /groups\.operator/],
      [docJourney({ mobileLocation: { value: "far", operator: "gt" } }), /mobileLocation/],
      [docJourney({ requestingAppId: { value: "adminx", operator: "eq" } }), /requestingAppId/],
      [docJourney({ category: "adaptive_auth_fallback_policy_v2" }), /category/],
      [docJourney({ colour: { value: ["red"], operator: "in" } }), /colour/],
      [docJourney({ name: 7 }), /name/],
      [docJourney({ name: "" }), /name/],
      [docJourney({ name: "x".repeat(257) }), /name/],
      [docJourney({ enabled: "yes" }), /enabled/],
      [docJourney({ decision: undefined }), /decision/],
      [docJourney({ decision: { action: "maybe", authenticationMethods: [] } }), /decision/],
      [docJourney({ decision: { action: "mfa_required", authenticationMethods: [] } }), /decision/],
      [docJourney({ decision: { action: "mfa_required", authenticationMethods: ["carrier_pigeon"] } }), /decision/],
      [docJourney({ groups: { value: Array.from({ length: 501 }, (_, i) => `g${i}`), operator: "in" } }), /groups/],
      [docJourney({ groups: { value: ["x".repeat(257)], operator: "in" } }), /groups/],
    ];
    for (const [payload, field] of cases) {
      const r = sane(await authnCall<{ message: string }>(svcCaller, "PUT", `${v1}/authenticationJourney`, payload), JSON.stringify(payload).slice(0, 120));
      expect(r.status, JSON.stringify(payload).slice(0, 200)).toBe(400);
      expect(r.data.message, JSON.stringify(payload).slice(0, 200)).toMatch(field);
    }
    expect((await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, {})).data.length).toBe(before);
  });

  it("malformed bodies, wrong types and oversized bodies are 4xx", async () => {
    const path = `${v1}/authenticationJourney`;
    for (const rawBody of ["not json", "[]", "null", '{"data": 5}', '{"data": "not-a-ciphertext"}', '{"data": null}']) {
      const r = sane(await authnCall(svcCaller, "PUT", path, undefined, { rawBody }), rawBody);
      expect(r.status, rawBody).toBeGreaterThanOrEqual(400);
    }
    for (const payload of [[], "journey", 7, null]) {
      expect(sane(await authnCall(svcCaller, "PUT", path, payload), String(payload)).status).toBe(400);
    }
    expect(sane(await authnCall(svcCaller, "POST", `${path}/fetch`, { ids: "x" }), "ids").status).toBe(400);
    const huge = docJourney({ groups: { value: Array.from({ length: 400 }, (_, i) => `${i}-${"g".repeat(250)}`), operator: "in" } });
    expect(sane(await authnCall(svcCaller, "PUT", path, huge), "huge").status).toBe(413);
  });

  it("licenses: system/service only, for this community; another tenant's journeys are invisible and untouchable", async () => {
    expect((await authnCall(appCaller, "PUT", `${v1}/authenticationJourney`, docJourney())).status).toBe(403);
    expect((await authnCall(appCaller, "POST", `${v1}/authenticationJourney/fetch`, {})).status).toBe(403);
    expect((await authnCall(otherCaller, "POST", `${v1}/authenticationJourney/fetch`, {})).status).toBe(403);
    const theirs = await authnCall<J>(otherCaller, "PUT", `/tenant/${other.tenant.id}/community/${other.community.id}/authenticationJourney`, docJourney({ name: "theirs" }));
    expect(theirs.status).toBe(200);
    expect((await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, { ids: [theirs.data.id] })).data).toEqual([]);
    expect((await authnCall(svcCaller, "PATCH", `${v1}/authenticationJourney/${theirs.data.id}`, docJourney())).status).toBe(404);
    expect((await authnCall(svcCaller, "DELETE", `${v1}/authenticationJourney/${theirs.data.id}`, undefined)).status).toBe(404);
    const still = await authnCall<J[]>(otherCaller, "POST", `/tenant/${other.tenant.id}/community/${other.community.id}/authenticationJourney/fetch`, { ids: [theirs.data.id] });
    expect(still.data[0]).toMatchObject({ name: "theirs", enabled: true });
  });
});

describe("Authentication Journey V2", () => {
  it("keeps category and the app-id fields; fetch filters by ids, requestingAppId, appConfigIds and category; v1 and v2 stay apart", async () => {
    const a = await authnCall<J>(svcCaller, "PUT", `${v2}/authenticationJourney`, {
      ...docJourney({ name: "v2-a", mobileLocation: undefined }),
      category: "adaptive_auth_fallback_policy_v2",
      requestingAppId: { value: "adminx", operator: "eq" },
      relyingAppId: { value: "gsuite", operator: "eq" },
      appConfigId: { value: ["124356656", "777"], operator: "in" },
    });
    expect(a.status).toBe(200);
    expect(a.data).toMatchObject({ name: "v2-a", category: "adaptive_auth_fallback_policy_v2", requestingAppId: { value: "adminx", operator: "eq" }, appConfigId: { value: ["124356656", "777"], operator: "in" } });
    const b = await authnCall<J>(svcCaller, "PUT", `${v2}/authenticationJourney`, { name: "v2-b", enabled: true, requestingAppId: { value: "other", operator: "eq" }, decision: { action: "grant_access", authenticationMethods: ["password"] } });
    expect(b.status).toBe(200);
    const ids = (r: AuthnResult<J[]>) => r.data.map((j) => j.id).sort();
    const fetch = (p: unknown) => authnCall<J[]>(svcCaller, "POST", `${v2}/authenticationJourney/fetch`, p);
    expect(ids(await fetch({ ids: [a.data.id, b.data.id] }))).toEqual([a.data.id, b.data.id].sort());
    expect(ids(await fetch({ requestingAppId: "adminx" }))).toEqual([a.data.id]);
    expect(ids(await fetch({ appConfigIds: ["777", "nope"] }))).toEqual([a.data.id]);
    expect(ids(await fetch({ category: "adaptive_auth_fallback_policy_v2" }))).toEqual([a.data.id]);
    expect(ids(await fetch({ ids: [b.data.id], requestingAppId: "adminx" }))).toEqual([]);
    expect(ids(await fetch({ requestingAppId: "adminx", appConfigIds: ["124356656"], category: "adaptive_auth_fallback_policy_v2" }))).toEqual([a.data.id]);
    // The v1 routes neither see nor change a v2 journey.
    expect((await authnCall<J[]>(svcCaller, "POST", `${v1}/authenticationJourney/fetch`, { ids: [a.data.id] })).data).toEqual([]);
    expect((await authnCall(svcCaller, "PATCH", `${v1}/authenticationJourney/${a.data.id}`, docJourney())).status).toBe(404);
    expect((await authnCall(svcCaller, "DELETE", `${v1}/authenticationJourney/${a.data.id}`, undefined)).status).toBe(404);

    const patched = await authnCall<J>(svcCaller, "PATCH", `${v2}/authenticationJourney/${b.data.id}`, { name: "v2-b2", enabled: true, decision: { action: "deny_access", authenticationMethods: [] } });
    expect(patched.data).toMatchObject({ id: b.data.id, name: "v2-b2" });
    expect(patched.data.requestingAppId).toBeUndefined();
    for (const id of [a.data.id, b.data.id]) expect((await authnCall(svcCaller, "DELETE", `${v2}/authenticationJourney/${id}`, undefined)).status).toBe(204);
  });

  it("hostile v2 payloads are 400 naming the field; another community's ids are 404", async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...docJourney(), requestingAppId: { value: ["a"], operator: "eq" } }, /requestingAppId/],
      [{ ...docJourney(), appConfigId: { value: 5, operator: "eq" } }, /appConfigId/],
      [{ ...docJourney(), category: 7 }, /category/],
      [{ ...docJourney(), ip: { value: ["10.0.0.0/8", "fe80::/129"], operator: "in" } }, /ip\.value/],
      [{ ...docJourney(), ip: { value: "10.0.0.1", operator: "gt" } }, /ip\.operator/],
    ];
    for (const [payload, field] of cases) {
      const r = sane(await authnCall<{ message: string }>(svcCaller, "PUT", `${v2}/authenticationJourney`, payload), JSON.stringify(payload).slice(0, 100));
      expect(r.status).toBe(400);
      expect(r.data.message).toMatch(field);
    }
    expect(sane(await authnCall(svcCaller, "POST", `${v2}/authenticationJourney/fetch`, { appConfigIds: "x" }), "appConfigIds").status).toBe(400);
    const theirs = await authnCall<J>(otherCaller, "PUT", `/v2/tenant/${other.tenant.id}/community/${other.community.id}/authenticationJourney`, docJourney({ name: "theirs-v2" }));
    expect(theirs.status).toBe(200);
    expect((await authnCall(svcCaller, "PATCH", `${v2}/authenticationJourney/${theirs.data.id}`, docJourney())).status).toBe(404);
    expect((await authnCall(svcCaller, "DELETE", `${v2}/authenticationJourney/${theirs.data.id}`, undefined)).status).toBe(404);
    expect((await authnCall(svcCaller, "DELETE", `${v2}/authenticationJourney/${"x".repeat(65)}`, undefined)).status).toBe(400);
  });
});

// Auth Policy evaluate (v1, v2) and auth_schemes: their own tenant, in a module beside this runner.
policySpecs();

describe("dev GET /dev/policy-bench (the evaluator's micro-benchmark)", () => {
  it("compiles its 1,000 synthetic journeys (all valid) and runs n decisions", async () => {
    const r = await call("GET", "/dev/policy-bench?n=50", undefined, { host: "authn.test" });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { n: number; journeys: number; steps: Record<string, number> };
    expect(body.n).toBe(50);
    expect(body.journeys).toBe(1000);
    expect(Object.values(body.steps).reduce((a, b) => a + b, 0)).toBe(50);
  });
});
