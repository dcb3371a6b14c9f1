import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SignJWT } from "jose";
import { createTestTenant, PASSWORD, services, type TestTenant } from "../../../test/helpers/tenant";
import { call, callJson } from "../../../test/helpers/http";
import { b64url, TestIdp } from "../../../test/helpers/idp";
import { REFETCH_MS } from "../../core/federation/remote-jwks";

const CLIENT_ID = "0oa-croit-ui";
const AUDIENCE = "api://croit";

async function oktaTenant(idp: TestIdp): Promise<TestTenant> {
  return createTestTenant({
    okta: { baseUrl: "https://example.okta.test", clientId: CLIENT_ID, issuer: idp.issuer, audience: AUDIENCE, mapRoles: { admins: ["admin"] } },
  });
}

const login = (t: TestTenant, idToken: unknown) => callJson("POST", "/api/auth/okta/login", { idToken }, { host: t.host });

let idp: TestIdp;
let t: TestTenant;
beforeAll(async () => {
  idp = await TestIdp.create();
  t = await oktaTenant(idp);
  // Warm the JWKS cache, so the cases below exercise verification rather than fetching.
  expect((await login(t, await idp.idToken({ sub: "00u-warm", aud: CLIENT_ID, preferred_username: "warm" }))).status).toBe(200);
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function expectRefused(token: string, description?: RegExp) {
  const r = await login(t, token);
  expect(r.status).toBe(400);
  expect(r.body.error).toBe("invalid_grant");
  expect(typeof r.body.error_description).toBe("string");
  if (description) expect(r.body.error_description).toMatch(description);
  return r;
}

const now = () => Math.floor(Date.now() / 1000);

describe("okta/login refuses forged and unfit ID tokens (invalid_grant)", () => {
  it("wrong issuer, even when validly signed by that issuer", async () => {
    const other = await TestIdp.create();
    await expectRefused(await other.idToken({ sub: "00u-1", aud: CLIENT_ID }));
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: CLIENT_ID, iss: "https://evil.example/oauth2/default" }), /iss/);
  });

  it("wrong audience", async () => {
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: "0oa-someone-else" }), /aud/);
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: undefined }));
  });

  it("expired, and without exp", async () => {
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: CLIENT_ID, iat: now() - 7200, exp: now() - 3600 }), /expired/);
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: CLIENT_ID, exp: undefined }));
  });

  it("iat in the future, and without iat", async () => {
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: CLIENT_ID, iat: now() + 3600, exp: now() + 7200 }));
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: CLIENT_ID, iat: undefined }));
  });

  it("without sub", async () => {
    await expectRefused(await idp.idToken({ aud: CLIENT_ID, preferred_username: "nosub" }));
  });

  it("signed by another key under the published kid", async () => {
    const impostor = await TestIdp.newKey(idp.key.alg);
    await expectRefused(await idp.idToken({ sub: "00u-1", aud: CLIENT_ID }, { key: impostor, kid: idp.key.kid }));
  });

  it("HS256 (keyed with the public JWK) and alg none", async () => {
    const claims = { iss: idp.issuer, sub: "00u-1", aud: CLIENT_ID, iat: now(), exp: now() + 3600 };
    const secret = new TextEncoder().encode(JSON.stringify(idp.key.publicJwk));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: idp.key.kid }).sign(secret);
    await expectRefused(hs);
    const none = `${b64url({ alg: "none", kid: idp.key.kid })}.${b64url(claims)}.`;
    await expectRefused(none);
  });

  it("a tampered payload", async () => {
    const good = await idp.idToken({ sub: "00u-1", aud: CLIENT_ID, groups: [] });
    const [h, , s] = good.split(".");
    const forged = `${h}.${b64url({ iss: idp.issuer, sub: "00u-1", aud: CLIENT_ID, iat: now(), exp: now() + 3600, groups: ["admins"] })}.${s}`;
    await expectRefused(forged);
  });

  it("our own access token presented as an Okta ID token", async () => {
    const local = await callJson("POST", "/api/auth/login-form", new URLSearchParams({ username: "alice", password: PASSWORD }), { host: t.host });
    await expectRefused(local.body.access_token as string);
  });

  it("malformed tokens", async () => {
    for (const token of ["abc", "a.b.c", "a.b", "....", `${b64url("not json")}.${b64url({})}.sig`, "eyJ.eyJ.x", "é.é.é"]) {
      await expectRefused(token);
    }
  });

  it("an Okta ID token is not an access token here", async () => {
    const idToken = await idp.idToken({ sub: "00u-1", aud: CLIENT_ID });
    const r = await callJson("GET", "/api/auth/token-info", undefined, { host: t.host, headers: { authorization: `Bearer ${idToken}` } });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("invalid_token");
  });
});

describe("okta/login key rotation", () => {
  it("a login right after the IdP rotated its key succeeds: the unknown kid refetches the JWKS at once", async () => {
    const own = await TestIdp.create();
    const tt = await oktaTenant(own);
    expect((await login(tt, await own.idToken({ sub: "00u-r", aud: CLIENT_ID, preferred_username: "rot" }))).status).toBe(200);
    expect(own.fetches).toBe(1);
    const rotated = await TestIdp.newKey("ES256");
    own.published = [rotated, ...own.published];
    const token = await own.idToken({ sub: "00u-r", aud: CLIENT_ID, preferred_username: "rot" }, { key: rotated });
    const r = await login(tt, token);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(own.fetches).toBe(2);
    // The old key, still published, keeps working; the new one does not refetch again.
    expect((await login(tt, await own.idToken({ sub: "00u-r", aud: CLIENT_ID, preferred_username: "rot" }))).status).toBe(200);
    expect((await login(tt, token)).status).toBe(200);
    expect(own.fetches).toBe(2);
  });

  it("a flood of bogus kids, sequential and concurrent, costs at most one refetch per 5 s per issuer", async () => {
    const own = await TestIdp.create();
    const tt = await oktaTenant(own);
    expect((await login(tt, await own.idToken({ sub: "00u-s", aud: CLIENT_ID, preferred_username: "flood" }))).status).toBe(200);
    expect(own.fetches).toBe(1);
    const stranger = await TestIdp.newKey("ES256");
    const bogus = (i: number) => own.idToken({ sub: "00u-s", aud: CLIENT_ID }, { key: stranger, kid: `bogus-${i}` });
    // 20 concurrent logins with 20 different unknown kids: one refetch between them.
    const first = await Promise.all(Array.from({ length: 20 }, async (_, i) => login(tt, await bogus(i))));
    for (const r of first) {
      expect(r.status).toBe(400);
      expect(r.body.error_description).toMatch(/unknown key/);
    }
    expect(own.fetches).toBe(2);
    // More within the interval: none.
    for (let i = 20; i < 30; i++) expect((await login(tt, await bogus(i))).status).toBe(400);
    expect(own.fetches).toBe(2);
    // After the interval (5 s), one more refetch for the next flood, and again no more.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() + REFETCH_MS + 100);
    const second = await Promise.all(Array.from({ length: 10 }, async (_, i) => login(tt, await bogus(100 + i))));
    expect(second.every((r) => r.status === 400)).toBe(true);
    expect(own.fetches).toBe(3);
    // A genuine token still logs in throughout.
    expect((await login(tt, await own.idToken({ sub: "00u-s", aud: CLIENT_ID, preferred_username: "flood" }))).status).toBe(200);
    expect(own.fetches).toBe(3);
  });

  it("the interval is per issuer: one issuer's flood does not delay another's rotation", async () => {
    const a = await TestIdp.create();
    const b = await TestIdp.create();
    const ta = await oktaTenant(a);
    const tb = await oktaTenant(b);
    expect((await login(ta, await a.idToken({ sub: "00u-a", aud: CLIENT_ID, preferred_username: "a" }))).status).toBe(200);
    expect((await login(tb, await b.idToken({ sub: "00u-b", aud: CLIENT_ID, preferred_username: "b" }))).status).toBe(200);
    const stranger = await TestIdp.newKey("ES256");
    expect((await login(ta, await a.idToken({ sub: "00u-a", aud: CLIENT_ID }, { key: stranger }))).status).toBe(400);
    expect(a.fetches).toBe(2);
    const rotated = await TestIdp.newKey("ES256");
    b.published = [rotated, ...b.published];
    expect((await login(tb, await b.idToken({ sub: "00u-b", aud: CLIENT_ID, preferred_username: "b" }, { key: rotated }))).status).toBe(200);
    expect(b.fetches).toBe(2);
  });
});

describe("okta/login with the IdP's keys unavailable", () => {
  for (const mode of ["503", "html", "network"] as const) {
    it(`answers 502 temporarily_unavailable when the JWKS is ${mode}`, async () => {
      const own = await TestIdp.create();
      own.mode = mode;
      const tt = await oktaTenant(own);
      const r = await login(tt, await own.idToken({ sub: "00u-d", aud: CLIENT_ID }));
      expect(r.status).toBe(502);
      expect(r.body).toEqual({ error: "temporarily_unavailable", error_description: expect.stringMatching(/identity provider keys/) });
      // No user was created.
      expect(await services().users.byExternalSubject(tt.tenant.id, `${own.issuer}|00u-d`)).toBeNull();
    });
  }
});

describe("okta/login while the IdP is down or slow", () => {
  it("gives up on a JWKS that never answers after 5 s with 502, and does not retry at once", async () => {
    const own = await TestIdp.create();
    own.mode = "hang";
    const tt = await oktaTenant(own);
    const token = await own.idToken({ sub: "00u-h", aud: CLIENT_ID });
    const started = Date.now();
    const r = await login(tt, token);
    expect(r.status).toBe(502);
    expect(r.body.error).toBe("temporarily_unavailable");
    expect(Date.now() - started).toBeLessThan(15_000);
    // Within the back-off, the next login answers at once without contacting the IdP.
    const again = await login(tt, token);
    expect(again.status).toBe(502);
    expect(own.fetches).toBe(1);
  });

  it("keeps verifying with the keys it holds when a refresh of the JWKS fails", async () => {
    const own = await TestIdp.create();
    const tt = await oktaTenant(own);
    expect((await login(tt, await own.idToken({ sub: "00u-st", aud: CLIENT_ID, preferred_username: "stale" }))).status).toBe(200);
    own.mode = "503";
    // Past the cache lifetime (10 min) a refetch is due; it fails, the held keys still verify.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() + 11 * 60_000);
    const r = await login(tt, await own.idToken({ sub: "00u-st", aud: CLIENT_ID, preferred_username: "stale" }));
    expect(r.status).toBe(200);
    expect(own.fetches).toBe(2);
    // A key it does not hold is still refused.
    const stranger = await TestIdp.newKey("ES256");
    const refused = await login(tt, await own.idToken({ sub: "00u-st", aud: CLIENT_ID }, { key: stranger }));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_grant");
  }, 30_000);
});

describe("okta/login refuses tokens on their face without asking the IdP", () => {
  it("alg none and HS256 answer invalid_grant even while the JWKS is down, and fetch nothing", async () => {
    const own = await TestIdp.create();
    own.mode = "503";
    const tt = await oktaTenant(own);
    const claims = { iss: own.issuer, sub: "00u-f", aud: CLIENT_ID, iat: now(), exp: now() + 3600 };
    const none = `${b64url({ alg: "none" })}.${b64url(claims)}.`;
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: own.key.kid }).sign(new TextEncoder().encode("k".repeat(32)));
    for (const token of [none, hs, `${b64url({ kid: own.key.kid })}.${b64url(claims)}.sig`]) {
      const r = await login(tt, token);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: "invalid_grant", error_description: "ID token algorithm not allowed" });
    }
    expect(own.fetches).toBe(0);
  });
});

describe("okta/login hostile bodies", () => {
  it("wrong types and missing idToken answer invalid_request", async () => {
    for (const body of [{ idToken: 123 }, { idToken: null }, { idToken: ["a.b.c"] }, { idToken: { a: 1 } }, { idToken: "" }, {}, [], "token", 42, null]) {
      const r = await callJson("POST", "/api/auth/okta/login", JSON.stringify(body), { host: t.host, headers: { "content-type": "application/json" } });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe("invalid_request");
    }
  });

  it("malformed JSON answers 400 and a wrong content type 415, both invalid_request", async () => {
    for (const [body, type, status] of [
      ["{", "application/json", 400],
      ['{"idToken": "a.b.c"', "application/json", 400],
      ["idToken=a.b.c", "application/x-www-form-urlencoded", 415],
      ["idToken=a.b.c", "text/plain", 415],
    ] as const) {
      const r = await callJson("POST", "/api/auth/okta/login", body, { host: t.host, headers: { "content-type": type } });
      expect(r.status).toBe(status);
      expect(r.body.error).toBe("invalid_request");
    }
    const none = await callJson("POST", "/api/auth/okta/login", undefined, { host: t.host });
    expect(none.status).toBe(400);
  });

  it("an oversized idToken and a 1 MB body", async () => {
    const long = await callJson("POST", "/api/auth/okta/login", { idToken: "a".repeat(20_000) }, { host: t.host });
    expect(long.status).toBe(400);
    const big = await call("POST", "/api/auth/okta/login", JSON.stringify({ idToken: "a".repeat(1024 * 1024) }), { host: t.host, headers: { "content-type": "application/json" } });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: "invalid_request", error_description: "request body too large" });
  });
});
