import { describe, expect, it } from "vitest";
import { fromBase64, utf8 } from "../../crypto/encoding";
import { deflateRaw } from "./authn-request";
import { buildAuthnRequest, inflateRaw, redirectQuery, withQuery } from "./authn-request-build";
import { buildSpMetadata } from "./sp-metadata";
import { childElements, NS, parseXml } from "./xml";

const input = { id: "_" + "a".repeat(40), issuer: 'https://sp.example/?a=1&b="2"', destination: "https://idp.example/sso", acsUrl: "https://sp.example/acs", forceAuthn: false, now: Date.UTC(2026, 0, 2, 3, 4, 5, 678) };

describe("buildAuthnRequest", () => {
  it("escapes what it is given and parses through the one parser", () => {
    const doc = parseXml(buildAuthnRequest({ ...input, destination: 'https://idp.example/sso?x="><evil/>' }));
    const req = doc.documentElement;
    expect(req.namespaceURI).toBe(NS.samlp);
    expect(req.getAttribute("IssueInstant")).toBe("2026-01-02T03:04:05Z");
    expect(req.getAttribute("Destination")).toBe('https://idp.example/sso?x="><evil/>');
    expect(req.getAttribute("ForceAuthn")).toBeNull();
    expect(childElements(req).map((e) => e.localName)).toEqual(["Issuer", "NameIDPolicy"]);
    expect(childElements(req, NS.saml, "Issuer")[0]!.textContent).toBe(input.issuer);
  });
});

describe("HTTP-Redirect encoding", () => {
  it("raw DEFLATE round-trips (no zlib header)", async () => {
    const xml = buildAuthnRequest(input);
    const bytes = await deflateRaw(new TextEncoder().encode(xml));
    expect(bytes[0]).not.toBe(0x78);
    expect(await inflateRaw(bytes)).toBe(xml);
  });

  it("signs exactly SAMLRequest&RelayState&SigAlg as sent (ECDSA P-256, raw r||s)", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const q = await redirectQuery("SAMLRequest", buildAuthnRequest(input), "r&s=1", { key: pair.privateKey, alg: "ECDSA-SHA256" });
    const parts = q.split("&");
    expect(parts.map((p) => p.split("=")[0])).toEqual(["SAMLRequest", "RelayState", "SigAlg", "Signature"]);
    expect(decodeURIComponent(parts[1]!.slice("RelayState=".length))).toBe("r&s=1");
    const sig = fromBase64(decodeURIComponent(parts[3]!.slice("Signature=".length)));
    expect(sig.length).toBe(64);
    expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, sig, utf8(parts.slice(0, 3).join("&")))).toBe(true);
    expect(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, sig, utf8(parts.slice(0, 1).join("&")))).toBe(false);
    expect(withQuery("https://idp/sso", q).split("?")[1]).toBe(q);
    expect(withQuery("https://idp/sso?a=1", q)).toBe(`https://idp/sso?a=1&${q}`);
  });

  it("unsigned: no SigAlg, no Signature, no RelayState when none", async () => {
    const q = await redirectQuery("SAMLRequest", buildAuthnRequest(input), null, null);
    expect(q.startsWith("SAMLRequest=")).toBe(true);
    expect(q).not.toContain("&");
  });
});

describe("buildSpMetadata", () => {
  it("without a certificate: AuthnRequestsSigned false and no KeyDescriptor; values escaped", () => {
    const doc = parseXml(buildSpMetadata({ entityId: 'https://sp.example/?a=1&b="2"', acsUrl: "https://sp/acs", sloUrl: "https://sp/slo", certB64: null }));
    const sp = childElements(doc.documentElement, NS.md, "SPSSODescriptor")[0]!;
    expect(doc.documentElement.getAttribute("entityID")).toBe('https://sp.example/?a=1&b="2"');
    expect(sp.getAttribute("AuthnRequestsSigned")).toBe("false");
    expect(sp.getAttribute("WantAssertionsSigned")).toBe("true");
    expect(childElements(sp, NS.md, "KeyDescriptor")).toHaveLength(0);
  });
});
