import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../../../test/helpers/http";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { issueSession } from "../../core/sessions/tokens";
import { signJwt } from "../../crypto/jwt";
import { scopeOf } from "../userpool/testing";
import { codeTokens, createOidcClient, issueCode, issuerOf, postForm, REDIRECT, token, userinfoGet, VERIFIER, withAuth, type Json, type TestClient } from "./testing";

let t: TestTenant;
let other: TestTenant;
beforeAll(async () => {
  t = await createTestTenant({ lockout: { userThreshold: 3, ipThreshold: 1000, windowSeconds: 600, baseDelaySeconds: 60, maxDelaySeconds: 60 } });
  other = await createTestTenant();
});

const b64 = (s: string) => btoa(s).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
const basic = (id: string, secret: string) => ({ authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}` });
const codeForm = (code: string, over: Record<string, string> = {}) => ({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: VERIFIER, ...over });

describe("client authentication failures (RFC 6749 §5.2 invalid_client)", () => {
  it("a wrong secret, an unknown client, and another tenant's client all answer the same 401, with a Basic challenge", async () => {
    const client = await createOidcClient(t);
    const foreign = await createOidcClient(other);
    const { code } = await issueCode(t, client);
    const ip = "198.51.100.60";
    const answers = await Promise.all([
      postForm(t, "/token", new URLSearchParams(codeForm(code)), basic(client.clientId, "wrong-secret"), { ip }),
      postForm(t, "/token", new URLSearchParams(codeForm(code)), basic("no-such-client", "whatever"), { ip }),
      postForm(t, "/token", new URLSearchParams(codeForm(code)), basic(foreign.clientId, foreign.secret!), { ip }),
    ]);
    for (const r of answers) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: "invalid_client", error_description: "client authentication failed" });
      expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
      expect(r.headers.get("cache-control")).toBe("no-store");
    }
    // The code was not spent by the failed attempts.
    expect((await token(t, client, codeForm(code))).status).toBe(200);
  });

  it("a method other than the registered one is invalid_client; two methods at once is invalid_request", async () => {
    const basicClient = await createOidcClient(t);
    const post = await postForm(t, "/token", new URLSearchParams({ grant_type: "client_credentials", client_id: basicClient.clientId, client_secret: basicClient.secret! }));
    expect(post.status).toBe(401);
    expect(post.headers.get("www-authenticate")).toBeNull();
    const none = await postForm(t, "/token", new URLSearchParams({ grant_type: "client_credentials", client_id: basicClient.clientId }));
    expect(none.body.error).toBe("invalid_client");
    const both = await postForm(t, "/token", new URLSearchParams({ grant_type: "client_credentials", client_secret: basicClient.secret! }), basic(basicClient.clientId, basicClient.secret!));
    expect(both.status).toBe(400);
    expect(both.body.error).toBe("invalid_request");
    const mismatch = await postForm(t, "/token", new URLSearchParams({ grant_type: "client_credentials", client_id: "someone-else" }), basic(basicClient.clientId, basicClient.secret!));
    expect(mismatch.body.error).toBe("invalid_client");
  });

  it("malformed Basic headers are invalid_client, never a 5xx", async () => {
    for (const h of ["Basic", "Basic !!!", `Basic ${btoa("no-colon")}`, `Basic ${btoa(":")}`, `Basic ${btoa("a:%zz")}`]) {
      const r = await postForm(t, "/token", new URLSearchParams({ grant_type: "client_credentials" }), { authorization: h });
      expect(r.status, h).toBe(401);
      expect(r.body.error).toBe("invalid_client");
    }
  });

  it("wrong secrets lock the client id out (as core/clients), even for the right secret, with Retry-After", async () => {
    const client = await createOidcClient(t, { grantTypes: ["client_credentials"] });
    const ip = "198.51.100.61";
    for (let i = 0; i < 3; i++) await postForm(t, "/token", new URLSearchParams({ grant_type: "client_credentials" }), basic(client.clientId, `wrong-${i}`), { ip });
    const r = await token(t, client, { grant_type: "client_credentials" }, { ip });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBeTruthy();
  });

  describe("private_key_jwt (RFC 7523 §3)", () => {
    // Its own tenant, with the default lockout: these failures must not lock the others' clients.
    let client: TestClient;
    let p: TestTenant;
    beforeAll(async () => {
      p = await createTestTenant();
      client = await createOidcClient(p, { method: "private_key_jwt", grantTypes: ["client_credentials"] });
    });
    const withAssertion = (assertion: string) => postForm(p, "/token", new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion }));

    it("a jti is single use", async () => {
      const a = await client.assertion!();
      expect((await withAssertion(a)).status).toBe(200);
      const again = await withAssertion(a);
      expect(again.status).toBe(401);
      expect(again.body.error).toBe("invalid_client");
    });

    it("wrong aud, wrong iss, expired, far-future exp, no jti, alg none, another key: all invalid_client", async () => {
      const now = Math.floor(Date.now() / 1000);
      const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
      void (await exportJWK(publicKey));
      const stranger = await new SignJWT({ iss: client.clientId, sub: client.clientId, aud: `${issuerOf(p)}/token`, jti: "x1", exp: now + 60 }).setProtectedHeader({ alg: "ES256", kid: `k-${client.clientId}` }).sign(privateKey);
      const none = `${b64(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64(JSON.stringify({ iss: client.clientId, sub: client.clientId, aud: `${issuerOf(p)}/token`, jti: "n1", exp: now + 60 }))}.`;
      const cases = [
        await client.assertion!({ aud: "https://elsewhere.example/token" }),
        await client.assertion!({ aud: `http://${other.host}/oidc/${other.community.id}/token` }),
        await client.assertion!({ sub: "someone-else" }),
        await client.assertion!({ exp: now - 120, iat: now - 180 }),
        await client.assertion!({ exp: now + 3600 }),
        await client.assertion!({ jti: undefined }),
        none,
        stranger,
        "not.a.jwt",
      ];
      for (const a of cases) {
        const r = await withAssertion(a);
        expect(r.status, a.slice(0, 40)).toBe(401);
        expect(r.body.error).toBe("invalid_client");
      }
    });

    it("an assertion without its type is invalid_request", async () => {
      const r = await postForm(p, "/token", new URLSearchParams({ grant_type: "client_credentials", client_id: client.clientId, client_assertion: await client.assertion!() }));
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_request");
    });
  });
});

describe("authorization code attacks", () => {
  it("PKCE downgrade: a missing or wrong verifier, a verifier for a code without a challenge", async () => {
    const client = await createOidcClient(t);
    const missing = await issueCode(t, client);
    const r1 = await token(t, client, { grant_type: "authorization_code", code: missing.code, redirect_uri: REDIRECT });
    expect(r1.body.error).toBe("invalid_grant");
    const wrong = await issueCode(t, client);
    expect((await token(t, client, codeForm(wrong.code, { code_verifier: VERIFIER.replace(/.$/, "A") }))).body.error).toBe("invalid_grant");
    // The challenge itself as the verifier (plain).
    expect((await token(t, client, codeForm((await issueCode(t, client)).code, { code_verifier: (await issueCode(t, client)).grant.codeChallenge! }))).body.error).toBe("invalid_grant");
    const lax = await createOidcClient(t, { requirePkce: false });
    const noChallenge = await issueCode(t, lax, { pkce: false });
    expect((await token(t, lax, codeForm(noChallenge.code))).body.error).toBe("invalid_grant");
    // A client that requires PKCE never redeems a code issued without it.
    const strict = await issueCode(t, client, { pkce: false });
    expect((await token(t, client, { grant_type: "authorization_code", code: strict.code, redirect_uri: REDIRECT })).body.error).toBe("invalid_grant");
  });

  it("a public client's code without PKCE is refused even without a verifier", async () => {
    const pub = await createOidcClient(t, { method: "none" });
    const { code } = await issueCode(t, pub, { pkce: false });
    expect((await token(t, pub, { grant_type: "authorization_code", code, redirect_uri: REDIRECT })).body.error).toBe("invalid_grant");
  });

  it("redirect_uri must repeat the authorization request's exactly", async () => {
    const client = await createOidcClient(t);
    for (const uri of [`${REDIRECT}/`, REDIRECT.toUpperCase(), `${REDIRECT}?x=1`, "https://evil.example/cb"]) {
      const { code } = await issueCode(t, client);
      const r = await token(t, client, codeForm(code, { redirect_uri: uri }));
      expect(r.body.error, uri).toBe("invalid_grant");
    }
    const { code } = await issueCode(t, client);
    expect((await token(t, client, { grant_type: "authorization_code", code, code_verifier: VERIFIER })).body.error).toBe("invalid_request");
  });

  it("another client's code is invalid_grant and stays usable by its own client", async () => {
    const owner = await createOidcClient(t);
    const thief = await createOidcClient(t);
    const { code } = await issueCode(t, owner);
    expect((await token(t, thief, codeForm(code))).body.error).toBe("invalid_grant");
    expect((await token(t, owner, codeForm(code))).status).toBe(200);
  });

  it("another community's code, and a code at another tenant's issuer, are invalid", async () => {
    const mine = await createOidcClient(t);
    const foreign = await createOidcClient(other, { grantTypes: ["authorization_code"] });
    const { code } = await issueCode(t, mine);
    // The other tenant's client, with its own valid credentials, at its own issuer: not its code.
    const r = await postForm(other, "/token", new URLSearchParams(codeForm(code)), basic(foreign.clientId, foreign.secret!));
    expect(r.body.error).toBe("invalid_grant");
    // And this tenant's client addressed at the other tenant's issuer: unknown client there.
    const r2 = await postForm(other, "/token", new URLSearchParams(codeForm(code)), basic(mine.clientId, mine.secret!));
    expect(r2.body.error).toBe("invalid_client");
    expect((await token(t, mine, codeForm(code))).status).toBe(200);
  });

  it("a disabled user's code is invalid_grant", async () => {
    const u = await services().users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: `dis-${Date.now()}`, roles: ["user"] });
    const client = await createOidcClient(t);
    const { code } = await issueCode(t, client, { uid: u.uid });
    await services().users.update(t.tenant.id, u.uid, { disabled: true });
    expect((await token(t, client, codeForm(code))).body.error).toBe("invalid_grant");
  });

  it("garbage codes are invalid_grant, never a 5xx", async () => {
    const client = await createOidcClient(t);
    for (const code of ["x", "a".repeat(127), "é".repeat(40), "../../", "a".repeat(5000)]) {
      const r = await token(t, client, codeForm(code));
      expect(r.status, code.slice(0, 10)).toBe(400);
      expect(r.body.error).toBe("invalid_grant");
    }
  });
});

describe("refresh token attacks", () => {
  it("another client's refresh token, and another surface's, are invalid_grant", async () => {
    const owner = await createOidcClient(t);
    const thief = await createOidcClient(t);
    const { body } = await codeTokens(t, owner);
    expect((await token(t, thief, { grant_type: "refresh_token", refresh_token: String(body.refresh_token) })).body.error).toBe("invalid_grant");
    // A userpool session's refresh token (core/sessions) is not a provider token.
    const scope = await scopeOf(t);
    const s = await issueSession(services(), scope, { sub: t.alice.uid, communityId: t.community.id, username: t.alice.username, roles: [] }, { refresh: true, idToken: false });
    expect((await token(t, owner, { grant_type: "refresh_token", refresh_token: s.refreshToken! })).body.error).toBe("invalid_grant");
    // And ours is not a userpool refresh token.
    const up = await callJson<Json>("POST", "/v1/token-refresh", { refresh_token: String(body.refresh_token), username: t.alice.username }, { host: t.host });
    expect(up.status).toBeGreaterThanOrEqual(400);
    expect(up.status).toBeLessThan(500);
  });
});

describe("refresh tokens held by the authority (core/sessions/refresh-tokens.ts, held shape)", () => {
  const form = async (client: TestClient, f: Record<string, string>) => withAuth(client, f);
  it("name the subject's authority; a refusal (another client, a wider scope) spends nothing, even with rotation", async () => {
    const owner = await createOidcClient(t, { rotation: true });
    const thief = await createOidcClient(t, { rotation: true });
    const { body } = await codeTokens(t, owner);
    const rt = String(body.refresh_token);
    expect(rt).toMatch(/^[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$/);
    expect(rt.slice(0, 64)).toBe(services().authority.authorityId(t.tenant.id, t.alice.uid));
    expect((await token(t, thief, { grant_type: "refresh_token", refresh_token: rt })).body.error).toBe("invalid_grant");
    const wide = await token(t, owner, { grant_type: "refresh_token", refresh_token: rt, scope: "openid phone" });
    expect(wide.body.error).toBe("invalid_scope");
    // Another client's revocation and introspection neither end nor reveal it (RFC 7009 §2.1, RFC 7662 §2.2).
    const rev = await form(thief, { token: rt, token_type_hint: "refresh_token" });
    expect((await postForm(t, "/revoke", rev.body, rev.headers)).status).toBe(200);
    const peek = await form(thief, { token: rt, token_type_hint: "refresh_token" });
    expect((await postForm(t, "/introspect", peek.body, peek.headers)).body).toEqual({ active: false });
    // The owner's token was not rotated, reused or revoked by any of that.
    const own = await form(owner, { token: rt, token_type_hint: "refresh_token" });
    expect((await postForm(t, "/introspect", own.body, own.headers)).body).toMatchObject({ active: true, token_type: "refresh_token", client_id: owner.clientId, sub: t.alice.uid });
    const ok = await token(t, owner, { grant_type: "refresh_token", refresh_token: rt, scope: "openid" });
    expect(ok.status).toBe(200);
    expect(String(ok.body.refresh_token).slice(0, 65)).toBe(rt.slice(0, 65));
    // The owner's revocation ends it.
    const next = String(ok.body.refresh_token);
    const end = await form(owner, { token: next });
    expect((await postForm(t, "/revoke", end.body, end.headers)).status).toBe(200);
    expect((await token(t, owner, { grant_type: "refresh_token", refresh_token: next })).body.error).toBe("invalid_grant");
  });

  it("another tenant's community cannot redeem it; a forged authority id is invalid_grant, never a 5xx", async () => {
    const owner = await createOidcClient(t);
    const foreign = await createOidcClient(other);
    const { body } = await codeTokens(t, owner);
    const rt = String(body.refresh_token);
    const r = await token(other, foreign, { grant_type: "refresh_token", refresh_token: rt });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_grant");
    for (const forged of [`${"0".repeat(64)}${rt.slice(64)}`, `${"ab".repeat(32)}${rt.slice(64)}`]) {
      const f = await token(t, owner, { grant_type: "refresh_token", refresh_token: forged });
      expect(f.status).toBe(400);
      expect(f.body.error).toBe("invalid_grant");
    }
    expect((await token(t, owner, { grant_type: "refresh_token", refresh_token: rt })).status).toBe(200);
  });
});

describe("wire format (RFC 6749 §3.2)", () => {
  it("JSON instead of a form, a repeated parameter, no grant_type, an unknown grant: 400 in the OAuth shape", async () => {
    const client = await createOidcClient(t, { grantTypes: ["client_credentials"] });
    const json = await callJson<Json>("POST", `/oidc/${t.community.id}/token`, { grant_type: "client_credentials" }, { host: t.host, headers: basic(client.clientId, client.secret!) });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe("invalid_request");
    const dup = await postForm(t, "/token", "grant_type=client_credentials&grant_type=client_credentials", basic(client.clientId, client.secret!));
    expect(dup.body.error).toBe("invalid_request");
    const none = await postForm(t, "/token", "", basic(client.clientId, client.secret!));
    expect(none.body.error).toBe("invalid_request");
    const unknown = await postForm(t, "/token", "grant_type=password&username=a&password=b", basic(client.clientId, client.secret!));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("unsupported_grant_type");
  });

  it("an oversized body is 413 before anything is read", async () => {
    const r = await postForm(t, "/token", `grant_type=client_credentials&x=${"a".repeat(70_000)}`);
    expect(r.status).toBe(413);
    expect(r.body.error).toBe("invalid_request");
  });

  it("GET on the token endpoint is not a route", async () => {
    const r = await callJson<Json>("GET", `/oidc/${t.community.id}/token?grant_type=client_credentials`, undefined, { host: t.host });
    expect(r.status).toBe(404);
  });
});

describe("userinfo with hostile tokens (RFC 6750 §3)", () => {
  let good: string;
  beforeAll(async () => {
    const client = await createOidcClient(t);
    good = String((await codeTokens(t, client)).body.access_token);
  });

  it("no token: 401 with a bare Bearer challenge", async () => {
    const r = await callJson<Json>("GET", `/oidc/${t.community.id}/userinfo`, undefined, { host: t.host });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer realm="/);
  });

  it("forged, alg:none, tampered, an ID token, another community's, another surface's: 401 invalid_token", async () => {
    const [h, p] = good.split(".");
    const payload = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/"))) as Json;
    const tampered = `${h}.${b64(JSON.stringify({ ...payload, sub: t.admin.uid }))}.${good.split(".")[2]}`;
    const algNone = `${b64(JSON.stringify({ alg: "none", typ: "at+jwt" }))}.${p}.`;
    const otherClient = await createOidcClient(other);
    const foreign = String((await codeTokens(other, otherClient)).body.access_token);
    const client = await createOidcClient(t);
    const idToken = String((await codeTokens(t, client)).body.id_token);
    const scope = await scopeOf(t);
    const userpool = (await issueSession(services(), scope, { sub: t.alice.uid, communityId: t.community.id, username: t.alice.username, roles: [] }, { refresh: false, idToken: false })).accessToken;
    // Signed by our own key with the right issuer but the ID token's audience and typ.
    const wrongAud = await signJwt(services().keyring, { client_id: "x", scope: "openid", sid: crypto.randomUUID() }, { kind: "access", issuer: issuerOf(t), audience: "someone", subject: t.alice.uid, ttlSeconds: 60 });
    for (const tok of [tampered, algNone, foreign, idToken, userpool, wrongAud, "garbage"]) {
      const r = await userinfoGet(t, tok);
      expect(r.status, tok.slice(0, 30)).toBe(401);
      expect(r.body.error).toBe("invalid_token");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
    }
  });

  it("the same token at another community's userinfo is invalid", async () => {
    const r = await callJson<Json>("GET", `/oidc/${other.community.id}/userinfo`, undefined, { host: other.host, headers: { authorization: `Bearer ${good}` } });
    expect(r.status).toBe(401);
  });

  it("introspection needs client authentication", async () => {
    const r = await postForm(t, "/introspect", new URLSearchParams({ token: good }));
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("invalid_client");
    const client = await createOidcClient(t);
    const { body, headers } = await withAuth(client, {});
    expect((await postForm(t, "/introspect", body, headers)).body.error).toBe("invalid_request");
  });
});
