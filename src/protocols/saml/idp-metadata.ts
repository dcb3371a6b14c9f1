import { escapeAttr, escapeText, newSamlId, NS, parseXml, serializeXml } from "./xml";
import { signElement, type SignatureAlg } from "./xmldsig";

/**
 * The IdP's SAML metadata (SAML 2.0 Metadata §2.3.2 EntityDescriptor, §2.4.3
 * IDPSSODescriptor), built from escaped strings, optionally signed (Metadata §3: an enveloped
 * signature on the EntityDescriptor, first child).
 */

export const BINDINGS = {
  redirect: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
  post: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
} as const;
const PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol";

/** A binding as idp_config stores it (free text: "HTTP-Redirect", "redirect", or the URN) as its URN; null when unknown. */
export function bindingUrn(b: string): string | null {
  const s = b.trim().toLowerCase();
  if (s === BINDINGS.redirect.toLowerCase() || s === "http-redirect" || s === "redirect") return BINDINGS.redirect;
  if (s === BINDINGS.post.toLowerCase() || s === "http-post" || s === "post") return BINDINGS.post;
  return null;
}

export interface IdpMetadataModel {
  entityId: string;
  /** IDPSSODescriptor/@WantAuthnRequestsSigned (idp_config.authnRequestsSigned). */
  wantAuthnRequestsSigned: boolean;
  /** Bare base64 DER of the signing certificate. */
  signingCertB64: string;
  /** Bare base64 DER of the encryption certificate, when there is one. */
  encryptionCertB64?: string;
  ssoUrl: string;
  sloUrl: string;
  /** Binding URNs; both Redirect and POST when empty. */
  ssoBindings?: string[];
  sloBindings?: string[];
  nameIdFormats: string[];
  /** Sign the EntityDescriptor with this key. */
  sign?: { key: CryptoKey; alg: SignatureAlg; certB64?: string };
}

const keyDescriptor = (use: string, b64: string) =>
  `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${escapeText(b64)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;

function endpoints(kind: string, bindings: string[] | undefined, location: string): string {
  const list = bindings && bindings.length ? [...new Set(bindings)] : [BINDINGS.redirect, BINDINGS.post];
  return list.map((b) => `<md:${kind} Binding="${escapeAttr(b)}" Location="${escapeAttr(location)}"/>`).join("");
}

/** The metadata XML (signed when `sign` is given). */
export async function buildIdpMetadata(m: IdpMetadataModel): Promise<string> {
  const xml =
    `<md:EntityDescriptor xmlns:md="${NS.md}" xmlns:ds="${NS.ds}" ID="${newSamlId()}" entityID="${escapeAttr(m.entityId)}">` +
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="${m.wantAuthnRequestsSigned}" protocolSupportEnumeration="${PROTOCOL}">` +
    keyDescriptor("signing", m.signingCertB64) +
    (m.encryptionCertB64 ? keyDescriptor("encryption", m.encryptionCertB64) : "") +
    endpoints("SingleLogoutService", m.sloBindings, m.sloUrl) +
    m.nameIdFormats.map((f) => `<md:NameIDFormat>${escapeText(f)}</md:NameIDFormat>`).join("") +
    endpoints("SingleSignOnService", m.ssoBindings, m.ssoUrl) +
    `</md:IDPSSODescriptor></md:EntityDescriptor>`;
  if (!m.sign) return xml;
  const doc = parseXml(xml);
  await signElement(doc, doc.documentElement, { key: m.sign.key, alg: m.sign.alg, ...(m.sign.certB64 ? { certB64: m.sign.certB64 } : {}), after: null });
  return serializeXml(doc);
}
