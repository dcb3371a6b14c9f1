import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { authnCall, authnCaller, type AuthnCaller, type AuthnCallOptions } from "../../../test/helpers/authn-caller";
import { createIdpScopes, createOidcSp, hex24, scopeOf } from "../../../test/helpers/consents";
import { callJson } from "../../../test/helpers/http";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { recordConsent, scopesNeedingConsent, userUrnOf } from "../../core/consents/consents";
import { scopeUuid, verifyReceiptWithJwks, type ConsentReceipt } from "../../core/consents/receipt";
import type { OidcClient } from "../../core/oidc-provider/clients";
import type { Env } from "../../env";

/**
 * Authn User Consent (seed 004): check, fetch, fetch_by_scope, and our withdraw extension.
 * Plain bodies and answers as the document shows, run with preview off as in production.
 */
const production = { ...(env as unknown as Env), AUTHN_PREVIEW: "false" } as Env;
const plain: AuthnCallOptions = { plain: true, env: production };

let t: TestTenant;
let other: TestTenant;
let svc: AuthnCaller;
let base: string;
let app1: OidcClient;
let app2: OidcClient;
let samlApp: OidcClient;
let aliceUrn: string;

type Consents = { consents: ConsentReceipt[] };

async function consent(client: OidcClient, scopes: string[], user = t.alice) {
  // Receipts are ordered by their creation time in ms: keep the ones a test orders apart.
  await new Promise((r) => setTimeout(r, 3));
  return (await recordConsent(services(), scopeOf(t), { user, client, scopes, collectionMethod: "hosted_login", requestId: crypto.randomUUID(), userAgent: "tests", ip: "198.51.100.9" })).receipt as unknown as ConsentReceipt;
}

beforeAll(async () => {
  t = await createTestTenant();
  other = await createTestTenant();
  await createIdpScopes(t);
  await createIdpScopes(other);
  svc = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: [t.community.id] });
  base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
  ({ client: app1 } = await createOidcSp(t));
  ({ client: app2 } = await createOidcSp(t));
  ({ client: samlApp } = await createOidcSp(t, { type: "saml" }));
  aliceUrn = userUrnOf(scopeOf(t), t.alice.uid);
});

describe("user_consent/check, fetch and fetch_by_scope", () => {
  it("check answers the live receipts covering the scope ids (names or uuids), newest first; fetch every live receipt", async () => {
    const email = await consent(app1, ["email"]);
    const both = await consent(app1, ["email", "ledger"]);
    await consent(app2, ["ledger"]);

    const byName = await authnCall<Consents>(svc, "POST", `${base}/user_consent/check`, { userUrn: aliceUrn, spId: app1.spId, scopeIds: ["ledger"] }, plain);
    expect(byName.status).toBe(200);
    expect(byName.body).not.toHaveProperty("publicKey");
    expect(byName.body.consents).toEqual([both]);

    const uuid = await scopeUuid(t.tenant.id, t.community.id, "email");
    const byUuid = await authnCall<Consents>(svc, "POST", `${base}/user_consent/check`, { userUrn: aliceUrn, spId: app1.spId, scopeIds: [uuid] }, plain);
    expect((byUuid.body.consents as unknown as ConsentReceipt[]).map((c) => c.consentReceiptID)).toEqual([both.consentReceiptID, email.consentReceiptID]);

    const none = await authnCall(svc, "POST", `${base}/user_consent/check`, { userUrn: aliceUrn, spId: app1.spId, scopeIds: ["profile"] }, plain);
    expect(none.body).toEqual({ consents: [] });
    const all = await authnCall(svc, "POST", `${base}/user_consent/check`, { userUrn: aliceUrn, spId: app1.spId }, plain);
    expect(all.body).toEqual({ consents: [both, email] });

    const fetched = await authnCall(svc, "POST", `${base}/user_consent/fetch`, { userUrn: aliceUrn, spId: app1.spId }, plain);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual({ consents: [both, email] });
  });

  it("fetch_by_scope answers the newest live receipt given to a service provider of that type, or null", async () => {
    const user = t.admin;
    const urn = userUrnOf(scopeOf(t), user.uid);
    await consent(app1, ["ledger"], user);
    const newest = await consent(app2, ["ledger", "email"], user);
    const saml = await consent(samlApp, ["email"], user);
    const call = (controllerType: string, scopeName: string) => authnCall(svc, "POST", `${base}/user_consent/fetch_by_scope`, { userUrn: urn, controllerType, scopeName }, plain);
    expect((await call("oidc", "ledger")).body).toEqual({ consent: newest });
    expect((await call("oidc", "email")).body).toEqual({ consent: newest });
    expect((await call("saml", "email")).body).toEqual({ consent: saml });
    expect((await call("saml", "ledger")).body).toEqual({ consent: null });
    expect((await call("oidc", "profile")).body).toEqual({ consent: null });
  });

  it("an answered receipt verifies with the published JWKS alone", async () => {
    const r = await consent(app1, ["email"], t.newbie);
    const res = await authnCall<Consents>(svc, "POST", `${base}/user_consent/fetch`, { userUrn: userUrnOf(scopeOf(t), t.newbie.uid), spId: app1.spId }, plain);
    const jwks = await callJson<{ keys: JsonWebKey[] }>("GET", "/.well-known/jwks.json", undefined, { host: t.host });
    const answered = (res.body.consents as unknown as Record<string, unknown>[])[0]!;
    expect(answered.consentReceiptID).toBe(r.consentReceiptID);
    expect(await verifyReceiptWithJwks(answered, jwks.body)).toBe(true);
    expect(await verifyReceiptWithJwks({ ...answered, clientIP: "192.0.2.1" }, jwks.body)).toBe(false);
  });

  it("every license level the document names may call them; the envelope form is answered enveloped", async () => {
    for (const level of ["system", "service", "service_ext", "app", "app_ext"] as const) {
      const c = await authnCaller({ tenantId: t.tenant.id, level, communities: [t.community.id] });
      for (const [path, body] of [
        ["check", { userUrn: aliceUrn, spId: app1.spId, scopeIds: ["email"] }],
        ["fetch", { userUrn: aliceUrn, spId: app1.spId }],
        ["fetch_by_scope", { userUrn: aliceUrn, controllerType: "oidc", scopeName: "email" }],
      ] as const) {
        expect((await authnCall(c, "POST", `${base}/user_consent/${path}`, body, plain)).status, `${level} ${path}`).toBe(200);
      }
    }
    const env1 = await authnCall<Consents>(svc, "POST", `${base}/user_consent/fetch`, { userUrn: aliceUrn, spId: app1.spId }, { env: production });
    expect(typeof env1.body.data).toBe("string");
    expect(env1.data.consents.length).toBeGreaterThan(0);
  });
});

describe("user_consent/withdraw (extension)", () => {
  it("withdraws the receipts covering the scope ids; the next authorization asks again; a repeat withdraws nothing", async () => {
    const user = t.newbie;
    const urn = userUrnOf(scopeOf(t), user.uid);
    const { client } = await createOidcSp(t);
    const e = await consent(client, ["email"], user);
    const l = await consent(client, ["ledger"], user);
    const ctx = { user, client, scopes: ["openid", "email", "ledger"] };
    const required = new Set(["email", "ledger"]);
    expect(await scopesNeedingConsent(services(), scopeOf(t), ctx, required)).toEqual([]);

    const w = await authnCall(svc, "POST", `${base}/user_consent/withdraw`, { userUrn: urn, spId: client.spId, scopeIds: ["email"] }, plain);
    expect(w.status).toBe(200);
    expect(w.body).toEqual({ withdrawn: [e.consentReceiptID] });
    expect(await scopesNeedingConsent(services(), scopeOf(t), ctx, required)).toEqual(["email"]);
    expect((await authnCall(svc, "POST", `${base}/user_consent/fetch`, { userUrn: urn, spId: client.spId }, plain)).body).toEqual({ consents: [l] });

    expect((await authnCall(svc, "POST", `${base}/user_consent/withdraw`, { userUrn: urn, spId: client.spId, scopeIds: ["email"] }, plain)).body).toEqual({ withdrawn: [] });
    expect((await authnCall(svc, "POST", `${base}/user_consent/withdraw`, { userUrn: urn, spId: client.spId }, plain)).body).toEqual({ withdrawn: [l.consentReceiptID] });
    expect(await scopesNeedingConsent(services(), scopeOf(t), ctx, required)).toEqual(["email", "ledger"]);
    expect((await authnCall(svc, "POST", `${base}/user_consent/check`, { userUrn: urn, spId: client.spId }, plain)).body).toEqual({ consents: [] });
  });

  it("concurrent withdrawals: each receipt is reported withdrawn exactly once", async () => {
    const { client } = await createOidcSp(t);
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => consent(client, [i % 2 ? "email" : "ledger"]).then((r) => r.consentReceiptID)));
    const rs = await Promise.all(Array.from({ length: 6 }, () => authnCall<{ withdrawn: string[] }>(svc, "POST", `${base}/user_consent/withdraw`, { userUrn: aliceUrn, spId: client.spId }, plain)));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(rs.flatMap((r) => r.body.withdrawn as unknown as string[]).sort()).toEqual(ids.sort());
  });
});

describe("documented errors and hostile input", () => {
  it("404 on check and withdraw when spId is not a service provider of the community (another tenant's included)", async () => {
    const { client: foreign } = await createOidcSp(other);
    await recordConsent(services(), scopeOf(other), { user: other.alice, client: foreign, scopes: ["email"], collectionMethod: "hosted_login", requestId: "x", userAgent: null, ip: "198.51.100.1" });
    for (const spId of [hex24(), foreign.spId]) {
      for (const path of ["check", "withdraw"]) {
        const r = await authnCall(svc, "POST", `${base}/user_consent/${path}`, { userUrn: aliceUrn, spId, scopeIds: ["email"] }, plain);
        expect(r.status, `${path} ${spId}`).toBe(404);
        expect(r.body).toMatchObject({ statusCode: 404, error: "Not Found" });
      }
      // fetch documents no 404: an unknown service provider has no receipts.
      expect((await authnCall(svc, "POST", `${base}/user_consent/fetch`, { userUrn: aliceUrn, spId }, plain)).body).toEqual({ consents: [] });
    }
    // The other tenant's receipt is still live: nothing here touched it.
    expect(await services().identity.consents.list(other.tenant.id, other.community.id, userUrnOf(scopeOf(other), other.alice.uid), foreign.spId)).toHaveLength(1);
  });

  it("another tenant's user urn, an unknown user and a user without receipts answer alike", async () => {
    const foreignUrn = userUrnOf(scopeOf(other), other.alice.uid);
    const quiet = await services().users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: "quiet" });
    const answers = [];
    for (const userUrn of [foreignUrn, userUrnOf(scopeOf(t), crypto.randomUUID()), userUrnOf(scopeOf(t), quiet.uid), "xxxxxxxxxxxxx"]) {
      const r = await authnCall(svc, "POST", `${base}/user_consent/check`, { userUrn, spId: app2.spId, scopeIds: ["email"] }, plain);
      const s = await authnCall(svc, "POST", `${base}/user_consent/fetch_by_scope`, { userUrn, controllerType: "oidc", scopeName: "email" }, plain);
      answers.push([r.status, r.body, s.status, s.body]);
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual([200, { consents: [] }, 200, { consent: null }]);
  });

  it("the urn: prefix and namespace are case-insensitive (RFC 8141); the rest is exact", async () => {
    const upper = aliceUrn.replace("urn:edge-auth:", "URN:EDGE-AUTH:");
    const r = await authnCall<Consents>(svc, "POST", `${base}/user_consent/fetch`, { userUrn: upper, spId: app1.spId }, plain);
    expect((r.body.consents as unknown as unknown[]).length).toBeGreaterThan(0);
    const changed = aliceUrn.replace(t.alice.uid, t.alice.uid.toUpperCase());
    expect((await authnCall(svc, "POST", `${base}/user_consent/fetch`, { userUrn: changed, spId: app1.spId }, plain)).body).toEqual({ consents: [] });
  });

  it("wrong types, missing fields and oversized values are 400 naming the field; never 5xx", async () => {
    const cases: [string, unknown, string][] = [
      ["check", { spId: app1.spId, scopeIds: [] }, "userUrn"],
      ["check", { userUrn: aliceUrn, scopeIds: ["email"] }, "spId"],
      ["check", { userUrn: 7, spId: app1.spId }, "userUrn"],
      ["check", { userUrn: aliceUrn, spId: app1.spId, scopeIds: "email" }, "scopeIds"],
      ["check", { userUrn: aliceUrn, spId: app1.spId, scopeIds: [1] }, "scopeIds"],
      ["check", { userUrn: aliceUrn, spId: app1.spId, scopeIds: Array.from({ length: 51 }, (_, i) => `s${i}`) }, "scopeIds"],
      ["check", { userUrn: "u".repeat(513), spId: app1.spId }, "userUrn"],
      ["fetch", { userUrn: aliceUrn, spId: { $ne: null } }, "spId"],
      ["fetch", { userUrn: "", spId: app1.spId }, "userUrn"],
      ["fetch", { userUrn: aliceUrn, spId: "s".repeat(65) }, "spId"],
      ["fetch_by_scope", { userUrn: aliceUrn, scopeName: "email" }, "controllerType"],
      ["fetch_by_scope", { userUrn: aliceUrn, controllerType: "ldap", scopeName: "email" }, "controllerType"],
      ["fetch_by_scope", { userUrn: aliceUrn, controllerType: "oidc" }, "scopeName"],
      ["fetch_by_scope", { userUrn: aliceUrn, controllerType: "oidc", scopeName: "e".repeat(129) }, "scopeName"],
      ["withdraw", { userUrn: aliceUrn, spId: app1.spId, scopeIds: [null] }, "scopeIds"],
      ["withdraw", { userUrn: [aliceUrn], spId: app1.spId }, "userUrn"],
    ];
    for (const [path, body, field] of cases) {
      const r = await authnCall(svc, "POST", `${base}/user_consent/${path}`, body, plain);
      expect(r.status, `${path} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: "Bad Request" });
      expect(String(r.body.message)).toContain(field);
    }
    for (const rawBody of ["{", "[]", "null", '"text"', JSON.stringify({ data: { userUrn: aliceUrn, spId: app1.spId } })]) {
      const r = await authnCall(svc, "POST", `${base}/user_consent/fetch`, undefined, { ...plain, rawBody });
      expect(r.status, rawBody).toBe(400);
    }
    const huge = await authnCall(svc, "POST", `${base}/user_consent/fetch`, undefined, { ...plain, rawBody: JSON.stringify({ userUrn: "u".repeat(2_000_000), spId: app1.spId }) });
    expect(huge.status).toBe(413);
  });

  it("403 for a license of another community or another tenant; 401 without the licensed headers", async () => {
    const elsewhere = await authnCaller({ tenantId: t.tenant.id, level: "service", communities: ["c-not-this-one"] });
    const foreign = await authnCaller({ tenantId: other.tenant.id, level: "service", communities: [other.community.id] });
    for (const c of [elsewhere, foreign]) {
      for (const path of ["check", "fetch", "withdraw"]) {
        const r = await authnCall(c, "POST", `${base}/user_consent/${path}`, { userUrn: aliceUrn, spId: app1.spId }, plain);
        expect(r.status, path).toBe(403);
      }
    }
    for (const drop of ["publickey", "licensekey", "requestid"]) {
      const r = await authnCall(svc, "POST", `${base}/user_consent/fetch`, { userUrn: aliceUrn, spId: app1.spId }, { ...plain, headers: { [drop]: "" } });
      expect(r.status, drop).toBe(401);
    }
    // Nothing was withdrawn by the refused calls.
    expect((await services().identity.consents.list(t.tenant.id, t.community.id, aliceUrn, app1.spId)).length).toBeGreaterThan(0);
  });
});

describe("OpenAPI", () => {
  it("the Authn document publishes the four routes with the document's plain payload first", async () => {
    const doc = (await (await SELF.fetch("http://authn.test/openapi/authn.json")).json()) as { paths: Record<string, { post?: { operationId: string; requestBody: { content: Record<string, { schema: { anyOf: unknown[] } }> } } }> };
    const ops = ["check", "fetch", "fetch_by_scope", "withdraw"].map((p) => doc.paths[`/tenant/{tenantId}/community/{communityId}/user_consent/${p}`]?.post);
    expect(ops.map((o) => o?.operationId)).toEqual(["checkUserConsents", "fetchUserConsents", "fetchUserConsentByScope", "withdrawUserConsent"]);
    expect(ops[0]!.requestBody.content["application/json"]!.schema.anyOf[0]).toEqual({ $ref: "#/components/schemas/UserConsentCheckPayload" });
  });
});
