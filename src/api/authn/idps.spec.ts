import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { communityScopes, consentRequiredScopes } from "../../core/idps";

let t: TestTenant;
let svcCaller: AuthnCaller;
let base: string;

interface Idp {
  _id: string;
  type: string;
  tenantId: string;
  communityId: string;
  oidc_config: { name: string; description: string; scopes: { name: string; display_name: string; consent_required: boolean; claims: Record<string, unknown>[] }[] };
  __v: number;
}

const idpBody = (scopes: unknown[] = [profileScope, emailScope]) => ({ type: "oidc", oidc_config: { name: "Workforce", description: "Employees", scopes } });
const profileScope = {
  name: "profile",
  display_name: "Your name",
  consent_required: false,
  claims: [
    { claim_name: "given_name", attribute_name: "given_name", attribute_type: "identity", value_type: "dynamic", value: null },
    { claim_name: "family_name", attribute_name: "family_name", attribute_type: "identity", value_type: "dynamic" },
    { claim_name: "org", attribute_name: null, attribute_type: "identity", value_type: "static", value: "Acme" },
  ],
};
const emailScope = {
  name: "email",
  display_name: "Your email address",
  consent_required: true,
  claims: [{ claim_name: "email", attribute_name: "email", attribute_type: "identity", value_type: "dynamic", value: null }],
};

/** A fresh tenant and a service caller for it (each test that creates an IdP needs its own community). */
async function freshCommunity(): Promise<{ tt: TestTenant; caller: AuthnCaller; b: string }> {
  const tt = await createTestTenant();
  const caller = await authnCaller({ tenantId: tt.tenant.id, level: "service", communities: [tt.community.id] });
  return { tt, caller, b: `/tenant/${tt.tenant.id}/community/${tt.community.id}` };
}

beforeAll(async () => {
  t = await createTestTenant();
  svcCaller = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

describe("Identity Providers", () => {
  it("creates (the answer is the new id), fetches, updates (PATCH, __v bumps) and deletes (204)", async () => {
    const created = await authnCall<string>(svcCaller, "PUT", `${base}/idp`, idpBody());
    expect(created.status).toBe(200);
    expect(created.data).toMatch(/^[0-9a-f]{24}$/);
    const id = created.data;

    const list = await authnCall<Idp[]>(svcCaller, "POST", `${base}/idp/fetch`, {});
    expect(list.status).toBe(200);
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ _id: id, type: "oidc", tenantId: t.tenant.id, communityId: t.community.id, __v: 0 });
    expect(list.data[0]!.oidc_config).toEqual({
      name: "Workforce",
      description: "Employees",
      scopes: [
        { ...profileScope, claims: [profileScope.claims[0], { ...profileScope.claims[1], value: null }, profileScope.claims[2]] },
        emailScope,
      ],
    });

    const updated = await authnCall<string>(svcCaller, "PATCH", `${base}/idp/${id}`, { oidc_config: { description: "Staff", scopes: [emailScope] } });
    expect(updated.status).toBe(200);
    expect(updated.data).toBe(id);
    const after = await authnCall<Idp[]>(svcCaller, "POST", `${base}/idp/fetch`, { id });
    expect(after.data[0]).toMatchObject({ __v: 1, oidc_config: { name: "Workforce", description: "Staff", scopes: [emailScope] } });

    const del = await authnCall(svcCaller, "DELETE", `${base}/idp/${id}`, undefined);
    expect(del.status).toBe(204);
    expect((await authnCall<Idp[]>(svcCaller, "POST", `${base}/idp/fetch`, {})).data).toEqual([]);
    expect((await authnCall(svcCaller, "DELETE", `${base}/idp/${id}`, undefined)).status).toBe(404);
    expect((await authnCall(svcCaller, "PATCH", `${base}/idp/${id}`, { oidc_config: { name: "x" } })).status).toBe(404);
  });

  it("fetch narrows by id and type; no match is an empty array; no body is {}", async () => {
    const { caller, b } = await freshCommunity();
    const id = (await authnCall<string>(caller, "PUT", `${b}/idp`, idpBody())).data;
    expect((await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, { type: "oidc" })).data.map((i) => i._id)).toEqual([id]);
    expect((await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, { id, type: "oidc" })).data.map((i) => i._id)).toEqual([id]);
    expect((await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, { type: "saml" })).data).toEqual([]);
    expect((await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, { id: "0123456789abcdef01234567" })).data).toEqual([]);
    expect((await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, { id: "not-an-id" })).data).toEqual([]);
    const none = await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, undefined, { headers: { "content-type": "" } });
    expect(none.status).toBe(200);
    expect(none.data).toHaveLength(1);
  });

  it("one OIDC IdP per community: a second PUT is 400 naming the first; after DELETE it can be created again", async () => {
    const { caller, b } = await freshCommunity();
    const first = await authnCall<string>(caller, "PUT", `${b}/idp`, idpBody());
    const second = await authnCall<{ message: string }>(caller, "PUT", `${b}/idp`, idpBody([emailScope]));
    expect(second.status).toBe(400);
    expect(second.data.message).toContain(first.data);
    await authnCall(caller, "DELETE", `${b}/idp/${first.data}`, undefined);
    const again = await authnCall<string>(caller, "PUT", `${b}/idp`, idpBody([emailScope]));
    expect(again.status).toBe(200);
  });

  it("racing PUTs in one community: exactly one is created", async () => {
    const { caller, b } = await freshCommunity();
    const rs = await Promise.all(Array.from({ length: 8 }, () => authnCall<string>(caller, "PUT", `${b}/idp`, idpBody())));
    expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
    expect(rs.filter((r) => r.status === 400)).toHaveLength(7);
    expect((await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, {})).data).toHaveLength(1);
  });

  it("racing PATCHes each apply on the version they read: none is lost half-way, __v counts them all", async () => {
    const { caller, b } = await freshCommunity();
    const id = (await authnCall<string>(caller, "PUT", `${b}/idp`, idpBody())).data;
    const rs = await Promise.all(Array.from({ length: 3 }, (_, i) => authnCall(caller, "PATCH", `${b}/idp/${id}`, { oidc_config: { description: `d${i}` } })));
    const ok = rs.filter((r) => r.status === 200).length;
    // The store is optimistic; a PATCH that keeps losing answers 409 rather than overwrite blindly.
    expect(rs.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const after = (await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, {})).data[0]!;
    expect(after.__v).toBe(ok);
    expect(after.oidc_config.scopes.map((s) => s.name)).toEqual(["profile", "email"]);
  });

  it("the OP reads the saved scopes at once in this isolate (communityScopes), and consentRequiredScopes picks the consent ones", async () => {
    const { tt, caller, b } = await freshCommunity();
    const scope = { tenant: tt.tenant, community: tt.community } as Parameters<typeof communityScopes>[1];
    expect(await communityScopes(services(), scope)).toEqual([]);
    const id = (await authnCall<string>(caller, "PUT", `${b}/idp`, idpBody())).data;
    const defs = await communityScopes(services(), scope);
    expect(defs.map((d) => d.name)).toEqual(["profile", "email"]);
    expect([...consentRequiredScopes(defs)]).toEqual(["email"]);
    await authnCall(caller, "PATCH", `${b}/idp/${id}`, { oidc_config: { scopes: [{ ...emailScope, consent_required: false }] } });
    expect([...consentRequiredScopes(await communityScopes(services(), scope))]).toEqual([]);
    await authnCall(caller, "DELETE", `${b}/idp/${id}`, undefined);
    expect(await communityScopes(services(), scope)).toEqual([]);
  });

  it("the document's PUT example with real values: claims may be empty, description optional", async () => {
    const { caller, b } = await freshCommunity();
    const r = await authnCall<string>(caller, "PUT", `${b}/idp`, { type: "oidc", oidc_config: { name: "name", scopes: [{ name: "name", display_name: "Display Name", consent_required: true, claims: [] }] } });
    expect(r.status).toBe(200);
    const list = await authnCall<Idp[]>(caller, "POST", `${b}/idp/fetch`, {});
    expect(list.data[0]!.oidc_config).toEqual({ name: "name", description: "", scopes: [{ name: "name", display_name: "Display Name", consent_required: true, claims: [] }] });
  });

  it("the document's PUT example verbatim (null claim fields) is 400 naming the field", async () => {
    const example = {
      type: "oidc",
      oidc_config: {
        name: "name",
        description: "description",
        scopes: [{ name: "name", display_name: "Display Name", consent_required: true, claims: [{ claim_name: null, attribute_name: null, attribute_type: null, value_type: null, value: null }] }],
      },
    };
    const r = await authnCall<{ statusCode: number; error: string; message: string }>(svcCaller, "PUT", `${base}/idp`, example);
    expect(r.status).toBe(400);
    expect(r.data).toMatchObject({ statusCode: 400, error: "Bad Request" });
    expect(r.data.message).toMatch(/^oidc_config\.scopes\.0\.claims\.0\.claim_name: must not be null/);
  });

  it("levels: app, app_ext and service_ext are 403 on every route; system is accepted", async () => {
    for (const level of ["app", "app_ext", "service_ext"] as const) {
      const c = await authnCaller({ tenantId: t.tenant.id, level, communities: [t.community.id] });
      expect((await authnCall(c, "POST", `${base}/idp/fetch`, {})).status).toBe(403);
      expect((await authnCall(c, "PUT", `${base}/idp`, idpBody())).status).toBe(403);
      expect((await authnCall(c, "PATCH", `${base}/idp/0123456789abcdef01234567`, { oidc_config: { name: "x" } })).status).toBe(403);
      expect((await authnCall(c, "DELETE", `${base}/idp/0123456789abcdef01234567`, undefined)).status).toBe(403);
    }
    const sys = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: [t.community.id] });
    expect((await authnCall(sys, "POST", `${base}/idp/fetch`, {})).status).toBe(200);
  });

  it("the routes are in the OpenAPI document", async () => {
    const { SELF } = await import("cloudflare:test");
    const doc = (await (await SELF.fetch("http://authn.test/openapi/authn.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/tenant/{tenantId}/community/{communityId}/idp"] ?? {})).toContain("put");
    expect(Object.keys(doc.paths["/tenant/{tenantId}/community/{communityId}/idp/fetch"] ?? {})).toContain("post");
    expect(Object.keys(doc.paths["/tenant/{tenantId}/community/{communityId}/idp/{id}"] ?? {}).sort()).toEqual(["delete", "patch"]);
  });
});
