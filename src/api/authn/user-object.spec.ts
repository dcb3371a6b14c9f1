import { beforeAll, describe, expect, it } from "vitest";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";

/**
 * The user object of authenticate (seed 004 "Authenticate", 200 response) exactly as the
 * document shows it: every field, each of the document's JSON type, never null where the
 * document shows a string or an object (a client written for it reads `user.address.city`).
 */
const DOCUMENT_USER = {
  type: "basic",
  email_verified: true,
  disabled: false,
  username: "Username",
  status: "active",
  firstname: "Fname",
  middlename: "Mname",
  lastname: "Lname",
  email: "email@email.email",
  phone: "111111111",
  phone_verified: true,
  address: { house: "House", streetname: "Streetname", city: "City", country: "Country", zip: "Zip" },
  address_verified: true,
  uid: "6cc4cc4e-eac9-478f-a871-976ff007ee29",
  dguid: "6cc4cc4e-eac9-478f-a871-976ff007ee29",
  tenantId: "607714223fc37d72a2422e86",
  communityId: "607714223fd37d72a2422e87",
  roleValue: "none",
};

/** The JSON type of every value, recursively: {"address": {"city": "string"}, "disabled": "boolean", ...}. */
function shapeOf(v: unknown): unknown {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.map(shapeOf);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shapeOf(x)]));
  return typeof v;
}

let t: TestTenant;
let app: AuthnCaller;
let base: string;

beforeAll(async () => {
  t = await createTestTenant();
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

async function userOf(username: string): Promise<Record<string, unknown>> {
  const r = await authnCall<{ user: Record<string, unknown> }>(app, "POST", `${base}/authenticate`, { credentials: { username, password: PASSWORD } });
  expect(r.status).toBe(200);
  return r.data.user;
}

describe("the Authn user object", () => {
  it("a user with nothing but a username and a first name has the document's shape, no nulls", async () => {
    const user = await userOf("alice");
    expect(shapeOf(user)).toEqual(shapeOf(DOCUMENT_USER));
    expect(user).toMatchObject({ type: "basic", middlename: "", lastname: "", phone: "", firstname: "Alice", roleValue: "none" });
    expect(user.address).toEqual({ house: "", streetname: "", city: "", country: "", zip: "" });
    expect(JSON.stringify(user)).not.toContain(`"null"`);
  });

  it("a stored address answers the document's five fields as strings; other stored keys are left out", async () => {
    const svc = services();
    const u = await svc.users.create({
      tenantId: t.tenant.id,
      communityId: t.community.id,
      username: `addr-${Date.now()}`,
      passwordHash: (await svc.users.byUsername(t.community.id, "alice"))!.passwordHash,
      phone: "+15551234567",
      lastName: "Doe",
      address: { city: "Paris", zip: 75001, country: "FR", streetname: null, extra: { nested: true } },
    });
    const user = await userOf(u.username);
    expect(shapeOf(user)).toEqual(shapeOf(DOCUMENT_USER));
    expect(user).toMatchObject({ phone: "+15551234567", lastname: "Doe" });
    expect(user.address).toEqual({ house: "", streetname: "", city: "Paris", country: "FR", zip: "75001" });
  });

  it("authenticate_with_ktoken answers the same object (attributes picked from it)", async () => {
    const proof = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username: "alice", password: PASSWORD } });
    const k = await authnCall<{ ktoken: string }>(app, "POST", `${base}/ktoken`, { jwt: proof.data.proof_of_authentication_jwt });
    const r = await authnCall<{ user: Record<string, unknown> }>(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken: k.data.ktoken, attributes: ["address", "middlename", "type"] });
    expect(r.status).toBe(200);
    expect(r.data.user).toEqual({ address: { house: "", streetname: "", city: "", country: "", zip: "" }, middlename: "", type: "basic" });
  });

  it("the OpenAPI document declares the user object without nullable fields", async () => {
    const { SELF } = await import("cloudflare:test");
    const doc = (await (await SELF.fetch("http://authn.test/openapi/authn.json")).json()) as { components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> } };
    const user = doc.components.schemas.AuthnUser!;
    expect(Object.keys(user.properties).sort()).toEqual(Object.keys(DOCUMENT_USER).sort());
    expect(JSON.stringify(user)).not.toContain(`"null"`);
    expect(user.properties.address).toEqual({ $ref: "#/components/schemas/AuthnAddress" });
    const address = doc.components.schemas.AuthnAddress!;
    expect(Object.keys(address.properties).sort()).toEqual(["city", "country", "house", "streetname", "zip"]);
    expect(JSON.stringify(address)).not.toContain(`"null"`);
  });
});
