import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { decodeJwt } from "jose";

let t: TestTenant;
let other: TestTenant;
let svcCaller: AuthnCaller;
let base: string;

type Scheme = { _id: string; tag: string; communityId: string; enabled: boolean; isDefault: boolean; dbModule: unknown; modules?: { id: string }[]; __v: number };

const scheme = (tag: string, extra: Record<string, unknown> = {}) => ({
  tag,
  enabled: true,
  isDefault: false,
  dbModule: { id: "db1", type: "db", method: "password", name: "Directory", criteria: "required" },
  modules: [{ id: "m1", type: "otp" }, { id: "m2", type: "pin" }],
  ...extra,
});

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  svcCaller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("schemes", () => {
  it("creates (201), fetches, replaces (PATCH, __v bumps) and deletes (204)", async () => {
    const created = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, scheme("first"));
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ tag: "first", communityId: t.community.id, enabled: true, isDefault: false, __v: 0 });
    expect(created.data._id).toMatch(/^[0-9a-f]{24}$/);
    const list = await authnCall<Scheme[]>(svcCaller, "POST", `${base}/scheme/fetch`, {});
    expect(list.data.map((s) => s.tag)).toContain("first");
    const updated = await authnCall<Scheme>(svcCaller, "PATCH", `${base}/scheme/${created.data._id}`, scheme("first-renamed", { enabled: false, modules: [] }));
    expect(updated.status).toBe(200);
    expect(updated.data).toMatchObject({ tag: "first-renamed", enabled: false, modules: [], __v: 1 });
    const del = await authnCall(svcCaller, "DELETE", `${base}/scheme/${created.data._id}`, undefined);
    expect(del.status).toBe(204);
    expect((await authnCall(svcCaller, "DELETE", `${base}/scheme/${created.data._id}`, undefined)).status).toBe(404);
  });

  it("every scheme route answers a signed x-d1-bookmark; a fetch that sends it back sees the write; a bad one is ignored", async () => {
    const created = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, scheme("bookmarked"));
    expect(created.status).toBe(201);
    const mark = created.headers.get("x-d1-bookmark");
    expect(mark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    const list = await authnCall<Scheme[]>(svcCaller, "POST", `${base}/scheme/fetch`, {}, { headers: { "x-d1-bookmark": mark! } });
    expect(list.status).toBe(200);
    expect(list.data.map((s) => s.tag)).toContain("bookmarked");
    expect(list.headers.get("x-d1-bookmark")).not.toBeNull();
    for (const junk of ["junk", mark!.split(".")[0]!, `${mark}x`, "x".repeat(5000)]) {
      const r = await authnCall<Scheme[]>(svcCaller, "POST", `${base}/scheme/fetch`, {}, { headers: { "x-d1-bookmark": junk } });
      expect(r.status).toBe(200);
      expect(r.data.map((s) => s.tag)).toContain("bookmarked");
    }
    const del = await authnCall(svcCaller, "DELETE", `${base}/scheme/${created.data._id}`, undefined, { headers: { "x-d1-bookmark": mark! } });
    expect(del.status).toBe(204);
    expect(del.headers.get("x-d1-bookmark")).not.toBeNull();
  });

  it("rule 1: a second scheme with the same tag in the community is 400 (create and rename)", async () => {
    const a = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, scheme("dup"));
    expect(a.status).toBe(201);
    expect((await authnCall(svcCaller, "PUT", `${base}/scheme`, scheme("dup"))).status).toBe(400);
    const b = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, scheme("dup-2"));
    expect((await authnCall(svcCaller, "PATCH", `${base}/scheme/${b.data._id}`, scheme("dup"))).status).toBe(400);
    // The same tag in another community is fine.
    const c2 = await services().tenants.createCommunity({ tenantId: t.tenant.id, name: `s2-${Date.now()}` });
    const wide = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: ["*"] });
    expect((await authnCall(wide, "PUT", `/tenant/${t.tenant.id}/community/${c2.id}/scheme`, scheme("dup"))).status).toBe(201);
  });

  it("rule 2: module ids must be unique (400, nothing stored)", async () => {
    const dup = await authnCall(svcCaller, "PUT", `${base}/scheme`, scheme("mods", { modules: [{ id: "x" }, { id: "x" }] }));
    const emptyId = await authnCall(svcCaller, "PUT", `${base}/scheme`, scheme("mods", { modules: [{ id: "" }] }));
    expect(dup.status).toBe(400);
    expect(emptyId.status).toBe(400);
    const list = await authnCall<Scheme[]>(svcCaller, "POST", `${base}/scheme/fetch`, {});
    expect(list.data.some((s) => s.tag === "mods")).toBe(false);
  });

  it("the document's own PUT example (modules: [{}]) is created: the module id is generated", async () => {
    const example = {
      tag: "ExampleTag",
      enabled: true,
      isDefault: false,
      dbModule: { id: "id123456", type: "Example type", method: "Example type", name: "Example name", criteria: "required" },
      modules: [{}],
    };
    const r = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, example);
    expect(r.status).toBe(201);
    expect(r.data).toMatchObject({ tag: "ExampleTag", dbModule: example.dbModule, __v: 0 });
    expect(r.data.modules).toHaveLength(1);
    expect(r.data.modules![0]!.id).toMatch(/^[0-9a-f]{24}$/);
    // Two id-less modules get two ids; given ids are kept.
    const two = await authnCall<Scheme>(svcCaller, "PATCH", `${base}/scheme/${r.data._id}`, { ...example, modules: [{}, { type: "otp" }, { id: "kept" }] });
    expect(two.status).toBe(200);
    const ids = two.data.modules!.map((m) => m.id);
    expect(new Set(ids).size).toBe(3);
    expect(ids[2]).toBe("kept");
    // A scheme whose dbModule has no id gets one too.
    const noDbId = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, { ...example, tag: "ExampleTag-2", dbModule: { type: "db" } });
    expect(noDbId.status).toBe(201);
    expect((noDbId.data.dbModule as { id: string }).id).toMatch(/^[0-9a-f]{24}$/);
  });

  it("rule 3: one default per community; a new default clears the old (create and PATCH)", async () => {
    const a = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, scheme("def-a", { isDefault: true }));
    const b = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, scheme("def-b", { isDefault: true }));
    let defaults = await authnCall<Scheme[]>(svcCaller, "POST", `${base}/scheme/fetch`, { default: true });
    expect(defaults.data.map((s) => s._id)).toEqual([b.data._id]);
    await authnCall(svcCaller, "PATCH", `${base}/scheme/${a.data._id}`, scheme("def-a", { isDefault: true }));
    defaults = await authnCall<Scheme[]>(svcCaller, "POST", `${base}/scheme/fetch`, { default: true, fetchModules: false });
    expect(defaults.data.map((s) => s._id)).toEqual([a.data._id]);
    expect(defaults.data[0]!.modules).toBeUndefined();
  });

  it("racing creations of defaults leave exactly one default", async () => {
    const tt = await createTestTenant();
    const c = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
    const b = `/tenant/${tt.tenant.id}/community/${tt.community.id}`;
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => authnCall(c, "PUT", `${b}/scheme`, scheme(`race-${i}`, { isDefault: true }))));
    expect(rs.every((r) => r.status === 201 || r.status === 400)).toBe(true);
    const defaults = await authnCall<Scheme[]>(c, "POST", `${b}/scheme/fetch`, { default: true });
    expect(defaults.data).toHaveLength(1);
  });

  it("another community's scheme id is 404 (PATCH and DELETE), and not changed", async () => {
    const otherCaller = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    const theirs = await authnCall<Scheme>(otherCaller, "PUT", `/tenant/${other.tenant.id}/community/${other.community.id}/scheme`, scheme("theirs"));
    expect((await authnCall(svcCaller, "PATCH", `${base}/scheme/${theirs.data._id}`, scheme("mine"))).status).toBe(404);
    expect((await authnCall(svcCaller, "DELETE", `${base}/scheme/${theirs.data._id}`, undefined)).status).toBe(404);
    const still = await authnCall<Scheme[]>(otherCaller, "POST", `/tenant/${other.tenant.id}/community/${other.community.id}/scheme/fetch`, {});
    expect(still.data.map((s) => s.tag)).toEqual(["theirs"]);
  });

  it("levels: app, app_ext and service_ext are 403; system is accepted", async () => {
    for (const level of ["app", "app_ext", "service_ext"] as const) {
      const c = await authnCaller({ tenantId: t.tenant.id, level, communities: [t.community.id] });
      expect((await authnCall(c, "POST", `${base}/scheme/fetch`, {})).status).toBe(403);
      expect((await authnCall(c, "PUT", `${base}/scheme`, scheme(`lvl-${level}`))).status).toBe(403);
    }
    const sys = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: [t.community.id] });
    expect((await authnCall(sys, "POST", `${base}/scheme/fetch`, {})).status).toBe(200);
  });

  it("hostile payloads are 400: wrong types, oversized, malformed ids are 404", async () => {
    const cases: unknown[] = [
      {},
      { tag: 7 },
      { tag: "" },
      { tag: "t".repeat(200) },
      { tag: "x", enabled: "yes" },
      { tag: "x", modules: "m1" },
      { tag: "x", modules: Array.from({ length: 60 }, (_, i) => ({ id: `m${i}` })) },
      { tag: "x", modules: [{ id: "m", nested: { deep: true } }] },
      { tag: "x", dbModule: [] },
    ];
    for (const p of cases) expect((await authnCall(svcCaller, "PUT", `${base}/scheme`, p)).status).toBe(400);
    expect((await authnCall(svcCaller, "PATCH", `${base}/scheme/not-an-id`, scheme("x"))).status).toBe(404);
    expect((await authnCall(svcCaller, "POST", `${base}/scheme/fetch`, { default: "yes" })).status).toBe(400);
    // fetch's fields are all optional: no body at all is the same as {}.
    expect((await authnCall(svcCaller, "POST", `${base}/scheme/fetch`, undefined, { headers: { "content-type": "" } })).status).toBe(200);
  });

  it("authenticate names a scheme and module: recorded in the proof; unknown ones are 400", async () => {
    const app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
    const s = await authnCall<Scheme>(svcCaller, "PUT", `${base}/scheme`, scheme("for-login"));
    const ok = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { schemeId: s.data._id, moduleId: "db1", credentials: { username: "alice", password: PASSWORD } });
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.data.proof_of_authentication_jwt)).toMatchObject({ scheme: s.data._id, module: "db1" });
    const badModule = await authnCall(app, "POST", `${base}/authenticate`, { schemeId: s.data._id, moduleId: "nope", credentials: { username: "alice", password: PASSWORD } });
    const badScheme = await authnCall(app, "POST", `${base}/authenticate`, { schemeId: "0123456789abcdef01234567", credentials: { username: "alice", password: PASSWORD } });
    expect(badModule.status).toBe(400);
    expect(badScheme.status).toBe(400);
  });
});

describe("OpenAPI", () => {
  it("documents the login and utility endpoints with their decrypted payloads", async () => {
    const { SELF } = await import("cloudflare:test");
    const res = await SELF.fetch("http://authn.test/openapi/authn.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    for (const p of [
      "/tenant/{tenantId}/community/{communityId}/authenticate",
      "/tenant/{tenantId}/community/{communityId}/request/proof_of_authentication",
      "/tenant/{tenantId}/community/{communityId}/authenticate_with_ktoken",
      "/tenant/{tenantId}/community/{communityId}/ktoken",
      "/tenant/{tenantId}/community/{communityId}/scheme/{id}",
      "/spcatalog/item/{name}",
      "/tenant/{tenantId}/community/{communityId}/idp_config",
      "/tenant/{tenantId}/community/{communityId}/totp/enroll",
    ]) {
      expect(doc.paths).toHaveProperty([p]);
    }
  });
});
