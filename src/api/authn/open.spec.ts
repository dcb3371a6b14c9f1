import { beforeAll, describe, expect, it } from "vitest";
import { issueSession, revokeAccessSession, verifyAccessToken, type AccessClaims } from "../../core/sessions/tokens";
import { decryptEnvelope, deriveSharedKey, encryptEnvelope, generateKeyPair } from "../../crypto/envelope";
import { signJwt } from "../../crypto/jwt";
import { fromBase64, fromBase64Url, fromUtf8, toBase64Url, utf8 } from "../../crypto/encoding";
import { tenantAudience } from "../../core/sessions/tokens";
import { tenantIssuer, parseTenantSettings } from "../../core/tenants/settings";
import type { Scope } from "../../core/context";
import { callJson } from "../../../test/helpers/http";
import { authnCaller, issueTestLicense, servicePublicKey } from "../../../test/helpers/authn";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";

let t: TestTenant;
let scope: Scope;

beforeAll(async () => {
  t = await createTestTenant();
  scope = { tenant: t.tenant, settings: parseTenantSettings(t.tenant.settings), community: t.community, ip: "203.0.113.7", userAgent: null };
});

async function accessToken(extra: Record<string, unknown> = {}) {
  const a = t.alice;
  return (await issueSession(services(), scope, { sub: a.uid, communityId: a.communityId, username: a.username, roles: a.roles, user: a }, { refresh: false, idToken: false, extraClaims: extra })).accessToken;
}

describe("open Authn endpoints", () => {
  it("GET /healthz: status, the service public key, code and version", async () => {
    const r = await callJson("GET", "/authn/healthz", undefined, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "all services operational", code: "200", publicKey: await servicePublicKey() });
    expect(typeof r.body.version).toBe("string");
  });

  it("GET /publickeys: the same key, stable across calls", async () => {
    const a = await callJson("GET", "/authn/publickeys", undefined, { host: t.host });
    const b = await callJson("GET", "/authn/publickeys", undefined, { host: t.host });
    expect(a.status).toBe(200);
    expect(a.body.publicKey).toBe(b.body.publicKey);
    expect(fromBase64(String(a.body.publicKey))).toHaveLength(64);
  });

  it("GET /environment: EC_CURVE_NAME", async () => {
    const r = await callJson("GET", "/authn/environment", undefined, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ EC_CURVE_NAME: "secp256k1", ENVIRONMENT: "development" });
  });

  it("GET /sd: this deployment's surfaces", async () => {
    const r = await callJson("GET", "/authn/sd", undefined, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body.authn).toBe(`http://${t.host}/authn`);
    expect(r.body.userpool).toBe(`http://${t.host}/v1`);
  });

  it("GET /openapi/authn.json documents the surface", async () => {
    const r = await callJson<{ openapi: string; paths: Record<string, unknown> }>("GET", "/openapi/authn.json", undefined, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe("3.1.0");
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(["/healthz", "/ecdsa_helper/{method}", "/jwt/verifyToken", "/manage/license"]));
  });
});

describe("POST /ecdsa_helper/{method}", () => {
  const a = generateKeyPair("secp256k1");
  const b = generateKeyPair("secp256k1");
  it("encrypts (the default) and decrypts with the ECDH key of the pair", async () => {
    const enc = await callJson("POST", "/authn/ecdsa_helper", { dataStr: "Hey, This is example data string.", publicKey: b.publicKey, privateKey: a.privateKey }, { host: t.host });
    expect(enc.status).toBe(200);
    const key = deriveSharedKey(b.privateKey, a.publicKey, "secp256k1");
    expect(await decryptEnvelope(String(enc.body.data), key)).toBe("Hey, This is example data string.");
    const enc2 = await callJson("POST", "/authn/ecdsa_helper/encrypt", { dataStr: "x", publicKey: b.publicKey, privateKey: a.privateKey }, { host: t.host });
    expect(await decryptEnvelope(String(enc2.body.data), key)).toBe("x");
    const dec = await callJson("POST", "/authn/ecdsa_helper/decrypt", { dataStr: await encryptEnvelope("back", key), publicKey: a.publicKey, privateKey: b.privateKey }, { host: t.host });
    expect(dec).toMatchObject({ status: 200, body: { data: "back" } });
  });

  it("400 with a clear message for bad keys, bad data, bad method or missing fields", async () => {
    const cases: [string, unknown, string][] = [
      ["/authn/ecdsa_helper/encrypt", { dataStr: "x", publicKey: "nope", privateKey: a.privateKey }, "public key"],
      ["/authn/ecdsa_helper/encrypt", { dataStr: "x", publicKey: b.publicKey, privateKey: "AAAA" }, "private key"],
      ["/authn/ecdsa_helper/decrypt", { dataStr: "AAAA", publicKey: b.publicKey, privateKey: a.privateKey }, "ciphertext"],
      ["/authn/ecdsa_helper/decrypt", { dataStr: "@@@", publicKey: b.publicKey, privateKey: a.privateKey }, "ciphertext"],
      ["/authn/ecdsa_helper/sign", { dataStr: "x", publicKey: b.publicKey, privateKey: a.privateKey }, "method"],
      ["/authn/ecdsa_helper/encrypt", { publicKey: b.publicKey, privateKey: a.privateKey }, "dataStr"],
    ];
    for (const [path, body, needle] of cases) {
      const r = await callJson("POST", path, body, { host: t.host });
      expect(r.status, path).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
      expect(String(r.body.message)).toContain(needle);
    }
    const malformed = await callJson("POST", "/authn/ecdsa_helper/encrypt", "{oops", { host: t.host, headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
  });
});

describe("POST /jwt/verifyToken", () => {
  it("answers the decoded token for a valid access token", async () => {
    const token = await accessToken();
    const r = await callJson("POST", "/authn/jwt/verifyToken", { token }, { host: t.host });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ sub: t.alice.uid, tenant: t.tenant.id, username: "alice" });
  });

  it("verifies a proof of authentication and refuses it once its session is revoked", async () => {
    const svc = services();
    const sid = crypto.randomUUID();
    await svc.authority.open(t.tenant.id, t.alice.uid, sid, null, Date.now() + 60_000, Date.now() + 60_000);
    const proof = await signJwt(svc.keyring, { sid, amr: ["pwd"], ip: "203.0.113.7", tenant: t.tenant.id, community: t.community.id, username: "alice" }, { kind: "proof", issuer: tenantIssuer(t.tenant.id, scope.settings), audience: tenantAudience(t.tenant.id), subject: t.alice.uid, ttlSeconds: 60 });
    expect((await callJson("POST", "/authn/jwt/verifyToken", { token: proof }, { host: t.host })).status).toBe(200);
    await svc.authority.revokeFamily(t.tenant.id, t.alice.uid, sid, "test");
    expect((await callJson("POST", "/authn/jwt/verifyToken", { token: proof }, { host: t.host })).status).toBe(401);
  });

  it("401 for revoked, tampered, foreign-tenant, malformed tokens", async () => {
    const token = await accessToken();
    const claims = (await verifyAccessToken(services(), scope, token)) as AccessClaims;
    await revokeAccessSession(services(), scope, claims);
    const revoked = await callJson("POST", "/authn/jwt/verifyToken", { token }, { host: t.host });
    expect(revoked).toMatchObject({ status: 401, body: { statusCode: 401, error: "Unauthorized" } });

    const fresh = await accessToken();
    const [h, p, s] = fresh.split(".");
    const payload = JSON.parse(fromUtf8(fromBase64Url(p!)));
    payload.tenant = "some-other-tenant";
    const forged = `${h}.${toBase64Url(utf8(JSON.stringify(payload)))}.${s}`;
    for (const bad of [forged, `${h}.${p}.${s!.slice(0, -4)}AAAA`, "a.b.c", "x"]) {
      const r = await callJson("POST", "/authn/jwt/verifyToken", { token: bad }, { host: t.host });
      expect(r.status).toBe(401);
    }
    expect((await callJson("POST", "/authn/jwt/verifyToken", {}, { host: t.host })).status).toBe(400);
  });
});

describe("POST /v2/jwt/verifyToken", () => {
  it("the document's call: a plain POST with x-forwarded-for naming the end user's address and no license", async () => {
    const token = await accessToken({ ip: "198.51.100.20" });
    // The relying service connects from its own address and names the end user's.
    const ok = await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, ip: "10.1.1.1", headers: { "x-forwarded-for": "198.51.100.20" } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ sub: t.alice.uid, ip: "198.51.100.20" });
    // The first entry is the end user's; later ones are proxies on the way.
    const chain = await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, ip: "10.1.1.1", headers: { "x-forwarded-for": "198.51.100.20, 10.0.0.2, 10.0.0.3" } });
    expect(chain.status).toBe(200);
  });

  it("a wrong address fails: another first entry, the right address only later in the chain, or not an address at all", async () => {
    const token = await accessToken({ ip: "198.51.100.20" });
    for (const xff of ["198.51.100.21", "192.0.2.1, 198.51.100.20", "not-an-ip", ",198.51.100.20"]) {
      const r = await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, ip: "198.51.100.20", headers: { "x-forwarded-for": xff } });
      expect(r, xff).toMatchObject({ status: 401, body: { statusCode: 401, error: "Unauthorized" } });
    }
  });

  it("without x-forwarded-for, the connecting address is compared", async () => {
    const token = await accessToken({ ip: "198.51.100.20" });
    expect((await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, ip: "198.51.100.20" })).status).toBe(200);
    expect((await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, ip: "198.51.100.21" })).status).toBe(401);
  });

  it("x-forwarded-for never makes a bad token pass: revoked, forged, or without a recorded address", async () => {
    const noIp = await accessToken();
    expect((await callJson("POST", "/authn/v2/jwt/verifyToken", { token: noIp }, { host: t.host, ip: "198.51.100.20", headers: { "x-forwarded-for": "198.51.100.20" } })).status).toBe(401);
    const token = await accessToken({ ip: "198.51.100.20" });
    const [h, p, sig] = token.split(".");
    const payload = JSON.parse(fromUtf8(fromBase64Url(p!)));
    payload.ip = "192.0.2.66";
    const forged = `${h}.${toBase64Url(utf8(JSON.stringify(payload)))}.${sig}`;
    expect((await callJson("POST", "/authn/v2/jwt/verifyToken", { token: forged }, { host: t.host, headers: { "x-forwarded-for": "192.0.2.66" } })).status).toBe(401);
    const claims = (await verifyAccessToken(services(), scope, token)) as AccessClaims;
    await revokeAccessSession(services(), scope, claims);
    expect((await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, headers: { "x-forwarded-for": "198.51.100.20" } })).status).toBe(401);
  });

  it("license headers are not needed and change nothing: any caller's x-forwarded-for is the address compared", async () => {
    const token = await accessToken({ ip: "192.0.2.80" });
    const app = await authnCaller(t.host, (await issueTestLicense(t.tenant.id, "app", [t.community.id])).licenseKey);
    const withApp = await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, ip: "10.1.1.1", headers: { ...(await app.headers()), "x-forwarded-for": "192.0.2.80" } });
    expect(withApp.status).toBe(200);
    const broken = await callJson("POST", "/authn/v2/jwt/verifyToken", { token }, { host: t.host, ip: "10.1.1.1", headers: { licensekey: "AAAA", publickey: "AAAA", requestid: "AAAA", "x-forwarded-for": "192.0.2.80" } });
    expect(broken.status).toBe(200);
  });

  it("hostile bodies are 400 (415 without a JSON media type), never 5xx", async () => {
    for (const body of [{}, { token: 5 }, { token: "" }, [], "x"]) {
      const r = await callJson("POST", "/authn/v2/jwt/verifyToken", body, { host: t.host, headers: { "x-forwarded-for": "192.0.2.80", "content-type": "application/json" } });
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    const untyped = await callJson("POST", "/authn/v2/jwt/verifyToken", "x", { host: t.host, headers: { "x-forwarded-for": "192.0.2.80" } });
    expect(untyped.status).toBe(415);
    const oversized = await callJson("POST", "/authn/v2/jwt/verifyToken", { token: "a.b.c" }, { host: t.host, headers: { "x-forwarded-for": "1".repeat(5000) } });
    expect(oversized.status).toBe(401);
  });
});

describe("POST /jwt/verifyToken with x-forwarded-for", () => {
  it("the document's call (x-forwarded-for, no license) verifies the token; v1 compares no address", async () => {
    const token = await accessToken({ ip: "198.51.100.20" });
    const r = await callJson("POST", "/authn/jwt/verifyToken", { token }, { host: t.host, ip: "10.1.1.1", headers: { "x-forwarded-for": "203.0.113.200" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ sub: t.alice.uid });
  });
});

describe("unknown Authn routes", () => {
  it("answer 404 in the Authn error shape", async () => {
    const r = await callJson("GET", "/authn/no/such/route", undefined, { host: t.host });
    expect(r).toMatchObject({ status: 404, body: { statusCode: 404, error: "Not Found" } });
    const p = await callJson("POST", "/authn/healthz", {}, { host: t.host });
    expect(p.status).toBe(404);
  });
});
