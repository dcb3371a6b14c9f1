import { describe, expect, it } from "vitest";
import { authorizationResponseUrl, parseAuthorizationRequest, type AuthorizeClient } from "./authorization-request";

const client: AuthorizeClient = { clientId: "app", redirectUris: ["https://app.example/cb", "http://127.0.0.1/cb"], requirePkce: true, allowedScopes: null };
const supported = new Set(["openid", "profile", "email", "offline_access"]);
const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

function req(over: Record<string, string | string[] | null> = {}): URLSearchParams {
  const base: Record<string, string | string[] | null> = {
    client_id: "app",
    redirect_uri: "https://app.example/cb",
    response_type: "code",
    scope: "openid profile",
    state: "st",
    nonce: "n",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...over,
  };
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(base)) {
    if (v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
  }
  return p;
}

describe("authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1)", () => {
  it("accepts a code + PKCE request and keeps what the login needs", () => {
    const r = parseAuthorizationRequest(req({ prompt: "login consent", max_age: "300", login_hint: "alice", acr_values: "urn:a urn:b" }), client, supported);
    expect(r).toEqual({
      ok: true,
      request: {
        clientId: "app",
        redirectUri: "https://app.example/cb",
        scopes: ["openid", "profile"],
        state: "st",
        nonce: "n",
        codeChallenge: challenge,
        prompt: ["login", "consent"],
        maxAge: 300,
        loginHint: "alice",
        acrValues: ["urn:a", "urn:b"],
      },
    });
  });

  it("accepts a loopback redirect on any port", () => {
    const r = parseAuthorizationRequest(req({ redirect_uri: "http://127.0.0.1:49152/cb" }), client, supported);
    expect(r.ok && r.request.redirectUri).toBe("http://127.0.0.1:49152/cb");
  });

  describe("errors shown to the user, never redirected (no open redirect)", () => {
    it.each([
      ["no client_id", { client_id: null }, "invalid_request"],
      ["two client_ids", { client_id: ["app", "app"] }, "invalid_request"],
      ["no redirect_uri", { redirect_uri: null }, "invalid_redirect_uri"],
      ["two redirect_uris", { redirect_uri: ["https://app.example/cb", "https://evil.example/"] }, "invalid_redirect_uri"],
      ["an unregistered redirect_uri", { redirect_uri: "https://evil.example/cb" }, "invalid_redirect_uri"],
      ["a prefix-extended redirect_uri", { redirect_uri: "https://app.example/cb/../../evil" }, "invalid_redirect_uri"],
      // Even when something else is wrong too, the redirect URI is checked first.
      ["a bad redirect_uri with a bad response_type", { redirect_uri: "https://evil.example/cb", response_type: "token" }, "invalid_redirect_uri"],
    ])("%s", (_what, over, error) => {
      const r = parseAuthorizationRequest(req(over as Record<string, string | string[] | null>), client, supported);
      expect(r).toMatchObject({ ok: false, redirect: false, error });
    });

    it("an unknown client, or a client that is not the one named", () => {
      expect(parseAuthorizationRequest(req(), null, supported)).toMatchObject({ ok: false, redirect: false, error: "invalid_client" });
      expect(parseAuthorizationRequest(req({ client_id: "other" }), client, supported)).toMatchObject({ ok: false, redirect: false, error: "invalid_client" });
    });
  });

  describe("errors sent back to the verified redirect URI, with state", () => {
    it.each([
      ["implicit flow", { response_type: "token" }, "unsupported_response_type"],
      ["hybrid flow", { response_type: "code id_token" }, "unsupported_response_type"],
      ["no response_type", { response_type: null }, "invalid_request"],
      ["no openid scope", { scope: "profile" }, "invalid_scope"],
      ["an unknown scope", { scope: "openid admin" }, "invalid_scope"],
      ["no PKCE challenge", { code_challenge: null, code_challenge_method: null }, "invalid_request"],
      ["PKCE plain (downgrade)", { code_challenge_method: "plain" }, "invalid_request"],
      ["PKCE without a method (defaults to plain)", { code_challenge_method: null }, "invalid_request"],
      ["a challenge that is not S256-shaped", { code_challenge: "short" }, "invalid_request"],
      ["prompt none with login", { prompt: "none login" }, "invalid_request"],
      ["an unknown prompt", { prompt: "always" }, "invalid_request"],
      ["a negative max_age", { max_age: "-1" }, "invalid_request"],
      ["a max_age that is not a number", { max_age: "1e3" }, "invalid_request"],
      ["a duplicated scope parameter", { scope: ["openid", "openid profile"] }, "invalid_request"],
      ["form_post", { response_mode: "form_post" }, "invalid_request"],
      ["a request object", { request: "eyJ..." }, "request_not_supported"],
      ["a request_uri", { request_uri: "https://x/r" }, "request_uri_not_supported"],
      ["an oversized parameter", { login_hint: "x".repeat(3000) }, "invalid_request"],
    ])("%s", (_what, over, error) => {
      const r = parseAuthorizationRequest(req(over as Record<string, string | string[] | null>), client, supported);
      expect(r).toEqual(expect.objectContaining({ ok: false, redirect: true, redirectUri: "https://app.example/cb", state: "st", error }));
    });

    it("a duplicated state is not echoed", () => {
      const r = parseAuthorizationRequest(req({ state: ["a", "b"] }), client, supported);
      expect(r).toMatchObject({ ok: false, redirect: true, error: "invalid_request" });
      expect(r).not.toHaveProperty("state");
    });

    it("a scope the client may not ask for", () => {
      const narrow = { ...client, allowedScopes: ["openid"] };
      expect(parseAuthorizationRequest(req({ scope: "openid email" }), narrow, supported)).toMatchObject({ redirect: true, error: "invalid_scope" });
    });
  });

  it("a confidential client that does not require PKCE may omit it, but never send plain", () => {
    const lax = { ...client, requirePkce: false };
    expect(parseAuthorizationRequest(req({ code_challenge: null, code_challenge_method: null }), lax, supported).ok).toBe(true);
    expect(parseAuthorizationRequest(req({ code_challenge_method: "plain" }), lax, supported)).toMatchObject({ error: "invalid_request" });
  });
});

describe("authorization response URL (RFC 6749 §4.1.2, RFC 9207)", () => {
  it("appends code, state and iss, keeping the redirect URI's own query", () => {
    expect(authorizationResponseUrl("https://app.example/cb", { code: "c", state: "s&x", iss: "https://idp.example/oidc/c1" })).toBe(
      "https://app.example/cb?code=c&state=s%26x&iss=https%3A%2F%2Fidp.example%2Foidc%2Fc1",
    );
    expect(authorizationResponseUrl("https://app.example/cb?tenant=1", { code: "c", state: undefined })).toBe("https://app.example/cb?tenant=1&code=c");
  });
});
