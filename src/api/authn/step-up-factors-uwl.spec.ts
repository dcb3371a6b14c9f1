import { beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { authnCall, authnCaller, type AuthnCaller, type AuthnResult } from "../../../test/helpers/authn-caller";
import { decodePrivateKey, generateKeyPair, signData, type EnvelopeCurve } from "../../crypto/envelope";
import { fromBase64, toBase64 } from "../../crypto/encoding";
import { sha256Hex } from "../../crypto/hash";
import { UWL_NONCE_PREFIX } from "../../core/uwl/uwl";
import { normaliseAuthenticatorKey, verifyAuthenticatorSignature } from "../../crypto/authenticator-keys";
import { toHex } from "../../crypto/encoding";
import { secp256k1 } from "@noble/curves/secp256k1.js";

/** UWL (authenticate_with_uwl and its extension routes), run by step-up-factors.test.ts. */
type Login = { user?: { username: string }; proof_of_authentication_jwt?: string; user_token?: string; next?: { step: string; allowed_factors: string[] } };

/** A wallet: a key pair in the envelope's encoding and a signer the way the wallet apps sign. */
export function wallet(curve: EnvelopeCurve = "secp256k1") {
  const k = generateKeyPair(curve);
  return { publicKey: k.publicKey, curve, sign: (msg: string) => signData(msg, decodePrivateKey(k.privateKey, curve), curve) };
}
export type Wallet = ReturnType<typeof wallet>;

/** DER of a compact r||s ECDSA signature (X9.62), to send the other accepted encoding. */
function derOf(compact: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    return v[0]! & 0x80 ? Uint8Array.of(0x02, v.length + 1, 0, ...v) : Uint8Array.of(0x02, v.length, ...v);
  };
  const r = int(compact.subarray(0, 32));
  const s = int(compact.subarray(32));
  return Uint8Array.of(0x30, r.length + s.length, ...r, ...s);
}

export function uwlHelpers(app: () => AuthnCaller, base: () => string) {
  const login = async (credentials: Record<string, string>, jwt?: string, ip?: string) =>
    authnCall<Login>(app(), "POST", `${base()}/authenticate`, { credentials, ...(jwt ? { jwt } : {}) }, ip ? { ip } : {});
  const register = (jwt: string, w: Wallet, extra: Record<string, unknown> = {}) => authnCall<{ id: string; curve: string }>(app(), "POST", `${base()}/uwl/authenticators`, { jwt, publicKey: w.publicKey, ...extra });
  const nonce = async (username: string, w: Wallet) => {
    const r = await authnCall<{ nonce: string; expires_in: number }>(app(), "POST", `${base()}/uwl/nonce`, { username, authenticator_publickey: w.publicKey });
    expect(r.status, JSON.stringify(r.data)).toBe(200);
    return r.data.nonce;
  };
  const uwl = (body: Record<string, unknown>, ip?: string): Promise<AuthnResult<Login>> => authnCall<Login>(app(), "POST", `${base()}/authenticate_with_uwl`, body, ip ? { ip } : {});
  const signedBody = async (username: string, w: Wallet, signer: Wallet = w) => {
    const n = await nonce(username, w);
    return { username, authenticator_did: "did:example:wallet", authenticator_publickey: w.publicKey, nonce: n, nonce_signature: signer.sign(n) };
  };
  return { login, register, nonce, uwl, signedBody };
}

export function uwlSpecs(): void {
  let t: TestTenant;
  let app: AuthnCaller;
  let base = "";
  const h = uwlHelpers(() => app, () => base);
  const alice = wallet("secp256k1");
  const aliceP256 = wallet("P-256");
  const mallory = wallet("secp256k1");
  let pwdProof = "";

  beforeAll(async () => {
    t = await createTestTenant();
    app = await authnCaller({ tenantId: t.tenant.id, level: "app", communities: [t.community.id] });
    base = `/tenant/${t.tenant.id}/community/${t.community.id}`;
    pwdProof = (await h.login({ username: "alice", password: PASSWORD })).data.proof_of_authentication_jwt!;
    // admin registers a wallet too: "another user's authenticator" below is this one.
    const adminProof = (await h.login({ username: "admin", password: PASSWORD })).data.proof_of_authentication_jwt!;
    expect((await h.register(adminProof, mallory)).status).toBe(200);
  });

  describe("authenticator keys and signatures (crypto/authenticator-keys.ts)", () => {
    it("one key in every accepted encoding normalises to one spelling; off-curve points and the wrong curve are refused", () => {
      const w = wallet("secp256k1");
      const raw64 = fromBase64(w.publicKey);
      const uncompressed = Uint8Array.of(4, ...raw64);
      const compressed = secp256k1.Point.fromBytes(uncompressed).toBytes(true);
      const n = normaliseAuthenticatorKey(w.publicKey, "secp256k1");
      expect(n).toBe(toBase64(uncompressed));
      for (const enc of [toHex(raw64), toHex(uncompressed), toBase64(compressed), toHex(compressed)]) expect(normaliseAuthenticatorKey(enc, "secp256k1")).toBe(n);
      expect(normaliseAuthenticatorKey(w.publicKey, "P-256")).toBeNull();
      const offCurve = Uint8Array.of(4, ...raw64.slice(0, 63), raw64[63]! ^ 1);
      expect(normaliseAuthenticatorKey(toBase64(offCurve), "secp256k1")).toBeNull();
    });

    it("compact and DER, base64 and hex signatures verify; a signature over another message does not", () => {
      const w = wallet("secp256k1");
      const key = normaliseAuthenticatorKey(w.publicKey, "secp256k1")!;
      const sig = fromBase64(w.sign("nonce-1"));
      expect(verifyAuthenticatorSignature(key, "secp256k1", "nonce-1", toBase64(sig))).toBe(true);
      expect(verifyAuthenticatorSignature(key, "secp256k1", "nonce-1", toHex(derOf(sig)))).toBe(true);
      expect(verifyAuthenticatorSignature(key, "secp256k1", "nonce-2", toBase64(sig))).toBe(false);
      expect(verifyAuthenticatorSignature(key, "secp256k1", "nonce-1", toBase64(sig.slice(1)))).toBe(false);
    });
  });

  describe("UWL authenticators (extension)", () => {
    it("registers a secp256k1 key with a proof", async () => {
      const r = await h.register(pwdProof, alice, { name: "Phone" });
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(r.data).toMatchObject({ curve: "secp256k1", name: "Phone" });
      expect((await h.register(pwdProof, alice)).status).toBe(403);
    });

    it("a second key needs a proof that used uwl or reached AAL2 (403 with a password-only proof); a key twice is 409", async () => {
      expect((await h.register(pwdProof, aliceP256)).status).toBe(403);
      const body = await h.signedBody("alice", alice);
      const viaUwl = await h.uwl(body);
      expect(viaUwl.status, JSON.stringify(viaUwl.data)).toBe(200);
      const r = await h.register(viaUwl.data.proof_of_authentication_jwt!, aliceP256, { curve: "P-256" });
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      // The same key twice (in any encoding) is a 409.
      expect((await h.register(viaUwl.data.proof_of_authentication_jwt!, aliceP256)).status).toBe(409);
      const list = await authnCall<{ authenticators: { id: string; curve: string }[] }>(app, "POST", `${base}/uwl/authenticators/list`, { jwt: pwdProof });
      expect(list.data.authenticators.map((a) => a.curve).sort()).toEqual(["P-256", "secp256k1"]);
    });

    it("refuses keys that are no point, unknown curves, bad proofs and empty bodies", async () => {
      expect((await authnCall(app, "POST", `${base}/uwl/authenticators`, { jwt: pwdProof, publicKey: toBase64(new Uint8Array(64).fill(7)) })).status).toBe(400);
      expect((await authnCall(app, "POST", `${base}/uwl/authenticators`, { jwt: pwdProof, publicKey: alice.publicKey, curve: "ed25519" })).status).toBe(400);
      expect((await h.register("a.b.c", wallet())).status).toBe(401);
      expect((await authnCall(app, "POST", `${base}/uwl/authenticators`, {})).status).toBe(400);
      expect((await authnCall(app, "POST", `${base}/uwl/nonce`, { username: "alice", authenticator_publickey: "not-a-key" })).status).toBe(400);
    });
  });

  describe("authenticate_with_uwl", () => {
    it("the document's body: a signed nonce gives the user and a proof with amr uwl (signed answer)", async () => {
      const r = await h.uwl(await h.signedBody("Alice", alice));
      expect(r.status, JSON.stringify(r.data)).toBe(200);
      expect(r.signed).toBe(true);
      expect(r.data.user!.username).toBe("alice");
      expect(decodeJwt(r.data.proof_of_authentication_jwt!)).toMatchObject({ amr: ["uwl"], aal: 1 });
    });

    it("P-256 with a WebCrypto key and a DER signature; `ktoken` carries the nonce as the document's validation names it", async () => {
      const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
      const sign = async (m: string) => new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(m)));
      const w: Wallet = { publicKey: toBase64(raw), curve: "P-256", sign: () => "" };
      const viaUwl = await h.uwl(await h.signedBody("alice", alice));
      expect((await h.register(viaUwl.data.proof_of_authentication_jwt!, w, { curve: "P-256" })).status).toBe(200);
      const n = await h.nonce("alice", w);
      const r = await h.uwl({ username: "alice", authenticator_did: "did:x", authenticator_publickey: w.publicKey, ktoken: n, nonce_signature: toBase64(derOf(await sign(n))) });
      expect(r.status, JSON.stringify(r.data)).toBe(200);
    });

    it("steps up from a password proof: amr [pwd, uwl], AAL2", async () => {
      const r = await h.uwl({ ...(await h.signedBody("alice", alice)), jwt: pwdProof });
      expect(r.status).toBe(200);
      expect(decodeJwt(r.data.proof_of_authentication_jwt!)).toMatchObject({ amr: ["pwd", "uwl"], aal: 2, acr: "aal2" });
    });

    it("a used nonce is refused; of 20 racing logins with one nonce exactly one wins", async () => {
      const body = await h.signedBody("alice", alice);
      expect((await h.uwl(body)).status).toBe(200);
      expect((await h.uwl(body)).status).toBe(401);
      const race = await h.signedBody("alice", alice);
      const results = await Promise.all(Array.from({ length: 20 }, () => h.uwl(race, "203.0.113.20")));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 401)).toHaveLength(19);
    });

    it("a forged signature is 401 and does not burn the nonce", async () => {
      const body = await h.signedBody("alice", alice, mallory);
      const r = await h.uwl(body);
      expect(r.status).toBe(401);
      expect(r.data).toMatchObject({ statusCode: 401, message: "invalid credentials" });
      expect((await h.uwl({ ...body, nonce_signature: alice.sign(body.nonce) })).status).toBe(200);
      expect((await h.uwl({ ...body, nonce_signature: "!!" })).status).toBe(401);
    });

    it("another user's authenticator, an unknown user and a nonce of another username all answer the same 401", async () => {
      // admin's own wallet (mallory) signs correctly, but the key is not alice's.
      const other = await h.uwl(await h.signedBody("alice", mallory));
      const unknown = await h.uwl(await h.signedBody("nobody", alice));
      const crossed = await h.signedBody("admin", alice);
      const wrongName = await h.uwl({ ...crossed, username: "alice" });
      for (const r of [other, unknown, wrongName]) expect([r.status, r.data]).toEqual([401, { statusCode: 401, error: "Unauthorized", message: "invalid credentials" }]);
    });

    it("an expired nonce record is refused", async () => {
      const n = "expired-nonce-0123456789abcdef";
      const svc = services();
      await svc.secrets.put(UWL_NONCE_PREFIX, await sha256Hex(n), { tenantId: t.tenant.id, communityId: t.community.id, username: "alice", publicKey: toBase64(Uint8Array.of(4, ...fromBase64(alice.publicKey))), curve: "secp256k1", expiresAt: Date.now() - 1 }, 60);
      expect((await h.uwl({ username: "alice", authenticator_did: "d", authenticator_publickey: alice.publicKey, nonce: n, nonce_signature: alice.sign(n) })).status).toBe(401);
    });

    it("validation: missing fields, no nonce and ktoken, differing nonce and ktoken, a step-up of another user", async () => {
      const body = await h.signedBody("alice", alice);
      const { nonce: n, ...noNonce } = body;
      expect((await h.uwl(noNonce)).status).toBe(400);
      expect((await h.uwl({ ...body, ktoken: `${n}x` })).status).toBe(400);
      expect((await h.uwl({ ...body, username: undefined })).status).toBe(400);
      expect((await h.uwl({ ...body, nonce_signature: "x".repeat(600) })).status).toBe(400);
      const adminProof = (await h.login({ username: "admin", password: PASSWORD })).data.proof_of_authentication_jwt!;
      expect((await h.uwl({ ...body, jwt: adminProof })).status).toBe(401);
      // Refused input did not spend the nonce.
      expect((await h.uwl(body)).status).toBe(200);
    });

    it("a removed authenticator no longer signs in", async () => {
      const viaUwl = await h.uwl(await h.signedBody("alice", alice));
      const list = await authnCall<{ authenticators: { id: string; curve: string }[] }>(app, "POST", `${base}/uwl/authenticators/list`, { jwt: pwdProof });
      const p256 = list.data.authenticators.find((a) => a.curve === "P-256" && a.id)!;
      expect((await authnCall(app, "POST", `${base}/uwl/authenticators/delete`, { jwt: pwdProof, id: p256.id })).status).toBe(403);
      expect((await authnCall(app, "POST", `${base}/uwl/authenticators/delete`, { jwt: viaUwl.data.proof_of_authentication_jwt, id: p256.id })).status).toBe(200);
      expect((await authnCall(app, "POST", `${base}/uwl/authenticators/delete`, { jwt: viaUwl.data.proof_of_authentication_jwt, id: p256.id })).status).toBe(404);
    });
  });
}
