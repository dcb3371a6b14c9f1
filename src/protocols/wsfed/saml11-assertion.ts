import { a, serialize, signTree, x, type XAttr, type XChild, type XElement } from "../saml/c14n-signer";
import { escapeAttr, escapeText, newSamlId, NS, samlInstant } from "../saml/xml";
import { type SignatureAlg } from "../saml/xmldsig";

/**
 * A signed SAML 1.1 assertion (OASIS SAML 1.1 Assertions and Protocol, "SAML 1.1 Core"), the
 * token ADFS answers WS-Federation sign-ins with and what SharePoint and WIF relying parties
 * expect by default. Pure: the caller resolved who the subject is and what it carries.
 *
 * Shape (SAML 1.1 Core §2.3.2): Conditions (NotBefore/NotOnOrAfter with an
 * AudienceRestrictionCondition naming the realm, §2.3.2.1.3), an AttributeStatement when there
 * are attributes, an AuthenticationStatement (§2.4.3), both with the Subject and the bearer
 * SubjectConfirmation (§2.4.2.3, urn:oasis:names:tc:SAML:1.0:cm:bearer), then the enveloped
 * ds:Signature, which the 1.1 schema places LAST (unlike SAML 2.0's after-Issuer). The
 * Reference URI is '#'+AssertionID.
 */

export const SAML11_BEARER = "urn:oasis:names:tc:SAML:1.0:cm:bearer";
export const SAML11_AM_PASSWORD = "urn:oasis:names:tc:SAML:1.0:am:password";
export const SAML11_AM_UNSPECIFIED = "urn:oasis:names:tc:SAML:1.0:am:unspecified";
/** Claims without a namespace of their own go here (the WIF/ADFS claim namespace). */
export const DEFAULT_ATTRIBUTE_NAMESPACE = "http://schemas.xmlsoap.org/claims";

export interface Saml11Attribute {
  /** A claim URI (split at its last '/' into AttributeNamespace and AttributeName, as ADFS does) or a plain name. */
  name: string;
  values: string[];
}

export interface Saml11AssertionModel {
  issuer: string;
  /** The relying party's realm (wtrealm). */
  audience: string;
  nameId: { value: string; format?: string };
  attributes: Saml11Attribute[];
  /** Epoch ms. */
  issuedAt: number;
  notBefore: number;
  notOnOrAfter: number;
  authnInstant: number;
  authnMethod: string;
}

export interface AssertionSigner {
  key: CryptoKey;
  alg: SignatureAlg;
  certB64?: string;
}

/** AttributeNamespace + AttributeName of a claim (SAML 1.1 Core §2.4.4.1 has both). */
export function splitClaim(name: string): { namespace: string; name: string } {
  const at = name.lastIndexOf("/");
  if (/^[a-z][a-z0-9+.-]*:/i.test(name) && at > 0 && at < name.length - 1) return { namespace: name.slice(0, at), name: name.slice(at + 1) };
  return { namespace: DEFAULT_ATTRIBUTE_NAMESPACE, name };
}

function subject(m: Saml11AssertionModel): string {
  const fmt = m.nameId.format ? ` Format="${escapeAttr(m.nameId.format)}"` : "";
  return (
    `<saml:Subject><saml:NameIdentifier${fmt}>${escapeText(m.nameId.value)}</saml:NameIdentifier>` +
    `<saml:SubjectConfirmation><saml:ConfirmationMethod>${SAML11_BEARER}</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject>`
  );
}

/** The assertion's unsigned XML and its AssertionID. */
export function saml11AssertionXml(m: Saml11AssertionModel, id: string = newSamlId()): string {
  const attrs = m.attributes.filter((a) => a.values.length > 0);
  const attributeStatement =
    attrs.length === 0
      ? ""
      : `<saml:AttributeStatement>${subject(m)}${attrs
          .map((a) => {
            const c = splitClaim(a.name);
            const values = a.values.map((v) => `<saml:AttributeValue>${escapeText(v)}</saml:AttributeValue>`).join("");
            return `<saml:Attribute AttributeName="${escapeAttr(c.name)}" AttributeNamespace="${escapeAttr(c.namespace)}">${values}</saml:Attribute>`;
          })
          .join("")}</saml:AttributeStatement>`;
  return (
    `<saml:Assertion xmlns:saml="${NS.saml1}" MajorVersion="1" MinorVersion="1" AssertionID="${id}" Issuer="${escapeAttr(m.issuer)}" IssueInstant="${samlInstant(m.issuedAt)}">` +
    `<saml:Conditions NotBefore="${samlInstant(m.notBefore)}" NotOnOrAfter="${samlInstant(m.notOnOrAfter)}">` +
    `<saml:AudienceRestrictionCondition><saml:Audience>${escapeText(m.audience)}</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions>` +
    attributeStatement +
    `<saml:AuthenticationStatement AuthenticationMethod="${escapeAttr(m.authnMethod)}" AuthenticationInstant="${samlInstant(m.authnInstant)}">${subject(m)}</saml:AuthenticationStatement>` +
    `</saml:Assertion>`
  );
}

/** The assertion as a tree (../saml/c14n-signer.ts), element for element what saml11AssertionXml writes. */
function saml11AssertionTree(m: Saml11AssertionModel, id: string): XElement {
  const s = (name: string, attrs: XAttr[] = [], children: XChild[] = []) => x("saml", NS.saml1, name, attrs, children);
  const subjectTree = () =>
    s("Subject", [], [s("NameIdentifier", m.nameId.format ? [a("Format", m.nameId.format)] : [], [m.nameId.value]), s("SubjectConfirmation", [], [s("ConfirmationMethod", [], [SAML11_BEARER])])]);
  const attrs = m.attributes.filter((at) => at.values.length > 0);
  const children: XChild[] = [
    s("Conditions", [a("NotBefore", samlInstant(m.notBefore)), a("NotOnOrAfter", samlInstant(m.notOnOrAfter))], [s("AudienceRestrictionCondition", [], [s("Audience", [], [m.audience])])]),
  ];
  if (attrs.length) {
    children.push(
      s("AttributeStatement", [], [
        subjectTree(),
        ...attrs.map((at) => {
          const c = splitClaim(at.name);
          return s("Attribute", [a("AttributeName", c.name), a("AttributeNamespace", c.namespace)], at.values.map((v) => s("AttributeValue", [], [v])));
        }),
      ]),
    );
  }
  children.push(s("AuthenticationStatement", [a("AuthenticationMethod", m.authnMethod), a("AuthenticationInstant", samlInstant(m.authnInstant))], [subjectTree()]));
  return s("Assertion", [a("MajorVersion", "1"), a("MinorVersion", "1"), a("AssertionID", id), a("Issuer", m.issuer), a("IssueInstant", samlInstant(m.issuedAt))], children);
}

/**
 * The signed assertion, serialized without an XML declaration (it is embedded in a wresult).
 * Built as a tree and signed without a DOM (c14n-signer.ts): the Signature last, as the 1.1
 * schema has it, its Reference '#'+AssertionID.
 */
export async function buildSaml11Assertion(m: Saml11AssertionModel, signer: AssertionSigner): Promise<{ id: string; xml: string }> {
  const id = newSamlId();
  const el = saml11AssertionTree(m, id);
  await signTree(el, { key: signer.key, alg: signer.alg, ...(signer.certB64 ? { certB64: signer.certB64 } : {}), index: el.children.length, idAttr: "AssertionID" });
  return { id, xml: serialize(el) };
}
