import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller, type AuthnCallOptions } from "../../../test/helpers/authn-caller";
import { encryptEnvelope } from "../../crypto/envelope";
import type { Env } from "../../env";

/**
 * Each Authn endpoint takes the body form its document shows and answers in it (seed 004):
 * schemes, the SP catalog (and user_consent, auth_policy) show plain JSON bodies and plain
 * answers; login and federation endpoints show `{"data": "<encrypted>"}`. A plain endpoint
 * also takes the envelope from clients that encrypt everything and answers it enveloped. The
 * licensed headers stay required everywhere. Run with preview off, as in production: the
 * plain form here is the document's form, not the development preview.
 */
const production = { ...(env as unknown as Env), AUTHN_PREVIEW: "false" } as Env;

let t: TestTenant;
let svc: AuthnCaller;
let app: AuthnCaller;
let base: string;

const plain: AuthnCallOptions = { plain: true, env: production };
const enveloped: AuthnCallOptions = { env: production };

const EXAMPLE_SCHEME = {
  tag: "ExampleTag",
  enabled: true,
  isDefault: false,
  dbModule: { id: "id123456", type: "Example type", method: "Example type", name: "Example name", criteria: "required" },
  modules: [{}],
};
const EXAMPLE_ITEM = { name: "spCatalogItemOne", logo: "logo", sso_url: "http://sso.test", template: "template", type: "salesforce", description: "string" };

beforeAll(async () => {
  t = await createTestTenant();
  svc = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

/** A plain answer: the document's JSON itself, no envelope fields around it. */
function expectPlain(r: { status: number; body: unknown }, status: number) {
  expect(r.status).toBe(status);
  expect(r.body).not.toHaveProperty("publicKey");
  expect(r.body).not.toHaveProperty("signature_token");
}

describe("schemes take and answer plain JSON, as the document shows", () => {
  it("PUT scheme (the document's example), scheme/fetch, PATCH and DELETE with plain bodies", async () => {
    const created = await authnCall<Record<string, unknown>>(svc, "PUT", `${base}/scheme`, EXAMPLE_SCHEME, plain);
    expectPlain(created, 201);
    expect(created.body).toMatchObject({ tag: "ExampleTag", communityId: t.community.id, enabled: true, isDefault: false, dbModule: EXAMPLE_SCHEME.dbModule, __v: 0 });
    const id = created.body._id as string;
    expect(id).toMatch(/^[0-9a-f]{24}$/);

    // The document's fetch call, verbatim: -d '{"default": true, "fetchModules": false}'.
    const none = await authnCall(svc, "POST", `${base}/scheme/fetch`, { default: true, fetchModules: false }, plain);
    expectPlain(none, 200);
    expect(none.body).toEqual([]);
    const all = await authnCall(svc, "POST", `${base}/scheme/fetch`, { default: false, fetchModules: false }, plain);
    expectPlain(all, 200);
    expect(all.body).toEqual([{ _id: id, tag: "ExampleTag", communityId: t.community.id, enabled: true, isDefault: false, dbModule: EXAMPLE_SCHEME.dbModule, __v: 0 }]);

    const patched = await authnCall(svc, "PATCH", `${base}/scheme/${id}`, { ...EXAMPLE_SCHEME, isDefault: true }, plain);
    expectPlain(patched, 200);
    expect(patched.body).toMatchObject({ _id: id, isDefault: true, __v: 1 });

    const del = await authnCall(svc, "DELETE", `${base}/scheme/${id}`, undefined, plain);
    expect(del.status).toBe(204);
    expect((await authnCall(svc, "DELETE", `${base}/scheme/${id}`, undefined, plain)).status).toBe(404);
  });

  it("the envelope form still works on the same routes and is answered enveloped", async () => {
    const created = await authnCall<Record<string, unknown>>(svc, "PUT", `${base}/scheme`, { ...EXAMPLE_SCHEME, tag: "Enveloped" }, enveloped);
    expect(created.status).toBe(201);
    expect(typeof created.body.data).toBe("string");
    expect(created.body.publicKey).toBe(svc.servicePublicKey);
    expect(created.data).toMatchObject({ tag: "Enveloped", __v: 0 });
    const list = await authnCall<{ tag: string }[]>(svc, "POST", `${base}/scheme/fetch`, {}, enveloped);
    expect(typeof list.body.data).toBe("string");
    expect(list.data.map((s) => s.tag)).toContain("Enveloped");
    const patched = await authnCall<Record<string, unknown>>(svc, "PATCH", `${base}/scheme/${created.data._id as string}`, { ...EXAMPLE_SCHEME, tag: "Enveloped", enabled: false }, enveloped);
    expect(typeof patched.body.data).toBe("string");
    expect(patched.data).toMatchObject({ enabled: false, __v: 1 });
  });

  it("a plain payload of the wrong shape is 400 naming the field; never 5xx", async () => {
    const cases: [string, string, unknown][] = [
      ["POST", "scheme/fetch", { default: "yes" }],
      ["POST", "scheme/fetch", [1, 2]],
      ["POST", "scheme/fetch", "text"],
      ["PUT", "scheme", { tag: 7 }],
      ["PUT", "scheme", { ...EXAMPLE_SCHEME, modules: "m1" }],
      ["PUT", "scheme", null],
    ];
    for (const [method, path, body] of cases) {
      const r = await authnCall(svc, method, `${base}/${path}`, body, plain);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
    }
    const r = await authnCall(svc, "POST", `${base}/scheme/fetch`, { default: "yes" }, plain);
    expect(String(r.body.message)).toContain("default");
    // {"data": {...}} is the development preview's shape, not the document's: refused in production.
    expect((await authnCall(svc, "POST", `${base}/scheme/fetch`, { data: { default: true } }, plain)).status).toBe(400);
    // An envelope whose data does not decrypt is 400, as on every envelope endpoint.
    expect((await authnCall(svc, "POST", `${base}/scheme/fetch`, { data: "AAAA" }, plain)).status).toBe(400);
  });
});

describe("the SP catalog takes and answers plain JSON, as the document shows", () => {
  it("PUT item, GET list and DELETE item with plain bodies answer the document's objects", async () => {
    const put = await authnCall(app, "PUT", "/spcatalog/item", EXAMPLE_ITEM, plain);
    expectPlain(put, 200);
    expect(put.body).toEqual({ "sp_catalog.spCatalogItemOne": EXAMPLE_ITEM });
    const list = await authnCall(svc, "GET", "/spcatalog/list", undefined, plain);
    expectPlain(list, 200);
    expect(list.body).toEqual({ spCatalogItemOne: EXAMPLE_ITEM });
    const del = await authnCall(svc, "DELETE", "/spcatalog/item/spCatalogItemOne", undefined, plain);
    expect(del.status).toBe(204);
  });

  it("PUT item in the envelope form is answered enveloped", async () => {
    const put = await authnCall<Record<string, unknown>>(app, "PUT", "/spcatalog/item", { ...EXAMPLE_ITEM, name: "enveloped" }, enveloped);
    expect(put.status).toBe(200);
    expect(typeof put.body.data).toBe("string");
    expect(put.data).toEqual({ "sp_catalog.enveloped": { ...EXAMPLE_ITEM, name: "enveloped" } });
  });

  it("hostile plain items are 400", async () => {
    for (const body of [{}, { name: 5 }, { ...EXAMPLE_ITEM, sso_url: "javascript:alert(1)" }, [EXAMPLE_ITEM]]) {
      const r = await authnCall(app, "PUT", "/spcatalog/item", body, plain);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("the licensed headers stay required on plain endpoints", () => {
  const routes: [string, () => string, unknown][] = [
    ["POST", () => `${base}/scheme/fetch`, { default: true }],
    ["PUT", () => `${base}/scheme`, EXAMPLE_SCHEME],
    ["PATCH", () => `${base}/scheme/0123456789abcdef01234567`, EXAMPLE_SCHEME],
    ["DELETE", () => `${base}/scheme/0123456789abcdef01234567`, undefined],
    ["GET", () => "/spcatalog/list", undefined],
    ["PUT", () => "/spcatalog/item", EXAMPLE_ITEM],
    ["DELETE", () => "/spcatalog/item/spCatalogItemOne", undefined],
  ];

  it("missing headers are 401, a forged license key is 401, a plain license key is 401; nothing is stored", async () => {
    for (const [method, path, body] of routes) {
      for (const drop of ["publickey", "licensekey", "requestid"]) {
        const r = await authnCall(svc, method, path(), body, { ...plain, headers: { [drop]: "" } });
        expect(r.status, `${method} ${path()} without ${drop}`).toBe(401);
        expect(r.body).toMatchObject({ statusCode: 401, error: "Unauthorized" });
      }
      const forged = await authnCall(svc, method, path(), body, { ...plain, headers: { licensekey: await encryptEnvelope("not-a-license-key-0123456789abcdef", svc.sharedKey) } });
      expect(forged.status, `${method} ${path()} forged`).toBe(401);
      const clear = await authnCall(svc, method, path(), body, { ...plain, headers: { licensekey: svc.licenseKey } });
      expect(clear.status, `${method} ${path()} unencrypted license`).toBe(401);
    }
    const list = await authnCall(svc, "POST", `${base}/scheme/fetch`, {}, plain);
    expect((list.body as unknown as unknown[]).some((s) => (s as { tag: string }).tag === "ExampleTag")).toBe(false);
  });

  it("levels still apply to plain bodies: an app license is 403 on scheme/fetch", async () => {
    expect((await authnCall(app, "POST", `${base}/scheme/fetch`, { default: true }, plain)).status).toBe(403);
  });

  it("a request id is single-use in the plain form too: of 8 racing requests with one uuid exactly one passes", async () => {
    const uuid = crypto.randomUUID();
    const requestid = await encryptEnvelope(JSON.stringify({ ts: Math.floor(Date.now() / 1000), appid: "tests", uuid }), svc.sharedKey);
    const rs = await Promise.all(Array.from({ length: 8 }, () => authnCall(svc, "POST", `${base}/scheme/fetch`, {}, { ...plain, headers: { requestid } })));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rs.filter((r) => r.status === 401)).toHaveLength(7);
  });
});

describe("login endpoints keep the document's envelope form", () => {
  it("authenticate: the envelope works in production; a plain body is 400 there (preview only)", async () => {
    const ok = await authnCall<{ user: { username: string } }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, enveloped);
    expect(ok.status).toBe(200);
    expect(typeof ok.body.data).toBe("string");
    expect(typeof ok.body.signature_token).toBe("string");
    expect(ok.data.user.username).toBe("alice");
    const bare = await authnCall(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } }, plain);
    expect(bare.status).toBe(400);
  });
});

describe("OpenAPI shows the document's form first", () => {
  it("plain routes document the plain payload first and the envelope second; login routes the envelope", async () => {
    const { SELF } = await import("cloudflare:test");
    const doc = (await (await SELF.fetch("http://authn.test/openapi/authn.json")).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>> };
    const fetchOp = doc.paths["/tenant/{tenantId}/community/{communityId}/scheme/fetch"]!.post!;
    const reqSchema = fetchOp.requestBody!.content["application/json"]!.schema;
    const first = (reqSchema.anyOf as Record<string, unknown>[])[0]!;
    expect(first).toEqual({ $ref: "#/components/schemas/AuthSchemeFetchPayload" });
    const resSchema = fetchOp.responses["200"]!.content!["application/json"]!.schema;
    expect(((resSchema.anyOf as Record<string, unknown>[])[0] as { type: string }).type).toBe("array");
    const auth = doc.paths["/tenant/{tenantId}/community/{communityId}/authenticate"]!.post!;
    const authReq = auth.requestBody!.content["application/json"]!.schema as { properties: Record<string, unknown> };
    expect(Object.keys(authReq.properties)).toEqual(["data"]);
  });

  it("every Authn operation has a unique camelCase operationId", async () => {
    const { SELF } = await import("cloudflare:test");
    const doc = (await (await SELF.fetch("http://authn.test/openapi/authn.json")).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
    const ids = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ at: `${method} ${path}`, id: op.operationId })));
    expect(ids.length).toBeGreaterThan(20);
    for (const { at, id } of ids) expect(id, at).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids.map((x) => x.id)).size).toBe(ids.length);
    expect(doc.paths["/tenant/{tenantId}/community/{communityId}/scheme/fetch"]!.post!.operationId).toBe("getAuthSchemesList");
    expect(doc.paths["/v2/jwt/verifyToken"]!.post!.operationId).toBe("verifyTokenV2");
  });
});
