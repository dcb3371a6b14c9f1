import { describe, expect, it } from "vitest";
import { generateSigningCredential, importCertificateKey, importPrivateKeyPem, certificateBase64 } from "../../crypto/x509";
import { BINDINGS, bindingUrn, buildIdpMetadata } from "./idp-metadata";
import { childElements, NS, parseXml, textOf } from "./xml";
import { verifyElement } from "./xmldsig";

describe("IdP metadata (SAML Metadata §2.4.3)", () => {
  it("describes the IdP: entityID, WantAuthnRequestsSigned, signing key, SSO and SLO for both bindings, NameID formats; signed first-child", async () => {
    const cred = await generateSigningCredential("RSA-SHA256", "idp");
    const certB64 = certificateBase64(cred.certPem);
    const xml = await buildIdpMetadata({
      entityId: "https://idp.example.test/saml/c1?x=1&y=2",
      wantAuthnRequestsSigned: true,
      signingCertB64: certB64,
      ssoUrl: "https://idp.example.test/saml/c1/sso",
      sloUrl: "https://idp.example.test/saml/c1/slo",
      nameIdFormats: ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
      sign: { key: await importPrivateKeyPem(cred.privateKeyPkcs8Pem, "RSA-SHA256"), alg: "RSA-SHA256", certB64 },
    });
    const doc = parseXml(xml);
    const ed = doc.documentElement;
    expect(ed.getAttribute("entityID")).toBe("https://idp.example.test/saml/c1?x=1&y=2");
    expect(childElements(ed)[0]!.localName).toBe("Signature");
    await verifyElement(doc, ed, [await importCertificateKey(cred.certPem)]);
    const d = ed.getElementsByTagNameNS(NS.md, "IDPSSODescriptor")[0]!;
    expect(d.getAttribute("WantAuthnRequestsSigned")).toBe("true");
    expect(d.getAttribute("protocolSupportEnumeration")).toBe("urn:oasis:names:tc:SAML:2.0:protocol");
    expect(textOf(d.getElementsByTagNameNS(NS.ds, "X509Certificate")[0]!)).toBe(certB64);
    const names = childElements(d).map((c) => c.localName);
    expect(names).toEqual(["KeyDescriptor", "SingleLogoutService", "SingleLogoutService", "NameIDFormat", "SingleSignOnService", "SingleSignOnService"]);
    const sso = childElements(d, NS.md, "SingleSignOnService").map((e) => [e.getAttribute("Binding"), e.getAttribute("Location")]);
    expect(sso).toEqual([[BINDINGS.redirect, "https://idp.example.test/saml/c1/sso"], [BINDINGS.post, "https://idp.example.test/saml/c1/sso"]]);
  });

  it("unsigned when no key is given; bindings from idp_config's names", async () => {
    const xml = await buildIdpMetadata({ entityId: "e", wantAuthnRequestsSigned: false, signingCertB64: "AAAA", ssoUrl: "https://i/sso", sloUrl: "https://i/slo", ssoBindings: [BINDINGS.post], nameIdFormats: [] });
    expect(xml).not.toContain("Signature");
    expect(parseXml(xml).documentElement.getElementsByTagNameNS(NS.md, "SingleSignOnService")).toHaveLength(1);
    expect([bindingUrn("HTTP-Redirect"), bindingUrn("post"), bindingUrn(BINDINGS.post), bindingUrn("SOAP")]).toEqual([BINDINGS.redirect, BINDINGS.post, BINDINGS.post, null]);
  });
});
