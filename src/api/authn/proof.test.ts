import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { setUserPin } from "../../core/mfa/pin";
import { parseTenantSettings } from "../../core/tenants/settings";
import { endAllSessions } from "../../core/sessions/tokens";
import { call } from "../../../test/helpers/http";

let t: TestTenant;
let service: AuthnCaller;
let serviceExt: AuthnCaller;
let base: string;

const scope = () => ({ tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null });

beforeAll(async () => {
  t = await createTestTenant();
  service = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  serviceExt = await authnCaller({ tenantId: t.tenant.id, level: "service_ext", communities: ["*"] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
  await setUserPin(services(), scope(), t.alice, "123456");
});

async function mintKtoken(username = "alice"): Promise<string> {
  const app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  const a = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username, password: PASSWORD } });
  const k = await authnCall<{ ktoken: string }>(app, "POST", `${base}/ktoken`, { jwt: a.data.proof_of_authentication_jwt });
  expect(k.status).toBe(200);
  return k.data.ktoken;
}

describe("POST request/proof_of_authentication", () => {
  it("issues a signed proof with the verified methods, the ttl and the forwarded client IP", async () => {
    const r = await authnCall<{ proof_of_authentication: string }>(
      service,
      "POST",
      `${base}/request/proof_of_authentication`,
      { user: { username: "alice" }, password: PASSWORD, pin: "123456", methods: ["password", "pin"], ttl: 30 },
      { headers: { "x-forwarded-for": "192.0.2.10, 10.1.1.1" } },
    );
    expect(r.status).toBe(200);
    expect(r.signed).toBe(true);
    const c = decodeJwt(r.data.proof_of_authentication);
    expect(c).toMatchObject({ sub: t.alice.uid, amr: ["pwd", "pin"], ip: "192.0.2.10", aal: 1 });
    expect(c.exp! - c.iat!).toBe(30);
  });

  it("credentials may also sit inside user (the document's example nests username there)", async () => {
    const r = await authnCall(serviceExt, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice", password: PASSWORD }, methods: ["pwd"] });
    expect(r.status).toBe(200);
  });

  it("the proof verifies on /v2/jwt/verifyToken from the recorded IP only", async () => {
    const r = await authnCall<{ proof_of_authentication: string }>(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"] }, { ip: "198.51.100.20" });
    const token = r.data.proof_of_authentication;
    const same = await call("POST", "/authn/v2/jwt/verifyToken", { token }, { host: "authn.test", ip: "198.51.100.20" });
    const other = await call("POST", "/authn/v2/jwt/verifyToken", { token }, { host: "authn.test", ip: "198.51.100.21" });
    expect(same.status).toBe(200);
    expect(other.status).toBe(401);
  });

  it("revoking the user's sessions makes earlier proofs fail verification", async () => {
    const r = await authnCall<{ proof_of_authentication: string }>(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"] });
    const token = r.data.proof_of_authentication;
    expect((await call("POST", "/authn/jwt/verifyToken", { token }, { host: "authn.test" })).status).toBe(200);
    await endAllSessions(services(), scope(), t.alice.uid, "test");
    expect((await call("POST", "/authn/jwt/verifyToken", { token }, { host: "authn.test" })).status).toBe(401);
  });

  it("by ktoken: the ktoken's methods, and the ktoken is spent", async () => {
    const ktoken = await mintKtoken();
    const r = await authnCall<{ proof_of_authentication: string }>(service, "POST", `${base}/request/proof_of_authentication`, { ktoken, methods: ["ktoken"] });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication)).toMatchObject({ sub: t.alice.uid, amr: ["pwd"] });
    const again = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, { ktoken, methods: ["ktoken"] });
    expect(again.status).toBe(401);
  });

  describe("the three validation rules (400)", () => {
    const cases: [string, Record<string, unknown>][] = [
      ["1: ktoken with username", { ktoken: "k".repeat(43), user: { username: "alice" }, methods: ["ktoken"] }],
      ["1: ktoken with password", { ktoken: "k".repeat(43), password: PASSWORD, methods: ["ktoken"] }],
      ["1: ktoken with pin", { ktoken: "k".repeat(43), pin: "123456", methods: ["ktoken"] }],
      ["1: ktoken with otp", { ktoken: "k".repeat(43), otp: "123456", methods: ["ktoken"] }],
      ["2: no ktoken, no username", { password: PASSWORD, methods: ["password"] }],
      ["3: no ktoken, no factor", { user: { username: "alice" }, methods: ["password"] }],
    ];
    for (const [name, payload] of cases) {
      it(name, async () => {
        const r = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, payload);
        expect(r.status).toBe(400);
        expect(r.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
      });
    }
  });

  it("methods: required, known, and each verified by the request", async () => {
    const none = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: [] });
    const unknown = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["retina"] });
    const unverified = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password", "otp"] });
    expect([none.status, unknown.status, unverified.status]).toEqual([400, 400, 400]);
  });

  it("ttl out of range or not an integer is 400", async () => {
    for (const ttl of [0, -5, 3601, 1.5, "30"]) {
      const r = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"], ttl });
      expect(r.status).toBe(400);
    }
  });

  it("a wrong password is 401; a uid that is not the user's is the same 401", async () => {
    const wrong = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: "nope nope", methods: ["password"] });
    const uid = await authnCall(service, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice", uid: t.admin.uid }, password: PASSWORD, methods: ["password"] });
    expect(wrong.status).toBe(401);
    expect(uid.status).toBe(401);
    expect(uid.body).toEqual(wrong.body);
  });

  it("levels: app and app_ext licenses are refused (403); system accepted", async () => {
    for (const level of ["app", "app_ext"] as const) {
      const c = await authnCaller({ tenantId: t.tenant.id, level, communities: [t.community.id] });
      const r = await authnCall(c, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"] });
      expect(r.status).toBe(403);
    }
    const sys = await authnCaller({ tenantId: t.tenant.id, level: "system", communities: [t.community.id] });
    expect((await authnCall(sys, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"] })).status).toBe(200);
  });

  it("a service license of another community is refused (403)", async () => {
    const svc = services();
    const c2 = await svc.tenants.createCommunity({ tenantId: t.tenant.id, name: `p2-${Date.now()}` });
    const elsewhere = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [c2.id] });
    const r = await authnCall(elsewhere, "POST", `${base}/request/proof_of_authentication`, { user: { username: "alice" }, password: PASSWORD, methods: ["password"] });
    expect(r.status).toBe(403);
  });
});
