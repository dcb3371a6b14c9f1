import { a, serialize, signTree, x, type XAttr, type XChild, type XElement } from "./c14n-signer";
import { encryptAssertionXml } from "./encryption";
import { escapeAttr, escapeText, newSamlId, NS, parseXml, samlInstant, serializeXml, type Element } from "./xml";
import { signElement, type SignatureAlg } from "./xmldsig";

/**
 * The IdP's samlp:Response carrying one saml:Assertion (SAML Core §2, §3.3.3; Web Browser SSO
 * Profile, SAML Profiles §4.1.4.2), built from escaped strings (never raw values interpolated),
 * then parsed once and signed in place with xmldsig.signElement.
 *
 * What we sign (SAML Profiles §4.1.3.5 asks that each assertion delivered over POST be
 * protected by a signature, on the assertion or on the Response):
 * - the Response is always signed: it is the one signature every SP can check, and it covers
 *   Destination, InResponseTo and Status, which an assertion signature does not;
 * - the Assertion is signed as well when the SP's `assertionSignRequired` is true (the
 *   default; node-saml and most SPs want both by default), before it is encrypted, so an SP
 *   that decrypts it can still check its signature.
 * When the SP has an encryption certificate the signed assertion is replaced by an
 * EncryptedAssertion (encryption.ts) before the Response is signed.
 */

export const STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";
export const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
export const ATTRNAME_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
/** SAML Authn Context §3.4.19: a password over a protected transport (TLS): one factor. */
export const AC_PASSWORD_PROTECTED_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
/** SAML Authn Context §3.4.4: two factors, one of them a device the user holds: our aal >= 2. */
export const AC_MOBILE_TWO_FACTOR = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract";
/** Assertion and bearer confirmation lifetime: 5 minutes. */
export const ASSERTION_LIFETIME_SECONDS = 300;
/** NotBefore is set this far in the past, for SPs whose clocks are slightly behind (node-saml's default skew is 0). */
export const NOT_BEFORE_SKEW_SECONDS = 30;

export interface SamlAttribute {
  name: string;
  /** One value, or several (a multi-valued attribute: one AttributeValue each). */
  values: string[];
}

export interface ResponseModel {
  /** The IdP's entityID. */
  issuer: string;
  /** The ACS URL the Response is posted to (Response/@Destination and the bearer Recipient). */
  destination: string;
  /** The AuthnRequest's ID; absent for IdP-initiated (unsolicited) responses. */
  inResponseTo?: string;
  /** The SP's entityID (AudienceRestriction). */
  audience: string;
  nameId: { value: string; format: string };
  /** Epoch ms of the user's authentication. */
  authnInstant: number;
  sessionIndex: string;
  authnContextClassRef: string;
  attributes: SamlAttribute[];
  signing: { key: CryptoKey; alg: SignatureAlg; certB64?: string };
  /** Also sign the Assertion (the SP's assertionSignRequired). The Response is always signed. */
  signAssertion: boolean;
  /** The SP's RSA-OAEP encryption key: the assertion goes as an EncryptedAssertion. */
  encryptTo?: CryptoKey;
  /** Epoch ms; defaults to now. */
  now?: number;
}

/** The assertion element's XML (namespaces declared on it, so it stands alone once decrypted). */
export function assertionXml(m: ResponseModel, id: string, now: number): string {
  const t = (ms: number) => samlInstant(ms);
  const expires = t(now + ASSERTION_LIFETIME_SECONDS * 1000);
  const inResp = m.inResponseTo !== undefined ? ` InResponseTo="${escapeAttr(m.inResponseTo)}"` : "";
  const attrs = m.attributes.filter((a) => a.values.length > 0);
  const attributeStatement = attrs.length
    ? `<saml:AttributeStatement>` +
      attrs
        .map(
          (a) =>
            `<saml:Attribute Name="${escapeAttr(a.name)}" NameFormat="${ATTRNAME_BASIC}">` +
            a.values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${escapeText(v)}</saml:AttributeValue>`).join("") +
            `</saml:Attribute>`,
        )
        .join("") +
      `</saml:AttributeStatement>`
    : "";
  return (
    `<saml:Assertion xmlns:saml="${NS.saml}" xmlns:xs="${NS.xs}" xmlns:xsi="${NS.xsi}" ID="${id}" Version="2.0" IssueInstant="${t(now)}">` +
    `<saml:Issuer>${escapeText(m.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${escapeAttr(m.nameId.format)}">${escapeText(m.nameId.value)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${BEARER}"><saml:SubjectConfirmationData NotOnOrAfter="${expires}" Recipient="${escapeAttr(m.destination)}"${inResp}/></saml:SubjectConfirmation>` +
    `</saml:Subject>` +
    `<saml:Conditions NotBefore="${t(now - NOT_BEFORE_SKEW_SECONDS * 1000)}" NotOnOrAfter="${expires}"><saml:AudienceRestriction><saml:Audience>${escapeText(m.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${t(m.authnInstant)}" SessionIndex="${escapeAttr(m.sessionIndex)}"><saml:AuthnContext><saml:AuthnContextClassRef>${escapeText(m.authnContextClassRef)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    attributeStatement +
    `</saml:Assertion>`
  );
}

function only(el: Element, ns: string, localName: string): Element {
  const found = el.getElementsByTagNameNS(ns, localName);
  if (found.length !== 1) throw new Error(`assertion: expected one ${localName}`);
  return found[0]!;
}

/**
 * The signed (and, with `encryptTo`, encrypted) samlp:Response as XML text; the caller
 * base64-encodes it for the POST binding (SAML Bindings §3.5.4).
 */
export async function buildResponse(m: ResponseModel): Promise<string> {
  // What is not encrypted is built as a tree and signed without a DOM (c14n-signer.ts): the
  // same elements and signatures for well under half the CPU. An assertion to encrypt goes
  // through the DOM path below (the ciphertext holds its serialized, signed text).
  if (!m.encryptTo) return buildResponseTree(m);
  const now = m.now ?? Date.now();
  const responseId = newSamlId();
  const assertionId = newSamlId();
  const inResp = m.inResponseTo !== undefined ? ` InResponseTo="${escapeAttr(m.inResponseTo)}"` : "";
  const sign = { key: m.signing.key, alg: m.signing.alg, ...(m.signing.certB64 ? { certB64: m.signing.certB64 } : {}) };

  let assertion = assertionXml(m, assertionId, now);
  // The assertion to encrypt is signed on its own first: the ciphertext must hold the signed text.
  if (m.signAssertion) {
    const adoc = parseXml(assertion);
    await signElement(adoc, adoc.documentElement, sign);
    assertion = serializeXml(adoc);
  }
  assertion = await encryptAssertionXml(assertion, m.encryptTo);

  const xml =
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${responseId}" Version="2.0" IssueInstant="${samlInstant(now)}" Destination="${escapeAttr(m.destination)}"${inResp}>` +
    `<saml:Issuer>${escapeText(m.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${STATUS_SUCCESS}"/></samlp:Status>` +
    assertion +
    `</samlp:Response>`;
  const doc = parseXml(xml);
  // The Response's own Issuer (its direct child), not the assertion's.
  const issuer = doc.documentElement.getElementsByTagNameNS(NS.saml, "Issuer")[0]!;
  await signElement(doc, doc.documentElement, { ...sign, after: issuer });
  // Sanity: one Status, so a caller never ships something half-built.
  only(doc.documentElement, NS.samlp, "Status");
  return serializeXml(doc);
}

/** The assertion as a tree (c14n-signer.ts), element for element what assertionXml writes. */
function assertionTree(m: ResponseModel, id: string, now: number): XElement {
  const t = (ms: number) => samlInstant(ms);
  const expires = t(now + ASSERTION_LIFETIME_SECONDS * 1000);
  const s = (name: string, attrs: XAttr[] = [], children: XChild[] = []) => x("saml", NS.saml, name, attrs, children);
  const confirmation = [a("NotOnOrAfter", expires), a("Recipient", m.destination), ...(m.inResponseTo !== undefined ? [a("InResponseTo", m.inResponseTo)] : [])];
  const attrs = m.attributes.filter((at) => at.values.length > 0);
  const children: XChild[] = [
    s("Issuer", [], [m.issuer]),
    s("Subject", [], [s("NameID", [a("Format", m.nameId.format)], [m.nameId.value]), s("SubjectConfirmation", [a("Method", BEARER)], [s("SubjectConfirmationData", confirmation)])]),
    s("Conditions", [a("NotBefore", t(now - NOT_BEFORE_SKEW_SECONDS * 1000)), a("NotOnOrAfter", expires)], [s("AudienceRestriction", [], [s("Audience", [], [m.audience])])]),
    s("AuthnStatement", [a("AuthnInstant", t(m.authnInstant)), a("SessionIndex", m.sessionIndex)], [s("AuthnContext", [], [s("AuthnContextClassRef", [], [m.authnContextClassRef])])]),
  ];
  if (attrs.length) {
    children.push(
      s(
        "AttributeStatement",
        [],
        attrs.map((at) => s("Attribute", [a("Name", at.name), a("NameFormat", ATTRNAME_BASIC)], at.values.map((v) => s("AttributeValue", [{ prefix: "xsi", ns: NS.xsi, name: "type", value: "xs:string" }], [v])))),
      ),
    );
  }
  return x("saml", NS.saml, "Assertion", [a("ID", id), a("Version", "2.0"), a("IssueInstant", t(now))], children, { xs: NS.xs, xsi: NS.xsi });
}

/** buildResponse without encryption: tree, signatures (Assertion first), then the document. */
async function buildResponseTree(m: ResponseModel): Promise<string> {
  const now = m.now ?? Date.now();
  const sign = { key: m.signing.key, alg: m.signing.alg, ...(m.signing.certB64 ? { certB64: m.signing.certB64 } : {}) };
  const assertion = assertionTree(m, newSamlId(), now);
  // After Issuer (SAML Core §2.3.3, §3.2.1), as signElement places it.
  if (m.signAssertion) await signTree(assertion, { ...sign, index: 1 });
  const p = (name: string, attrs: XAttr[] = [], children: XChild[] = []) => x("samlp", NS.samlp, name, attrs, children);
  const response = x(
    "samlp",
    NS.samlp,
    "Response",
    [a("ID", newSamlId()), a("Version", "2.0"), a("IssueInstant", samlInstant(now)), a("Destination", m.destination), ...(m.inResponseTo !== undefined ? [a("InResponseTo", m.inResponseTo)] : [])],
    [x("saml", NS.saml, "Issuer", [], [m.issuer]), p("Status", [], [p("StatusCode", [a("Value", STATUS_SUCCESS)])]), assertion],
    { saml: NS.saml },
  );
  await signTree(response, { ...sign, index: 1 });
  return serialize(response);
}
