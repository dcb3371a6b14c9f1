import { describe, expect, it } from "vitest";
import { matchRedirectUri, redirectUriMatches, redirectUriProblem } from "./redirect-uri";

describe("redirect URI matching (RFC 6749 §3.1.2, RFC 9700 §4.1.3, RFC 8252 §7.3)", () => {
  const reg = "https://app.example.com/cb";
  it.each([
    ["the registered string itself", reg, true],
    ["a prefix of it", "https://app.example.com/c", false],
    ["a path suffix", "https://app.example.com/cb/evil", false],
    ["another path segment", "https://app.example.com/cb/../cb", false],
    ["a different case in the host", "https://APP.example.com/cb", false],
    ["a different case in the path", "https://app.example.com/CB", false],
    ["a trailing slash", "https://app.example.com/cb/", false],
    ["a fragment", "https://app.example.com/cb#x", false],
    ["an added query", "https://app.example.com/cb?x=1", false],
    ["userinfo", "https://evil@app.example.com/cb", false],
    ["userinfo spoofing the host", "https://app.example.com@evil.example/cb", false],
    ["an explicit default port", "https://app.example.com:443/cb", false],
    ["another port", "https://app.example.com:8443/cb", false],
    ["http instead of https", "http://app.example.com/cb", false],
    ["a subdomain", "https://evil.app.example.com/cb", false],
    ["percent-encoding", "https://app.example.com/%63b", false],
  ])("%s: %s", (_what, requested, ok) => {
    expect(redirectUriMatches(reg, requested)).toBe(ok);
  });

  it("allows any port on a loopback IP literal, and nothing else about it may differ", () => {
    const loop = "http://127.0.0.1/callback";
    expect(redirectUriMatches(loop, "http://127.0.0.1:53127/callback")).toBe(true);
    expect(redirectUriMatches(loop, "http://127.0.0.1/callback")).toBe(true);
    expect(redirectUriMatches("http://127.0.0.1:8080/callback", "http://127.0.0.1:9090/callback")).toBe(true);
    expect(redirectUriMatches("http://[::1]/cb", "http://[::1]:4000/cb")).toBe(true);
    for (const bad of [
      "http://127.0.0.1:53127/callback/x",
      "http://127.0.0.1:53127/Callback",
      "http://127.0.0.1:0/callback",
      "http://127.0.0.1:65536/callback",
      "http://127.0.0.1:080/callback",
      "http://127.0.0.1:53127/callback#f",
      "http://x@127.0.0.1:53127/callback",
      "https://127.0.0.1:53127/callback",
      "http://[::1]:53127/callback",
      "http://127.0.0.2:53127/callback",
      "http://localhost:53127/callback",
      "http://127.0.0.1.evil.example:53127/callback",
    ]) {
      expect(redirectUriMatches(loop, bad), bad).toBe(false);
    }
    // localhost is not a loopback IP literal (RFC 8252 §8.3): exact match only.
    expect(redirectUriMatches("http://localhost/cb", "http://localhost:3000/cb")).toBe(false);
  });

  it("another port on a non-loopback host never matches", () => {
    expect(redirectUriMatches("http://localhost:3000/cb", "http://localhost:3001/cb")).toBe(false);
    expect(redirectUriMatches("https://app.example.com:8443/cb", "https://app.example.com:9443/cb")).toBe(false);
  });

  it("finds the registered URI a request matches", () => {
    expect(matchRedirectUri(["https://a.example/cb", "http://127.0.0.1/cb"], "http://127.0.0.1:1234/cb")).toBe("http://127.0.0.1/cb");
    expect(matchRedirectUri([], "https://a.example/cb")).toBeNull();
  });
});

describe("which redirect URIs may be registered", () => {
  it.each([
    ["https://app.example.com/cb", null],
    ["http://127.0.0.1/cb", null],
    ["http://[::1]:8080/cb", null],
    ["http://localhost:3000/cb", null],
    ["com.example.app:/oauth2redirect", null],
  ])("accepts %s", (uri, problem) => {
    expect(redirectUriProblem(uri)).toBe(problem);
  });
  it.each([
    "/relative/cb",
    "https://app.example.com/cb#frag",
    "http://app.example.com/cb",
    "https://user:pw@app.example.com/cb",
    "javascript:alert(1)",
    "myapp:/cb",
    "data:text/html,hi",
    "https://app.example.com/c b",
    `https://app.example.com/${"x".repeat(2100)}`,
  ])("refuses %s", (uri) => {
    expect(redirectUriProblem(uri)).not.toBeNull();
  });
});
