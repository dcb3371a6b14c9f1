import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../app";
import { decryptEnvelope, deriveSharedKey, encryptEnvelope, generateKeyPair } from "../crypto/envelope";
import type { Env } from "../env";
import { createTestTenant, type TestTenant } from "../../test/helpers/tenant";

/** The same envelope on P-256 (EC_CURVE_NAME = "P-256"): its own service key, same rules. */
const p256Env = { ...(env as unknown as Env), EC_CURVE_NAME: "P-256" } as Env;
let t: TestTenant;

beforeAll(async () => {
  t = await createTestTenant();
});

describe("Authn envelope on P-256", () => {
  it("reports the curve, serves a P-256 key and accepts P-256 callers only", async () => {
    const envRes = await app.request(`http://${t.host}/authn/environment`, {}, p256Env);
    expect(((await envRes.json()) as Record<string, unknown>).EC_CURVE_NAME).toBe("P-256");
    const pk = ((await (await app.request(`http://${t.host}/authn/publickeys`, {}, p256Env)).json()) as { publicKey: string }).publicKey;
    const me = generateKeyPair("P-256");
    const key = deriveSharedKey(me.privateKey, pk, "P-256");
    const headers = {
      "content-type": "application/json",
      publickey: me.publicKey,
      licensekey: await encryptEnvelope("test-bootstrap-system-license-0123456789", key),
      requestid: await encryptEnvelope(JSON.stringify({ ts: Math.floor(Date.now() / 1000), appid: "p256", uuid: crypto.randomUUID() }), key),
    };
    const body = JSON.stringify({ data: await encryptEnvelope(JSON.stringify({ tenantId: t.tenant.id }), key) });
    const res = await app.request(`http://${t.host}/authn/manage/license/list`, { method: "POST", headers, body }, p256Env);
    expect(res.status).toBe(200);
    const out = (await res.json()) as { data: string; publicKey: string };
    expect(out.publicKey).toBe(pk);
    expect(JSON.parse(await decryptEnvelope(out.data, key))).toEqual({ licenses: [] });
    // A secp256k1 caller key is not a P-256 point.
    const k1 = generateKeyPair("secp256k1");
    const bad = await app.request(`http://${t.host}/authn/manage/license/list`, { method: "POST", headers: { ...headers, publickey: k1.publicKey }, body }, p256Env);
    expect(bad.status).toBe(401);
  });
});

describe("GET /authn/sd", () => {
  it("merges configured peers (SERVICE_DIRECTORY) with this deployment's surfaces", async () => {
    const withPeers = { ...(env as unknown as Env), SERVICE_DIRECTORY: JSON.stringify({ adminx: "https://adminx.example", bad: 3 }) } as Env;
    const sd = (await (await app.request(`http://${t.host}/authn/sd`, {}, withPeers)).json()) as Record<string, unknown>;
    expect(sd).toMatchObject({ adminx: "https://adminx.example", authn: `http://${t.host}/authn` });
    expect(sd.bad).toBeUndefined();
    const broken = { ...(env as unknown as Env), SERVICE_DIRECTORY: "{not json" } as Env;
    expect((await app.request(`http://${t.host}/authn/sd`, {}, broken)).status).toBe(200);
  });
});
