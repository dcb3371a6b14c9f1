// A Node-side SAML 2.0 IdP for the e2e tests: it stands for an external IdP when the service is
// the SP (the ACS, samlRequest/generate, CloudCheckr's saml/acs). Deliberately NOT our code: the
// XML is written here by hand and signed with xml-crypto, the signer @node-saml/node-saml itself
// depends on (resolved through node-saml, so it is the version node-saml was tested with), never
// through src/protocols/saml. A pass therefore means our verifier agrees with another
// implementation of XML-DSig, not with itself.
//
// Also: makeKeyPair() (an RSA key and self-signed certificate from the openssl CLI, Debian's,
// on every machine of this project) and the WS-Fed wrapper wresultOf().
//
// xml-crypto 6 signs RSA only (rsa-sha1/256/512): an ECDSA-signed sample comes from xmlsec1
// instead: signedResponse({ signAssertion: false }), withSignatureTemplate(xml, assertionId,
// ALG.ecdsaSha256), then xmlsecSign() from scripts/lib/xmlsec.mjs.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const requireFromHere = createRequire(import.meta.url);
const requireFromNodeSaml = createRequire(requireFromHere.resolve("@node-saml/node-saml"));
/** @type {typeof import("xml-crypto")} */
const xmlCrypto = requireFromNodeSaml("xml-crypto");

export const NS = {
  saml: "urn:oasis:names:tc:SAML:2.0:assertion",
  samlp: "urn:oasis:names:tc:SAML:2.0:protocol",
  ds: "http://www.w3.org/2000/09/xmldsig#",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
  xs: "http://www.w3.org/2001/XMLSchema",
  wst: "http://schemas.xmlsoap.org/ws/2005/02/trust",
};

export const ALG = {
  rsaSha256: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  ecdsaSha256: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
  sha256: "http://www.w3.org/2001/04/xmlenc#sha256",
  excC14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
  enveloped: "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
};

/** An ID the way SAML wants it (an NCName: starts with '_'), 40 hex characters after it. */
export function samlId() {
  return `_${randomBytes(20).toString("hex")}`;
}

/** XML-escapes text or an attribute value. */
export function esc(value) {
  return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** SAML's dateTime: UTC, second precision is enough (SAML core §1.3.3). */
function instant(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The base64 of a certificate's DER (what goes into X509Certificate and md:KeyDescriptor). */
export function certBase64(certPem) {
  return certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

/**
 * A fresh key and a self-signed certificate for it (openssl req -x509), as PEM: RSA-2048, or
 * ECDSA P-256 with `alg: "ec"` (for xmlsecSign; xml-crypto cannot sign with it).
 * @param {{ cn?: string, days?: number, alg?: "rsa" | "ec" }} [opts]
 * @returns {{ keyPem: string, certPem: string }}
 */
export function makeKeyPair(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), "edge-auth-idp-key-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    const r = spawnSync(
      "openssl",
      ["req", "-x509", ...(opts.alg === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"]), "-nodes", "-sha256", "-keyout", keyFile, "-out", certFile, "-days", String(opts.days ?? 30), "-subj", `/CN=${opts.cn ?? "node-side test idp"}`],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`openssl req -x509 failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
    return { keyPem: readFileSync(keyFile, "utf8"), certPem: readFileSync(certFile, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Signs the element with ID `id` in `xml` (enveloped, exclusive c14n, RSA-SHA256, SHA-256
 * digest), the Signature placed right after that element's Issuer (SAML core §5.4.1 / schema
 * order). KeyInfo carries the certificate, as IdPs do: a verifier must ignore it and use the key
 * it pinned.
 */
export function signById(xml, id, { keyPem, certPem }) {
  const sig = new xmlCrypto.SignedXml({
    privateKey: keyPem,
    publicCert: certPem,
    signatureAlgorithm: ALG.rsaSha256,
    canonicalizationAlgorithm: ALG.excC14n,
  });
  const element = `//*[@ID='${id}']`;
  sig.addReference({ xpath: element, digestAlgorithm: ALG.sha256, transforms: [ALG.enveloped, ALG.excC14n] });
  sig.computeSignature(xml, {
    prefix: "ds",
    location: { reference: `${element}/*[local-name(.)='Issuer' and namespace-uri(.)='${NS.saml}']`, action: "after" },
  });
  return sig.getSignedXml();
}

/**
 * An empty enveloped ds:Signature over `#id` (exc-c14n, SHA-256), for xmlsecSign() to fill in:
 * `signatureMethod` is ALG.ecdsaSha256 for an ECDSA sample no Node library here can make.
 */
export function signatureTemplate(id, signatureMethod) {
  return (
    `<ds:Signature xmlns:ds="${NS.ds}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${ALG.excC14n}"/>` +
    `<ds:SignatureMethod Algorithm="${signatureMethod}"/><ds:Reference URI="#${id}"><ds:Transforms>` +
    `<ds:Transform Algorithm="${ALG.enveloped}"/><ds:Transform Algorithm="${ALG.excC14n}"/></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${ALG.sha256}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>`
  );
}

/**
 * Puts `signatureTemplate(id, ...)` right after the Issuer of the element with that ID (where
 * SAML's schema wants the Signature), for xmlsecSign().
 */
export function withSignatureTemplate(xml, id, signatureMethod) {
  const start = xml.indexOf(` ID="${id}"`);
  const issuerEnd = xml.indexOf("</saml:Issuer>", start);
  if (start < 0 || issuerEnd < 0) throw new Error(`no element with ID ${id} and an Issuer in the sample`);
  const at = issuerEnd + "</saml:Issuer>".length;
  return xml.slice(0, at) + signatureTemplate(id, signatureMethod) + xml.slice(at);
}

/** One saml:Attribute per entry; an array value becomes several AttributeValues. */
function attributeStatement(attributes) {
  const entries = Object.entries(attributes ?? {});
  if (entries.length === 0) return "";
  const attrs = entries
    .map(([name, value]) => {
      const values = [value].flat().map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`).join("");
      return `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${values}</saml:Attribute>`;
    })
    .join("");
  return `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>`;
}

/**
 * A SAML 2.0 Response carrying one Assertion, as an external IdP would post it to our ACS.
 *
 * Required: issuer (the IdP's entityID), audience (our SP entityID), recipient (our ACS URL; also
 * the Response's Destination unless `destination` says otherwise), nameId, keyPem + certPem.
 * Optional: inResponseTo (omit for IdP-initiated), attributes ({name: value | value[]}),
 * nameIdFormat, sessionIndex, authnContextClassRef, now (a Date, to make expired / not-yet-valid
 * samples), lifetimeSeconds (default 300), notBefore / notOnOrAfter (Dates overriding the
 * Conditions window), signAssertion (default true), signResponse (default false), statusCode
 * (default Success), assertionId / responseId.
 *
 * Returns { xml, base64 (the SAMLResponse form value), assertionId, responseId }.
 * @param {{
 *   issuer: string, audience: string, recipient: string, nameId: string, keyPem: string, certPem: string,
 *   inResponseTo?: string, attributes?: Record<string, string | string[]>, nameIdFormat?: string,
 *   destination?: string, sessionIndex?: string, authnContextClassRef?: string, now?: Date,
 *   lifetimeSeconds?: number, notBefore?: Date, notOnOrAfter?: Date, signAssertion?: boolean,
 *   signResponse?: boolean, statusCode?: string, assertionId?: string, responseId?: string,
 * }} o
 */
export function signedResponse(o) {
  const now = o.now ?? new Date();
  const notBefore = o.notBefore ?? new Date(now.getTime() - 30_000);
  const notOnOrAfter = o.notOnOrAfter ?? new Date(now.getTime() + (o.lifetimeSeconds ?? 300) * 1000);
  const assertionId = o.assertionId ?? samlId();
  const responseId = o.responseId ?? samlId();
  const inResponseTo = o.inResponseTo ? ` InResponseTo="${esc(o.inResponseTo)}"` : "";
  const statusCode = o.statusCode ?? "urn:oasis:names:tc:SAML:2.0:status:Success";
  const nameIdFormat = o.nameIdFormat ?? "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

  let assertion =
    `<saml:Assertion xmlns:saml="${NS.saml}" xmlns:xsi="${NS.xsi}" xmlns:xs="${NS.xs}" ID="${assertionId}" Version="2.0" IssueInstant="${instant(now)}">` +
    `<saml:Issuer>${esc(o.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${esc(nameIdFormat)}">${esc(o.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<saml:SubjectConfirmationData${inResponseTo} NotOnOrAfter="${instant(notOnOrAfter)}" Recipient="${esc(o.recipient)}"/>` +
    `</saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${instant(notBefore)}" NotOnOrAfter="${instant(notOnOrAfter)}">` +
    `<saml:AudienceRestriction><saml:Audience>${esc(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="${esc(o.sessionIndex ?? samlId())}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${esc(o.authnContextClassRef ?? "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")}</saml:AuthnContextClassRef></saml:AuthnContext>` +
    `</saml:AuthnStatement>` +
    attributeStatement(o.attributes) +
    `</saml:Assertion>`;
  if (o.signAssertion ?? true) assertion = signById(assertion, assertionId, o);

  let xml =
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${responseId}" Version="2.0" IssueInstant="${instant(now)}"` +
    ` Destination="${esc(o.destination ?? o.recipient)}"${inResponseTo}>` +
    `<saml:Issuer>${esc(o.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${esc(statusCode)}"/></samlp:Status>` +
    assertion +
    `</samlp:Response>`;
  if (o.signResponse ?? false) xml = signById(xml, responseId, o);
  return { xml, base64: Buffer.from(xml, "utf8").toString("base64"), assertionId, responseId };
}

/**
 * Wraps a signed assertion the way a WS-Fed IdP answers `wsignin1.0` (WS-Federation 1.2 §13.3.1:
 * `wresult` is a wst:RequestSecurityTokenResponse whose RequestedSecurityToken holds the token).
 */
export function wresultOf(assertionXml, { appliesTo, context } = {}) {
  const ctx = context === undefined ? "" : ` Context="${esc(context)}"`;
  const applies = appliesTo
    ? `<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>${esc(appliesTo)}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>`
    : "";
  return `<t:RequestSecurityTokenResponse xmlns:t="${NS.wst}"${ctx}>${applies}<t:RequestedSecurityToken>${assertionXml}</t:RequestedSecurityToken></t:RequestSecurityTokenResponse>`;
}
