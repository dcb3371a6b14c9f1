import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { setOutboundFetch } from "../../http/services";
import { callJson } from "../../../test/helpers/http";
import { createTestTenant, services, type TestTenant } from "../../../test/helpers/tenant";
import { leftHalfHash } from "../../protocols/oidc/token-hashes";
import { sha256Hex } from "../../crypto/hash";
import { codeTokens, createOidcClient, issueCode, issuerOf, payloadOf, postForm, REDIRECT, token, userinfoGet, VERIFIER, withAuth, type Json } from "./testing";

let t: TestTenant;
beforeAll(async () => {
  t = await createTestTenant({ refreshGraceSeconds: 0 });
});

async function verifyWithJwks(jwt: string, audience: string) {
  const jwks = (await callJson<{ keys: Json[] }>("GET", `/oidc/${t.community.id}/jwks`, undefined, { host: t.host })).body;
  return (await jwtVerify(jwt, createLocalJWKSet(jwks as never), { issuer: issuerOf(t), audience })).payload as Json;
}

describe("authorization_code (RFC 6749 §4.1.3, OIDC Core §3.1.3)", () => {
  it("client_secret_basic: access, ID and refresh tokens; the ID token carries the session and the scopes' claims", async () => {
    const client = await createOidcClient(t);
    const { status, body, headers, grant } = await codeTokens(t, client);
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(body).toMatchObject({ token_type: "Bearer", scope: "openid profile email" });
    expect(typeof body.refresh_token).toBe("string");
    const id = await verifyWithJwks(String(body.id_token), client.clientId);
    expect(id).toMatchObject({
      sub: t.alice.uid,
      azp: client.clientId,
      nonce: grant.nonce,
      auth_time: grant.authTime,
      amr: ["pwd"],
      acr: grant.acr,
      sid: grant.ssoSessionId,
      email: t.alice.email,
      given_name: "Alice",
      preferred_username: t.alice.username,
    });
    expect(id.at_hash).toBe(await leftHalfHash(String(body.access_token)));
    const access = await verifyWithJwks(String(body.access_token), issuerOf(t));
    expect(access).toMatchObject({ sub: t.alice.uid, client_id: client.clientId, scope: "openid profile email", sid: grant.familyId });
    expect(payloadOf(String(body.access_token)).token_use).toBe("access");
  });

  it("an empty amr or acr is left out of the ID token, not sent empty", async () => {
    const client = await createOidcClient(t);
    const { body } = await codeTokens(t, client, { amr: [], acr: "" });
    const id = payloadOf(String(body.id_token));
    expect(id).not.toHaveProperty("amr");
    expect(id).not.toHaveProperty("acr");
    expect(typeof id.auth_time).toBe("number");
  });

  it("client_secret_post", async () => {
    const client = await createOidcClient(t, { method: "client_secret_post" });
    expect((await codeTokens(t, client)).status).toBe(200);
  });

  it("a public client (none) with PKCE", async () => {
    const client = await createOidcClient(t, { method: "none" });
    const r = await codeTokens(t, client);
    expect(r.status).toBe(200);
    expect(r.body.id_token).toBeTruthy();
  });

  it("private_key_jwt (RFC 7523 §2.2), with aud the token endpoint or the issuer", async () => {
    const client = await createOidcClient(t, { method: "private_key_jwt" });
    expect((await codeTokens(t, client)).status).toBe(200);
    const { code } = await issueCode(t, client);
    const body = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: VERIFIER, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await client.assertion!({ aud: issuerOf(t) }) });
    expect((await postForm(t, "/token", body)).status).toBe(200);
  });

  it("no refresh token for a client without the refresh_token grant", async () => {
    const client = await createOidcClient(t, { grantTypes: ["authorization_code"] });
    const r = await codeTokens(t, client);
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeUndefined();
  });

  it("a confidential client that does not require PKCE may redeem a code issued without it", async () => {
    const client = await createOidcClient(t, { requirePkce: false });
    const { code } = await issueCode(t, client, { pkce: false });
    expect((await token(t, client, { grant_type: "authorization_code", code, redirect_uri: REDIRECT })).status).toBe(200);
  });

  it("a replayed code answers invalid_grant and revokes what the first exchange issued (§4.1.2)", async () => {
    const client = await createOidcClient(t);
    const first = await codeTokens(t, client);
    expect(first.status).toBe(200);
    expect((await userinfoGet(t, String(first.body.access_token))).status).toBe(200);
    const again = await token(t, client, { grant_type: "authorization_code", code: first.code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_grant");
    expect((await userinfoGet(t, String(first.body.access_token))).status).toBe(401);
    const refresh = await token(t, client, { grant_type: "refresh_token", refresh_token: String(first.body.refresh_token) });
    expect(refresh.body.error).toBe("invalid_grant");
  });

  it("under 20 parallel exchanges exactly one succeeds, and the replays revoke its tokens", async () => {
    const client = await createOidcClient(t);
    const { code } = await issueCode(t, client);
    const form = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: VERIFIER };
    const all = await Promise.all(Array.from({ length: 20 }, () => token(t, client, form)));
    const ok = all.filter((r) => r.status === 200);
    expect(ok.length).toBe(1);
    expect(all.filter((r) => r.status === 400 && r.body.error === "invalid_grant").length).toBe(19);
    expect((await userinfoGet(t, String(ok[0]!.body.access_token))).status).toBe(401);
  });
});

describe("refresh_token (RFC 6749 §6, OIDC Core §12)", () => {
  it("without rotation: the same token refreshes again, with a new ID token keeping auth_time and no nonce", async () => {
    const client = await createOidcClient(t);
    const { body, grant } = await codeTokens(t, client);
    const rt = String(body.refresh_token);
    for (let i = 0; i < 2; i++) {
      const r = await token(t, client, { grant_type: "refresh_token", refresh_token: rt });
      expect(r.status).toBe(200);
      expect(r.body.refresh_token).toBeUndefined();
      const id = payloadOf(String(r.body.id_token));
      expect(id.auth_time).toBe(grant.authTime);
      expect(id.nonce).toBeUndefined();
      expect(id.sid).toBe(grant.ssoSessionId);
    }
  });

  it("with rotation: a successor each time; presenting a used one ends the family", async () => {
    const client = await createOidcClient(t, { rotation: true });
    const { body } = await codeTokens(t, client);
    const r1 = await token(t, client, { grant_type: "refresh_token", refresh_token: String(body.refresh_token) });
    expect(r1.status).toBe(200);
    const next = String(r1.body.refresh_token);
    expect(next).not.toBe(body.refresh_token);
    const reuse = await token(t, client, { grant_type: "refresh_token", refresh_token: String(body.refresh_token) });
    expect(reuse.body.error).toBe("invalid_grant");
    expect((await token(t, client, { grant_type: "refresh_token", refresh_token: next })).body.error).toBe("invalid_grant");
    expect((await userinfoGet(t, String(r1.body.access_token))).status).toBe(401);
  });

  it("a narrower scope may be asked for, a wider one is invalid_scope", async () => {
    const client = await createOidcClient(t);
    const { body } = await codeTokens(t, client);
    const narrow = await token(t, client, { grant_type: "refresh_token", refresh_token: String(body.refresh_token), scope: "openid email" });
    expect(narrow.status).toBe(200);
    expect(narrow.body.scope).toBe("openid email");
    expect(payloadOf(String(narrow.body.id_token)).given_name).toBeUndefined();
    const wide = await token(t, client, { grant_type: "refresh_token", refresh_token: String(body.refresh_token), scope: "openid phone" });
    expect(wide.status).toBe(400);
    expect(wide.body.error).toBe("invalid_scope");
  });

  it("a password change ends the provider's sessions too (they live under the user's authority)", async () => {
    const u = await services().users.create({ tenantId: t.tenant.id, communityId: t.community.id, username: `pw-${Date.now()}`, email: null, roles: ["user"] });
    const client = await createOidcClient(t);
    const { body } = await codeTokens(t, client, { uid: u.uid });
    await services().authority.revokeAll(t.tenant.id, u.uid, "password_changed");
    expect((await token(t, client, { grant_type: "refresh_token", refresh_token: String(body.refresh_token) })).body.error).toBe("invalid_grant");
    expect((await userinfoGet(t, String(body.access_token))).status).toBe(401);
  });
});

describe("client_credentials (RFC 6749 §4.4)", () => {
  it("a confidential client's own token: sub is the client, no refresh or ID token, revocable", async () => {
    const client = await createOidcClient(t, { grantTypes: ["client_credentials"], scope: "api:read api:write" });
    const r = await token(t, client, { grant_type: "client_credentials", scope: "api:read" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "Bearer", scope: "api:read" });
    expect(r.body.refresh_token).toBeUndefined();
    expect(r.body.id_token).toBeUndefined();
    const at = String(r.body.access_token);
    expect(payloadOf(at)).toMatchObject({ sub: client.clientId, client_id: client.clientId });
    // Not a userinfo token (no user, no openid).
    expect((await userinfoGet(t, at)).status).toBe(403);
    const intro = async () => postForm(t, "/introspect", (await withAuth(client, { token: at })).body, (await withAuth(client, {})).headers);
    expect((await intro()).body).toMatchObject({ active: true, sub: client.clientId, scope: "api:read" });
    const { body, headers } = await withAuth(client, { token: at });
    expect((await postForm(t, "/revoke", body, headers)).status).toBe(200);
    expect((await intro()).body).toEqual({ active: false });
  });

  it("a scope the client may not have is invalid_scope; openid is never a client's own", async () => {
    const client = await createOidcClient(t, { grantTypes: ["client_credentials"], scope: "api:read" });
    for (const scope of ["api:write", "openid", "api:read openid"]) {
      const r = await token(t, client, { grant_type: "client_credentials", scope });
      expect(r.status, scope).toBe(400);
      expect(r.body.error).toBe("invalid_scope");
    }
  });

  it("a client without the grant is unauthorized_client; a public client can never use it", async () => {
    const client = await createOidcClient(t);
    expect((await token(t, client, { grant_type: "client_credentials" })).body.error).toBe("unauthorized_client");
    const pub = await createOidcClient(t, { method: "none", grantTypes: ["authorization_code", "client_credentials"] });
    expect((await token(t, pub, { grant_type: "client_credentials" })).body.error).toBe("unauthorized_client");
  });
});

describe("private_key_jwt keys at the client's jwks_uri", () => {
  afterEach(() => setOutboundFetch(null));

  it("fetched over https, cached; an unreachable or non-https jwks_uri is invalid_client, never a 5xx", async () => {
    let fetches = 0;
    let keys: Json | null = null;
    const uri = `https://keys-${Date.now()}.rp.example/jwks.json`;
    setOutboundFetch(async (input) => {
      const url = new Request(input).url;
      if (url !== uri || !keys) return new Response("down", { status: 503 });
      fetches++;
      return Response.json(keys);
    });
    const client = await createOidcClient(t, { method: "private_key_jwt", grantTypes: ["client_credentials"], jwksUri: uri });
    keys = client.jwks!;
    expect((await token(t, client, { grant_type: "client_credentials" })).status).toBe(200);
    expect((await token(t, client, { grant_type: "client_credentials" })).status).toBe(200);
    expect(fetches).toBe(1);
    const down = await createOidcClient(t, { method: "private_key_jwt", grantTypes: ["client_credentials"], jwksUri: `https://down-${Date.now()}.rp.example/jwks.json` });
    const r = await token(t, down, { grant_type: "client_credentials" });
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("invalid_client");
    const plain = await createOidcClient(t, { method: "private_key_jwt", grantTypes: ["client_credentials"], jwksUri: uri.replace("https:", "http:") });
    expect((await token(t, plain, { grant_type: "client_credentials" })).status).toBe(401);
  });
});

describe("private_key_jwt: a client that rotates the keys at its jwks_uri", () => {
  afterEach(() => setOutboundFetch(null));

  it("an assertion signed by a key the cached set lacks refetches once (at most every 10 s); invented kids do not", async () => {
    const uri = `https://rotating-${Date.now()}.rp.example/jwks.json`;
    let served: Json = { keys: [] };
    let fetches = 0;
    setOutboundFetch(async (input) => {
      if (new Request(input).url !== uri) return new Response("no", { status: 404 });
      fetches++;
      return Response.json(served);
    });
    const client = await createOidcClient(t, { method: "private_key_jwt", grantTypes: ["client_credentials"], jwksUri: uri });
    served = client.jwks!;
    expect((await token(t, client, { grant_type: "client_credentials" })).status).toBe(200);
    expect(fetches).toBe(1);
    // The client publishes a new key and signs with it.
    const next = await generateKeyPair("ES256", { extractable: true });
    const kid = `next-${client.clientId}`;
    served = { keys: [...(client.jwks!.keys as Json[]), { ...(await exportJWK(next.publicKey)), kid, alg: "ES256" }] };
    const signed = async (k: string) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: client.clientId, sub: client.clientId, aud: `${issuerOf(t)}/token`, jti: crypto.randomUUID(), iat: now, exp: now + 60 }).setProtectedHeader({ alg: "ES256", kid: k }).sign(next.privateKey);
    };
    const send = async (k: string) => postForm(t, "/token", new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await signed(k) }));
    // Within 10 s of the last fetch: no refetch, refused.
    expect((await send(kid)).status).toBe(401);
    expect(fetches).toBe(1);
    await new Promise((r) => setTimeout(r, 10_200));
    expect((await send(kid)).status).toBe(200);
    expect(fetches).toBe(2);
    // A flood of invented kids right after costs the client's server nothing.
    for (let i = 0; i < 3; i++) expect((await send(`invented-${i}`)).status).toBe(401);
    expect(fetches).toBe(2);
  });
});

describe("single use under concurrency, and expiry", () => {
  it("parallel refreshes of one rotating token inside the grace window all get the same successor", async () => {
    const g = await createTestTenant();
    const client = await createOidcClient(g, { rotation: true });
    const { body } = await codeTokens(g, client);
    const all = await Promise.all(Array.from({ length: 8 }, () => token(g, client, { grant_type: "refresh_token", refresh_token: String(body.refresh_token) })));
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(all.map((r) => r.body.refresh_token)).size).toBe(1);
    expect((await token(g, client, { grant_type: "refresh_token", refresh_token: String(all[0]!.body.refresh_token) })).status).toBe(200);
  });

  it("one private_key_jwt assertion sent 10 times at once authenticates exactly once", async () => {
    const g = await createTestTenant();
    const client = await createOidcClient(g, { method: "private_key_jwt", grantTypes: ["client_credentials"] });
    const assertion = await client.assertion!();
    const form = new URLSearchParams({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion });
    const all = await Promise.all(Array.from({ length: 10 }, () => postForm(g, "/token", form)));
    expect(all.filter((r) => r.status === 200).length).toBe(1);
    expect(all.filter((r) => r.status === 401 && r.body.error === "invalid_client").length).toBe(9);
  });

  it("a code past its lifetime is invalid_grant", async () => {
    const client = await createOidcClient(t);
    const { code, grant } = await issueCode(t, client);
    // The stored record as codes.ts keeps it, with its expiry moved into the past (the
    // lifetime is a 60 s constant; waiting for it would make this test a minute long).
    await services().secrets.put("opcode", await sha256Hex(code), { grant: { ...grant, issuedAt: Date.now() - 61_000 }, expiresAt: Date.now() - 1000 }, 600);
    const r = await token(t, client, { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_grant");
  });
});
