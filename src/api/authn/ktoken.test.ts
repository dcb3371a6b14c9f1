import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller } from "../../../test/helpers/authn-caller";
import { sha256Hex } from "../../crypto/hash";

let t: TestTenant;
let other: TestTenant;
let app: AuthnCaller;
let base: string;

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
});

async function proofFor(username: string, password = PASSWORD): Promise<string> {
  const a = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate`, { credentials: { username, password } });
  expect(a.status).toBe(200);
  return a.data.proof_of_authentication_jwt;
}

async function mint(username = "alice", ttl?: number): Promise<string> {
  const k = await authnCall<{ ktoken: string; expires_in: number }>(app, "POST", `${base}/ktoken`, { jwt: await proofFor(username), ...(ttl ? { ttl } : {}) });
  expect(k.status).toBe(200);
  expect(k.data.expires_in).toBe(ttl ?? 120);
  return k.data.ktoken;
}

describe("ktoken minting (extension)", () => {
  it("needs a valid proof of this community", async () => {
    const bad = await authnCall(app, "POST", `${base}/ktoken`, { jwt: "a.b.c" });
    const missing = await authnCall(app, "POST", `${base}/ktoken`, {});
    const ttl = await authnCall(app, "POST", `${base}/ktoken`, { jwt: await proofFor("alice"), ttl: 100_000 });
    expect(bad.status).toBe(401);
    expect(missing.status).toBe(400);
    expect(ttl.status).toBe(400);
  });

  it("stores only the digest in KV", async () => {
    const k = await mint();
    const svc = services();
    expect(await svc.secrets.get("ktoken", await sha256Hex(k))).toMatchObject({ uid: t.alice.uid, tenantId: t.tenant.id });
    expect(await svc.secrets.get("ktoken", k)).toBeNull();
  });
});

describe("POST authenticate_with_ktoken", () => {
  it("answers only the requested attributes and a signed proof", async () => {
    const ktoken = await mint();
    const r = await authnCall<{ user: Record<string, unknown>; proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate_with_ktoken`, {
      ktoken,
      attributes: ["groups", "uid", "username", "no_such_attribute"],
    });
    expect(r.status).toBe(200);
    expect(r.signed).toBe(true);
    expect(r.data.user).toEqual({ groups: [], uid: t.alice.uid, username: "alice" });
    expect(decodeJwt(r.data.proof_of_authentication_jwt)).toMatchObject({ sub: t.alice.uid, amr: ["pwd"] });
  });

  it("without attributes answers the whole user object", async () => {
    const r = await authnCall<{ user: Record<string, unknown> }>(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken: await mint() });
    expect(r.data.user).toMatchObject({ username: "alice", uid: t.alice.uid, dguid: t.alice.dguid, email_verified: false });
  });

  it("is single use: a second redemption is 401", async () => {
    const ktoken = await mint();
    expect((await authnCall(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken })).status).toBe(200);
    expect((await authnCall(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken })).status).toBe(401);
  });

  it("of 20 racing redemptions exactly one succeeds", async () => {
    const ktoken = await mint();
    const results = await Promise.all(Array.from({ length: 20 }, () => authnCall(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken, attributes: ["uid"] })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(19);
  });

  it("an expired ktoken is 401", async () => {
    const ktoken = await mint();
    const svc = services();
    const digest = await sha256Hex(ktoken);
    const rec = await svc.secrets.get<Record<string, unknown>>("ktoken", digest);
    await svc.secrets.put("ktoken", digest, { ...rec, expiresAt: Date.now() - 1000 }, 60);
    expect((await authnCall(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken })).status).toBe(401);
  });

  it("a ktoken of another tenant or community is 401 here, and is not spent by the attempt", async () => {
    const otherApp = await authnCaller({ tenantId: other.tenant.id, level: "app", communities: [other.community.id] });
    const ktoken = await mint();
    const r = await authnCall(otherApp, "POST", `/tenant/${other.tenant.id}/community/${other.community.id}/authenticate_with_ktoken`, { ktoken });
    expect(r.status).toBe(401);
    expect((await authnCall(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken })).status).toBe(200);
  });

  it("steps up with an earlier proof of the same user; another user's proof is 401 and leaves the ktoken unspent", async () => {
    const ktoken = await mint("alice");
    const adminProof = await proofFor("admin");
    expect((await authnCall(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken, jwt: adminProof })).status).toBe(401);
    const aliceProof = await proofFor("alice");
    const r = await authnCall<{ proof_of_authentication_jwt: string }>(app, "POST", `${base}/authenticate_with_ktoken`, { ktoken, jwt: aliceProof });
    expect(r.status).toBe(200);
    expect(decodeJwt(r.data.proof_of_authentication_jwt).amr).toEqual(["pwd"]);
  });

  it("hostile payloads: 400 for wrong types and sizes, 401 for unknown tokens; never 5xx", async () => {
    const cases: [unknown, number][] = [
      [{}, 400],
      [{ ktoken: 12345 }, 400],
      [{ ktoken: "" }, 400],
      [{ ktoken: "x".repeat(600) }, 400],
      [{ ktoken: "short" }, 401],
      [{ ktoken: "A".repeat(43) }, 401],
      [{ ktoken: "A".repeat(43), attributes: "uid" }, 400],
      [{ ktoken: "A".repeat(43), attributes: Array.from({ length: 60 }, () => "uid") }, 400],
    ];
    for (const [payload, status] of cases) {
      const r = await authnCall(app, "POST", `${base}/authenticate_with_ktoken`, payload);
      expect(r.status).toBe(status);
      expect(r.body).toHaveProperty("statusCode", status);
    }
  });
});
