import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";

let t: TestTenant;
let other: TestTenant;
let service: AuthnCaller;
let app: AuthnCaller;

const item = (name: string, extra: Record<string, unknown> = {}) => ({ name, logo: "logo", sso_url: "https://sso.example/login", template: "template", type: "salesforce", description: "d", ...extra });

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  service = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
});

describe("SP catalog", () => {
  it("PUT item (any license) answers {sp_catalog.<name>: item}; list answers items by name; DELETE is 204", async () => {
    const put = await authnCall(app, "PUT", "/spcatalog/item", item("spCatalogItemOne"));
    expect(put.status).toBe(200);
    expect(put.data).toEqual({ "sp_catalog.spCatalogItemOne": item("spCatalogItemOne") });
    await authnCall(app, "PUT", "/spcatalog/item", item("spCatalogItemTwo", { type: undefined, description: undefined }));
    const list = await authnCall<Record<string, unknown>>(service, "GET", "/spcatalog/list", undefined);
    expect(list.status).toBe(200);
    expect(list.data).toEqual({
      spCatalogItemOne: item("spCatalogItemOne"),
      spCatalogItemTwo: { name: "spCatalogItemTwo", logo: "logo", sso_url: "https://sso.example/login", template: "template" },
    });
    // Updating replaces the item.
    await authnCall(app, "PUT", "/spcatalog/item", item("spCatalogItemOne", { logo: "logo2" }));
    const again = await authnCall<Record<string, { logo: string }>>(service, "GET", "/spcatalog/list", undefined);
    expect(again.data.spCatalogItemOne!.logo).toBe("logo2");
    expect((await authnCall(service, "DELETE", "/spcatalog/item/spCatalogItemTwo", undefined)).status).toBe(204);
    expect((await authnCall(service, "DELETE", "/spcatalog/item/spCatalogItemTwo", undefined)).status).toBe(404);
  });

  it("levels: list and delete need system/service (403 for app); put takes any", async () => {
    expect((await authnCall(app, "GET", "/spcatalog/list", undefined)).status).toBe(403);
    expect((await authnCall(app, "DELETE", "/spcatalog/item/spCatalogItemOne", undefined)).status).toBe(403);
    const ext = await authnCaller({ tenantId: t.tenant.id, level: "service_ext", communities: [] });
    expect((await authnCall(ext, "GET", "/spcatalog/list", undefined)).status).toBe(403);
    expect((await authnCall(ext, "PUT", "/spcatalog/item", item("fromExt"))).status).toBe(200);
  });

  it("one tenant never sees or deletes another's items", async () => {
    const theirs = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    await authnCall(theirs, "PUT", "/spcatalog/item", item("theirOnly"));
    const mine = await authnCall<Record<string, unknown>>(service, "GET", "/spcatalog/list", undefined);
    expect(mine.data).not.toHaveProperty("theirOnly");
    expect((await authnCall(service, "DELETE", "/spcatalog/item/theirOnly", undefined)).status).toBe(404);
    const still = await authnCall<Record<string, unknown>>(theirs, "GET", "/spcatalog/list", undefined);
    expect(still.data).toHaveProperty("theirOnly");
  });

  it("the document allows system: a deployment-wide system license works on the catalog of the tenant its Host names", async () => {
    const wide = await authnCaller({ tenantId: null, level: "system", communities: ["*"] });
    const tt = await createTestTenant();
    const theirs = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
    const put = await authnCall(wide, "PUT", "/spcatalog/item", item("fromOperator"), { host: tt.host });
    expect(put.status).toBe(200);
    // It is that tenant's item: its own licenses see it; another tenant's do not.
    const seen = await authnCall<Record<string, unknown>>(theirs, "GET", "/spcatalog/list", undefined);
    expect(Object.keys(seen.data)).toEqual(["fromOperator"]);
    const notMine = await authnCall<Record<string, unknown>>(service, "GET", "/spcatalog/list", undefined);
    expect(notMine.data).not.toHaveProperty("fromOperator");
    const list = await authnCall<Record<string, unknown>>(wide, "GET", "/spcatalog/list", undefined, { host: tt.host });
    expect(list.status).toBe(200);
    expect(Object.keys(list.data)).toEqual(["fromOperator"]);
    expect((await authnCall(wide, "DELETE", "/spcatalog/item/fromOperator", undefined, { host: tt.host })).status).toBe(204);
    expect((await authnCall(wide, "GET", "/spcatalog/list", undefined, { host: tt.host })).data).toEqual({});
  });

  it("a deployment-wide system license on a host that names no tenant is 404 (no default tenant here), and stores nothing", async () => {
    const wide = await authnCaller({ tenantId: null, level: "system", communities: ["*"] });
    const r = await authnCall(wide, "PUT", "/spcatalog/item", item("nowhere"), { host: "unbound.example" });
    expect(r).toMatchObject({ status: 404, body: { statusCode: 404, error: "Not Found" } });
    expect((await authnCall(wide, "GET", "/spcatalog/list", undefined, { host: "unbound.example" })).status).toBe(404);
  });

  it("a tenant's own system license uses its tenant whatever the Host says", async () => {
    const sys = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: [t.community.id] });
    const r = await authnCall<Record<string, unknown>>(sys, "GET", "/spcatalog/list", undefined, { host: other.host });
    expect(r.status).toBe(200);
    expect(r.data).toHaveProperty("spCatalogItemOne");
  });

  it("hostile payloads are 400 and store nothing", async () => {
    const cases: unknown[] = [
      {},
      { name: "x" },
      item("bad name with spaces"),
      item("../etc"),
      item("x", { sso_url: "javascript:alert(1)" }),
      item("x", { sso_url: "not a url" }),
      item("x", { logo: 5 }),
      item("x", { logo: "l".repeat(70_000) }),
      item("n".repeat(200)),
    ];
    for (const p of cases) {
      const r = await authnCall(app, "PUT", "/spcatalog/item", p);
      // The 70 KB logo is past the surface's body limit: 413 in the same error shape.
      expect([400, 413]).toContain(r.status);
      expect(r.body).toMatchObject({ statusCode: r.status });
    }
    const list = await authnCall<Record<string, unknown>>(service, "GET", "/spcatalog/list", undefined);
    expect(Object.keys(list.data).sort()).toEqual(["fromExt", "spCatalogItemOne"]);
  });
});
