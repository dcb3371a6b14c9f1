import { calculateJwkThumbprintUri, compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createIdpScopes, createOidcSp, scopeOf } from "../../../test/helpers/consents";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import type { OidcClient } from "../oidc-provider/clients";
import { normalizeUserUrn, recordConsent, scopesNeedingConsent, userUrnOf, type ConsentGrant } from "./consents";
import { withdrawConsents } from "./queries";
import { scopeUuid, verifyReceipt, verifyReceiptWithJwks, type ConsentReceipt } from "./receipt";
import { canonicalJson } from "./canonical-json";
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "../../crypto/encoding";

type Jwks = Parameters<typeof verifyReceiptWithJwks>[1];

let t: TestTenant;
let client: OidcClient;
const REQUIRED = new Set(["email", "ledger"]);

beforeAll(async () => {
  t = await createTestTenant({ consentReceipts: { jurisdiction: "EU", policyUrl: "https://tenant.example/privacy" } });
  await createIdpScopes(t);
  ({ client } = await createOidcSp(t, { policyUri: "https://app.example/privacy" }));
});

const grant = (over: Partial<ConsentGrant> = {}): ConsentGrant => ({
  user: t.alice,
  client,
  scopes: ["email", "ledger"],
  collectionMethod: "hosted_login",
  requestId: "req-123",
  userAgent: "Mozilla/5.0 (consent test)",
  ip: "198.51.100.9",
  ...over,
});

/** A third party's verification, written from docs/api/authn.md with jose and nothing of ours. */
async function thirdPartyVerifies(receipt: Record<string, unknown>, jwks: { keys: JWK[] }): Promise<boolean> {
  const { signature, ...rest } = receipt;
  if (typeof signature !== "string") return false;
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sortKeys) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v;
  const payload = toBase64Url(utf8(JSON.stringify(sortKeys(rest))));
  const [h, , s] = signature.split(".");
  try {
    const { protectedHeader } = await compactVerify(`${h}.${payload}.${s}`, createLocalJWKSet(jwks), { algorithms: ["ES256"] });
    if (protectedHeader.typ !== "consent-receipt+jws") return false;
    const key = jwks.keys.find((k) => k.kid === protectedHeader.kid)!;
    return (await calculateJwkThumbprintUri(key)) === receipt.publicKey;
  } catch {
    return false;
  }
}

async function publishedJwks(): Promise<{ keys: JWK[] }> {
  const r = await callJson<{ keys: JWK[] }>("GET", "/.well-known/jwks.json", undefined, { host: t.host });
  expect(r.status).toBe(200);
  return r.body;
}

describe("userUrn", () => {
  it("is urn:edge-auth:<tenantId>:<communityId>:user:<uid>; the urn: prefix and namespace compare case-insensitively", () => {
    const s = scopeOf(t);
    expect(userUrnOf(s, t.alice.uid)).toBe(`urn:edge-auth:${t.tenant.id}:${t.community.id}:user:${t.alice.uid}`);
    expect(normalizeUserUrn(`URN:Edge-Auth:${t.tenant.id}:x`)).toBe(`urn:edge-auth:${t.tenant.id}:x`);
    expect(userUrnOf(s, "a:b/c")).toMatch(/:user:a%3Ab%2Fc$/);
  });
});

describe("recordConsent: the receipt", () => {
  it("carries every field of the document's consent object, with the values docs/api/authn.md names", async () => {
    const rec = await recordConsent(services(), scopeOf(t), grant());
    const r = rec.receipt as unknown as ConsentReceipt;
    expect(Object.keys(r).sort()).toEqual(
      ["version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "publicKey", "piiPrincipal", "piiProcessor", "policyUrl", "scopes", "requestID", "user_agent", "clientIP", "signature", "services"].sort(),
    );
    expect(r).toMatchObject({
      version: "KI-CR-v1.1.0",
      jurisdiction: "EU",
      collectionMethod: "hosted_login",
      consentReceiptID: rec.id,
      piiPrincipal: { urn: userUrnOf(scopeOf(t), t.alice.uid), username: t.alice.username, did: "", publicKey: "" },
      piiProcessor: [{ tenantDns: t.host, tenantId: t.tenant.id, communityName: t.community.name, communityId: t.community.id }],
      // The client's policy_uri wins over the tenant's default.
      policyUrl: "https://app.example/privacy",
      requestID: "req-123",
      user_agent: "Mozilla/5.0 (consent test)",
      clientIP: "198.51.100.9",
      services: [client.clientId],
    });
    expect(Math.abs(r.consentTimestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(r.publicKey).toMatch(/^urn:ietf:params:oauth:jwk-thumbprint:sha-256:[A-Za-z0-9_-]{43}$/);
    expect(r.signature).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{86}$/);
    expect(r.scopes).toEqual([
      { name: "email", uuid: await scopeUuid(t.tenant.id, t.community.id, "email"), claims: ["email", "email_verified"], consentType: "EXPLICIT" },
      { name: "ledger", uuid: await scopeUuid(t.tenant.id, t.community.id, "ledger"), claims: ["balance"], consentType: "EXPLICIT" },
    ]);
    // Stored as returned.
    const stored = await services().identity.consents.list(t.tenant.id, t.community.id, rec.userUrn, client.spId);
    expect(stored.find((x) => x.id === rec.id)?.receipt).toEqual(rec.receipt);
  });

  it("scope uuids are RFC 9562 version 5 name-based UUIDs anyone can compute (Python uuid.uuid5 gives the same)", async () => {
    // python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('c8cdb181-c17a-4a62-b72c-26f15df993d8'), 't-1/c-1/email'))"
    expect(await scopeUuid("t-1", "c-1", "email")).toBe("009ccf69-f011-53ce-92aa-48c8ee5004ba");
  });

  it("falls back to the tenant's policyUrl, standard claims for an undefined standard scope, and caps free text", async () => {
    const { client: plain } = await createOidcSp(t);
    const rec = await recordConsent(services(), scopeOf(t), grant({ client: plain, scopes: ["phone", "email", "phone"], userAgent: "x".repeat(5000), requestId: "r".repeat(5000) }));
    const r = rec.receipt as unknown as ConsentReceipt;
    expect(r.policyUrl).toBe("https://tenant.example/privacy");
    expect(r.scopes.map((s) => [s.name, s.claims])).toEqual([
      ["phone", ["phone_number", "phone_number_verified"]],
      ["email", ["email", "email_verified"]],
    ]);
    expect(r.user_agent).toHaveLength(512);
    expect(r.requestID).toHaveLength(512);
    expect(await verifyReceipt(services().keyring, r)).toBe(true);
  });

  it("refuses no scopes, invalid scope tokens and a user of another community", async () => {
    const other = await createTestTenant();
    for (const g of [grant({ scopes: [] }), grant({ scopes: ["a b"] }), grant({ scopes: ['quote"'] }), grant({ scopes: Array.from({ length: 51 }, (_, i) => `s${i}`) }), grant({ user: other.alice })]) {
      await expect(recordConsent(services(), scopeOf(t), g)).rejects.toMatchObject({ code: "invalid_request" });
    }
  });
});

describe("the signature: anyone verifies a receipt with public material only", () => {
  it("a third party verifies it with the published JWKS, jose and a sorted-keys JSON (RFC 8785 for this content)", async () => {
    const rec = await recordConsent(services(), scopeOf(t), grant());
    const jwks = await publishedJwks();
    // As it travels: JSON text, parsed again by the verifier.
    const received = JSON.parse(JSON.stringify(rec.receipt)) as Record<string, unknown>;
    expect(await thirdPartyVerifies(received, jwks)).toBe(true);
    expect(await verifyReceiptWithJwks(received, jwks as Jwks)).toBe(true);
    // Member order does not matter (canonical JSON).
    const reordered = Object.fromEntries(Object.entries(received).reverse());
    expect(await thirdPartyVerifies(reordered, jwks)).toBe(true);
  });

  it("an altered or forged receipt fails verification", async () => {
    const rec = await recordConsent(services(), scopeOf(t), grant());
    const other = await recordConsent(services(), scopeOf(t), grant({ scopes: ["email"] }));
    const jwks = await publishedJwks();
    const r = rec.receipt as unknown as ConsentReceipt;
    const altered: Record<string, unknown>[] = [
      { ...r, scopes: [...r.scopes, { name: "admin", uuid: "x", claims: [], consentType: "EXPLICIT" }] },
      { ...r, piiPrincipal: { ...r.piiPrincipal, username: "mallory" } },
      { ...r, consentTimestamp: r.consentTimestamp + 1 },
      { ...r, services: ["another-client"] },
      { ...r, extra: "member" },
      { ...r, signature: (other.receipt as unknown as ConsentReceipt).signature },
      { ...r, signature: "" },
      { ...r, signature: undefined },
      { ...r, publicKey: "urn:ietf:params:oauth:jwk-thumbprint:sha-256:AAAA" },
    ];
    for (const a of altered) {
      expect(await thirdPartyVerifies(a, jwks), JSON.stringify(a).slice(0, 80)).toBe(false);
      expect(await verifyReceiptWithJwks(a, jwks as Jwks)).toBe(false);
      expect(await verifyReceipt(services().keyring, a)).toBe(false);
    }

    // Not receipts at all, or a key set that is not one: false, never a throw.
    for (const junk of [null, "receipt", [r], 7, { signature: 42 }, { ...r, consentTimestamp: Number.NaN }]) {
      expect(await verifyReceiptWithJwks(junk, jwks as Jwks)).toBe(false);
      expect(await verifyReceipt(services().keyring, junk)).toBe(false);
    }
    expect(await verifyReceiptWithJwks(r, { keys: "x" } as unknown as Jwks)).toBe(false);
    expect(await verifyReceiptWithJwks(r, { keys: [null] } as unknown as Jwks)).toBe(false);

    // Forged: a receipt signed the same way by a key that is not the service's.
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const forgedJwk = { ...(await exportJWK(publicKey)), kid: (JSON.parse(fromUtf8(fromBase64Url(r.signature.split(".")[0]!))) as { kid: string }).kid, alg: "ES256" };
    const body = { ...r, publicKey: await calculateJwkThumbprintUri(forgedJwk), piiPrincipal: { ...r.piiPrincipal, username: "mallory" } } as Record<string, unknown>;
    delete body.signature;
    const header = toBase64Url(utf8(JSON.stringify({ alg: "ES256", kid: forgedJwk.kid, typ: "consent-receipt+jws" })));
    const payload = toBase64Url(utf8(canonicalJson(body)));
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey as CryptoKey, new TextEncoder().encode(`${header}.${payload}`)));
    const forged = { ...body, signature: `${header}..${toBase64Url(sig)}` };
    // It verifies under the forger's own key set, and under no key the service publishes.
    expect(await thirdPartyVerifies(forged, { keys: [forgedJwk] })).toBe(true);
    expect(await thirdPartyVerifies(forged, jwks)).toBe(false);
    expect(await verifyReceiptWithJwks(forged, jwks as Jwks)).toBe(false);
    expect(await verifyReceipt(services().keyring, forged)).toBe(false);
  });

  it("a receipt signature is no token: the JWT verifier refuses it", async () => {
    const rec = await recordConsent(services(), scopeOf(t), grant());
    const r = rec.receipt as unknown as ConsentReceipt;
    const [h, , s] = r.signature.split(".");
    const payload = toBase64Url(utf8(canonicalJson({ ...r, signature: undefined })));
    const { verifyJwt } = await import("../../crypto/jwt");
    for (const kind of ["access", "id", "reset", "proof"] as const) {
      await expect(verifyJwt(services().keyring, `${h}.${payload}.${s}`, { kind, issuer: "x", audience: "y" })).rejects.toThrow();
    }
  });
});

describe("scopesNeedingConsent, recordConsent and withdrawal", () => {
  it("asks, then not after consent, then again after withdrawal; scopes without consent_required never", async () => {
    const s = scopeOf(t);
    const { client: app } = await createOidcSp(t);
    const ctx = { user: t.admin, client: app, scopes: ["openid", "profile", "email", "ledger"] };
    expect(await scopesNeedingConsent(services(), s, ctx, REQUIRED)).toEqual(["email", "ledger"]);
    await recordConsent(services(), s, grant({ user: t.admin, client: app, scopes: ["email"] }));
    expect(await scopesNeedingConsent(services(), s, ctx, REQUIRED)).toEqual(["ledger"]);
    await recordConsent(services(), s, grant({ user: t.admin, client: app, scopes: ["ledger"] }));
    expect(await scopesNeedingConsent(services(), s, ctx, REQUIRED)).toEqual([]);
    // Another client is asked on its own.
    expect(await scopesNeedingConsent(services(), s, { ...ctx, client }, REQUIRED)).toEqual(["email", "ledger"]);
    const urn = userUrnOf(s, t.admin.uid);
    expect(await withdrawConsents(services(), s, { userUrn: urn, spId: app.spId, scopeIds: ["ledger"] })).toHaveLength(1);
    expect(await scopesNeedingConsent(services(), s, ctx, REQUIRED)).toEqual(["ledger"]);
    expect(await withdrawConsents(services(), s, { userUrn: urn, spId: app.spId })).toHaveLength(1);
    expect(await scopesNeedingConsent(services(), s, ctx, REQUIRED)).toEqual(["email", "ledger"]);
  });

  it("concurrent consents are each recorded; concurrent withdrawals withdraw each receipt once", async () => {
    const s = scopeOf(t);
    const { client: app } = await createOidcSp(t);
    const recs = await Promise.all(Array.from({ length: 8 }, (_, i) => recordConsent(services(), s, grant({ user: t.newbie, client: app, scopes: [i % 2 ? "email" : "ledger"], requestId: `r${i}` }))));
    expect(new Set(recs.map((r) => r.id)).size).toBe(8);
    const urn = userUrnOf(s, t.newbie.uid);
    const results = await Promise.all(Array.from({ length: 6 }, () => withdrawConsents(services(), s, { userUrn: urn, spId: app.spId })));
    const all = results.flat();
    expect(all.sort()).toEqual(recs.map((r) => r.id).sort());
    expect(await services().identity.consents.list(t.tenant.id, t.community.id, urn, app.spId)).toEqual([]);
    // The history stays.
    expect(await services().identity.consents.list(t.tenant.id, t.community.id, urn, app.spId, { includeWithdrawn: true })).toHaveLength(8);
  });
});
