import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { D1SigningKeyStore } from "../storage/d1/signing-key-store";
import { services } from "../../test/helpers/tenant";
import { signJwt, verifyJwt, type TokenKind } from "./jwt";
import { Keyring, type SigningKeyStore } from "./keys";

/**
 * JWT issue and verification: token kinds never pass for one another (typ and token_use), every
 * token carries a kid that the JWKS publishes, and a key rotation keeps the previous key
 * verifying until it is retired.
 */
const KINDS: TokenKind[] = ["access", "id", "reset", "proof"];
const opts = { issuer: "urn:test:issuer", audience: "test-aud", subject: "user-1", ttlSeconds: 300 };

describe("token kinds", () => {
  it("each kind verifies only as itself", async () => {
    const keyring = services().keyring;
    for (const signed of KINDS) {
      const token = await signJwt(keyring, { sid: "s" }, { ...opts, kind: signed });
      for (const expected of KINDS) {
        const v = verifyJwt(keyring, token, { kind: expected, issuer: opts.issuer, audience: opts.audience });
        if (signed === expected) await expect(v).resolves.toMatchObject({ sub: "user-1", token_use: signed, sid: "s" });
        else await expect(v, `${signed} as ${expected}`).rejects.toThrow();
      }
    }
  });

  it("every token names its key, and the JWKS publishes that key without private parts", async () => {
    const keyring = services().keyring;
    const token = await signJwt(keyring, {}, { ...opts, kind: "access" });
    const header = JSON.parse(atob(token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { kid: string; alg: string; typ: string };
    expect(header).toMatchObject({ alg: "ES256", typ: "at+jwt", kid: expect.any(String) });
    const jwks = await keyring.jwks();
    const k = jwks.keys.find((x) => x.kid === header.kid)!;
    expect(k).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(k).not.toHaveProperty("d");
  });

  it("refuses malformed input without throwing anything but JwtError", async () => {
    const keyring = services().keyring;
    for (const bad of ["", "a.b", "a.b.c", "a.b.c.d.e", "x".repeat(9000), "eyJ.eyJ.sig", "...."]) {
      await expect(verifyJwt(keyring, bad, { kind: "access", issuer: opts.issuer, audience: opts.audience })).rejects.toMatchObject({ name: "Error", message: expect.any(String) });
    }
  });
});

describe("issued-at in the future", () => {
  it("a validly signed token whose iat is ahead of the allowed clock skew is refused; within it, accepted", async () => {
    const keyring = services().keyring;
    const now = Math.floor(Date.now() / 1000);
    const verify = (token: string) => verifyJwt(keyring, token, { kind: "access", issuer: opts.issuer, audience: opts.audience });
    for (const ahead of [3600, 60, 7]) {
      const token = await signJwt(keyring, {}, { ...opts, kind: "access", now: now + ahead });
      await expect(verify(token), `iat ${ahead} s ahead`).rejects.toMatchObject({ message: "token issued in the future" });
      // A second presentation is refused too (nothing about the refusal is cached as a success).
      await expect(verify(token)).rejects.toMatchObject({ message: "token issued in the future" });
    }
    await expect(verify(await signJwt(keyring, {}, { ...opts, kind: "access", now: now + 3 }))).resolves.toMatchObject({ sub: "user-1" });
    await expect(verify(await signJwt(keyring, {}, { ...opts, kind: "access", now: now - 60 }))).resolves.toMatchObject({ sub: "user-1" });
  });
});

describe("key rotation with overlap", () => {
  it("a token of the previous key keeps verifying; a retired key's tokens stop", async () => {
    // An isolated key purpose on the real D1 table, so the deployment's own key is untouched.
    const purpose = `test-${crypto.randomUUID()}`;
    const d1 = D1SigningKeyStore(env.DB);
    const store: SigningKeyStore = { listActive: () => d1.listActive(purpose), insertCurrent: (r) => d1.insertCurrent({ ...r, purpose }) };
    const secret = "rotation-test-secret-0123456789abcdef0123";
    const before = new Keyring(store, secret);
    const oldToken = await signJwt(before, {}, { ...opts, kind: "access" });
    const verifyWith = (k: Keyring, token: string) => verifyJwt(k, token, { kind: "access", issuer: opts.issuer, audience: opts.audience });

    // Rotate: demote the current key (what the rotation script does); the next signer creates a new one.
    await env.DB.prepare("UPDATE signing_keys SET status = 'previous' WHERE purpose = ? AND status = 'current'").bind(purpose).run();
    const after = new Keyring(store, secret);
    const newToken = await signJwt(after, {}, { ...opts, kind: "access" });
    const kidOf = (t: string) => (JSON.parse(atob(t.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))) as { kid: string }).kid;
    expect(kidOf(newToken)).not.toBe(kidOf(oldToken));
    await expect(verifyWith(after, oldToken)).resolves.toBeDefined();
    await expect(verifyWith(after, newToken)).resolves.toBeDefined();
    expect((await after.jwks()).keys.map((k) => k.kid).sort()).toEqual([kidOf(oldToken), kidOf(newToken)].sort());

    await env.DB.prepare("UPDATE signing_keys SET status = 'retired' WHERE purpose = ? AND status = 'previous'").bind(purpose).run();
    const later = new Keyring(store, secret);
    await expect(verifyWith(later, oldToken)).rejects.toThrow(/unknown signing key/);
    await expect(verifyWith(later, newToken)).resolves.toBeDefined();
    await env.DB.prepare("DELETE FROM signing_keys WHERE purpose = ?").bind(purpose).run();
  });
});

describe("the isolate's cache of verified tokens", () => {
  const v = (keyring: Keyring, token: string, kind: TokenKind = "access", audience = opts.audience) => verifyJwt(keyring, token, { kind, issuer: opts.issuer, audience });

  it("answers a second verification with the same claims, never shared with the first caller", async () => {
    const keyring = services().keyring;
    const token = await signJwt(keyring, { roles: ["user"] }, { ...opts, kind: "access" });
    const first = await v(keyring, token);
    first.sub = "tampered by a caller";
    const second = await v(keyring, token);
    expect(second.sub).toBe("user-1");
    expect(second).not.toBe(first);
  });

  it("never lets a cached token pass as another kind, audience or issuer", async () => {
    const keyring = services().keyring;
    const token = await signJwt(keyring, {}, { ...opts, kind: "access" });
    await v(keyring, token);
    await expect(v(keyring, token, "id")).rejects.toThrow();
    await expect(v(keyring, token, "access", "another-aud")).rejects.toThrow();
    await expect(verifyJwt(keyring, token, { kind: "access", issuer: "urn:test:other", audience: opts.audience })).rejects.toThrow();
  });

  it("still expires a cached token", async () => {
    const keyring = services().keyring;
    const now = Math.floor(Date.now() / 1000);
    // Expired 3 s ago, so alive for 2 more seconds within the clock tolerance (5 s).
    const token = await signJwt(keyring, {}, { ...opts, kind: "access", ttlSeconds: 60, now: now - 63 });
    await expect(v(keyring, token)).resolves.toBeDefined();
    await new Promise((r) => setTimeout(r, 3000));
    await expect(v(keyring, token)).rejects.toMatchObject({ expired: true });
  });
});

describe("a keyring whose store fails after the first load", () => {
  it("keeps signing and verifying with the keys it has", async () => {
    const purpose = `test-${crypto.randomUUID()}`;
    const d1 = D1SigningKeyStore(env.DB);
    let failing = false;
    const store: SigningKeyStore = {
      listActive: async () => {
        if (failing) throw new Error("D1 unavailable");
        return d1.listActive(purpose);
      },
      insertCurrent: (r) => d1.insertCurrent({ ...r, purpose }),
    };
    const keyring = new Keyring(store, "store-failure-secret-0123456789abcdef0123");
    const token = await signJwt(keyring, {}, { ...opts, kind: "access" });
    failing = true;
    // An unknown kid forces a reload, which fails: answered as "unknown key", not as an error.
    expect(await keyring.verificationKey("no-such-kid")).toBeNull();
    await expect(signJwt(keyring, {}, { ...opts, kind: "access" })).resolves.toMatch(/^ey/);
    await expect(verifyJwt(new Keyring(store, "x".repeat(40)), token, { kind: "access", issuer: opts.issuer, audience: opts.audience })).rejects.toThrow();
  });
});
