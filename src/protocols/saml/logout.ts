import { childElements, escapeAttr, escapeText, newSamlId, NS, optionalChild, parseInstant, parseXml, requiredChild, samlInstant, serializeXml, textOf, XmlRejected, type Document, type Element } from "./xml";
import { signElement, verifyElement, type SignatureAlg } from "./xmldsig";

/**
 * Single Logout messages (SAML Core §3.7): LogoutRequest and LogoutResponse, built and read.
 * Pure: no HTTP, no storage. The HTTP-POST binding signs the message element itself (enveloped
 * XML signature, SAML Core §5; xmldsig.ts). The HTTP-Redirect binding signs the query instead
 * (Bindings §3.4.4.1: authn-request.ts `signRedirectQuery` / `verifyRedirectSignature`) and
 * carries the unsigned XML; the caller picks the binding and whether to sign from the SP's
 * `logoutRequestSignRequired` / `logoutResponseSignRequired`.
 *
 * Readers are strict: the right root element in the protocol namespace, Version 2.0, an ID, an
 * Issuer, and (request) exactly one NameID: an EncryptedID or BaseID is refused (we issue
 * plain NameIDs, so an SP has no other identifier of ours to send back).
 */

export const STATUS = {
  success: "urn:oasis:names:tc:SAML:2.0:status:Success",
  requester: "urn:oasis:names:tc:SAML:2.0:status:Requester",
  responder: "urn:oasis:names:tc:SAML:2.0:status:Responder",
  versionMismatch: "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
  /** Second-level (§3.7.3.2): not every session participant could be logged out. */
  partialLogout: "urn:oasis:names:tc:SAML:2.0:status:PartialLogout",
  requestDenied: "urn:oasis:names:tc:SAML:2.0:status:RequestDenied",
} as const;

export interface NameId {
  value: string;
  format?: string | undefined;
  nameQualifier?: string | undefined;
  spNameQualifier?: string | undefined;
}

export interface Signer {
  key: CryptoKey;
  alg: SignatureAlg;
  certB64?: string | undefined;
}

export interface LogoutRequestModel {
  id?: string;
  issuer: string;
  destination: string;
  nameId: NameId;
  sessionIndexes?: readonly string[];
  /** Epoch ms; now by default. */
  issueInstant?: number;
  /** Epoch ms after which the request is void (§3.7.1). */
  notOnOrAfter?: number;
  /** e.g. urn:oasis:names:tc:SAML:2.0:logout:user (§3.7.3.1). */
  reason?: string;
}

export interface LogoutResponseModel {
  id?: string;
  issuer: string;
  destination: string;
  inResponseTo?: string | undefined;
  /** Top-level status code; `subStatus` optional second level. */
  status: string;
  subStatus?: string | undefined;
  message?: string | undefined;
  issueInstant?: number;
}

const attr = (name: string, v: string | undefined) => (v === undefined ? "" : ` ${name}="${escapeAttr(v)}"`);

function nameIdXml(n: NameId): string {
  return `<saml:NameID${attr("Format", n.format)}${attr("NameQualifier", n.nameQualifier)}${attr("SPNameQualifier", n.spNameQualifier)}>${escapeText(n.value)}</saml:NameID>`;
}

async function signedOrPlain(xml: string, sign: Signer | undefined): Promise<string> {
  if (!sign) return xml;
  const doc = parseXml(xml);
  // §5.4.2 / Bindings §3.5.4: the protocol message itself is signed; the Signature follows Issuer.
  await signElement(doc, doc.documentElement, { key: sign.key, alg: sign.alg, ...(sign.certB64 ? { certB64: sign.certB64 } : {}) });
  return serializeXml(doc);
}

/** A LogoutRequest (§3.7.1), signed when `sign` is given (HTTP-POST binding). */
export async function buildLogoutRequest(m: LogoutRequestModel, sign?: Signer): Promise<string> {
  const xml =
    `<samlp:LogoutRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${escapeAttr(m.id ?? newSamlId())}" Version="2.0"` +
    ` IssueInstant="${samlInstant(m.issueInstant ?? Date.now())}" Destination="${escapeAttr(m.destination)}"` +
    `${m.notOnOrAfter !== undefined ? ` NotOnOrAfter="${samlInstant(m.notOnOrAfter)}"` : ""}${attr("Reason", m.reason)}>` +
    `<saml:Issuer>${escapeText(m.issuer)}</saml:Issuer>${nameIdXml(m.nameId)}` +
    (m.sessionIndexes ?? []).map((s) => `<samlp:SessionIndex>${escapeText(s)}</samlp:SessionIndex>`).join("") +
    `</samlp:LogoutRequest>`;
  return signedOrPlain(xml, sign);
}

/** A LogoutResponse (§3.7.2, a StatusResponseType), signed when `sign` is given (HTTP-POST binding). */
export async function buildLogoutResponse(m: LogoutResponseModel, sign?: Signer): Promise<string> {
  const sub = m.subStatus ? `<samlp:StatusCode Value="${escapeAttr(m.subStatus)}"/>` : "";
  const xml =
    `<samlp:LogoutResponse xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${escapeAttr(m.id ?? newSamlId())}" Version="2.0"` +
    ` IssueInstant="${samlInstant(m.issueInstant ?? Date.now())}" Destination="${escapeAttr(m.destination)}"${attr("InResponseTo", m.inResponseTo)}>` +
    `<saml:Issuer>${escapeText(m.issuer)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${escapeAttr(m.status)}">${sub}</samlp:StatusCode>` +
    (m.message ? `<samlp:StatusMessage>${escapeText(m.message)}</samlp:StatusMessage>` : "") +
    `</samlp:Status></samlp:LogoutResponse>`;
  return signedOrPlain(xml, sign);
}

interface Common {
  id: string;
  issuer: string;
  destination: string | null;
  issueInstant: number;
  signed: boolean;
  doc: Document;
  element: Element;
}

export interface LogoutRequest extends Common {
  nameId: NameId;
  sessionIndexes: string[];
  notOnOrAfter: number | null;
  reason: string | null;
}

export interface LogoutResponse extends Common {
  inResponseTo: string | null;
  status: string;
  subStatus: string | null;
}

function common(xml: string, localName: "LogoutRequest" | "LogoutResponse"): Common {
  const doc = parseXml(xml);
  const el = doc.documentElement;
  if (el.namespaceURI !== NS.samlp || el.localName !== localName) throw new XmlRejected(`not a samlp:${localName}`);
  if (el.getAttribute("Version") !== "2.0") throw new XmlRejected("Version must be 2.0");
  const id = el.getAttribute("ID") ?? "";
  if (!/^[A-Za-z_][\w.-]{0,255}$/.test(id)) throw new XmlRejected("ID is missing or not an xs:ID");
  const issueInstant = parseInstant(el.getAttribute("IssueInstant"));
  if (issueInstant === null) throw new XmlRejected("IssueInstant is missing or not an xs:dateTime");
  const issuers = childElements(el, NS.saml, "Issuer");
  if (issuers.length !== 1) throw new XmlRejected("exactly one Issuer is required");
  const issuer = textOf(issuers[0]!).trim();
  if (!issuer || issuer.length > 1024) throw new XmlRejected("Issuer is empty or too long");
  const destination = el.getAttribute("Destination");
  return { id, issuer, destination: destination || null, issueInstant, signed: childElements(el, NS.ds, "Signature").length > 0, doc, element: el };
}

/** Reads a LogoutRequest (§3.7.1). Throws XmlRejected. Nothing here is trusted until the caller checks it. */
export function parseLogoutRequest(xml: string): LogoutRequest {
  const c = common(xml, "LogoutRequest");
  const el = c.element;
  if (optionalChild(el, NS.saml, "EncryptedID") || optionalChild(el, NS.saml, "BaseID")) throw new XmlRejected("only a plain NameID is accepted");
  const ids = childElements(el, NS.saml, "NameID");
  if (ids.length !== 1) throw new XmlRejected("exactly one NameID is required");
  const n = ids[0]!;
  const value = textOf(n).trim();
  if (!value || value.length > 1024) throw new XmlRejected("NameID is empty or too long");
  const sessionIndexes = childElements(el, NS.samlp, "SessionIndex").map((s) => textOf(s).trim());
  if (sessionIndexes.length > 32 || sessionIndexes.some((s) => !s || s.length > 256)) throw new XmlRejected("SessionIndex is invalid");
  const notOnOrAfterRaw = el.getAttribute("NotOnOrAfter");
  const notOnOrAfter = notOnOrAfterRaw ? parseInstant(notOnOrAfterRaw) : null;
  if (notOnOrAfterRaw && notOnOrAfter === null) throw new XmlRejected("NotOnOrAfter is not an xs:dateTime");
  const opt = (name: string) => n.getAttribute(name) || undefined;
  return {
    ...c,
    nameId: { value, format: opt("Format"), nameQualifier: opt("NameQualifier"), spNameQualifier: opt("SPNameQualifier") },
    sessionIndexes,
    notOnOrAfter,
    reason: el.getAttribute("Reason") || null,
  };
}

/** Reads a LogoutResponse (§3.7.2). Throws XmlRejected. */
export function parseLogoutResponse(xml: string): LogoutResponse {
  const c = common(xml, "LogoutResponse");
  const status = requiredChild(c.element, NS.samlp, "Status");
  const code = requiredChild(status, NS.samlp, "StatusCode");
  const value = code.getAttribute("Value");
  if (!value) throw new XmlRejected("StatusCode has no Value");
  const sub = optionalChild(code, NS.samlp, "StatusCode");
  return { ...c, inResponseTo: c.element.getAttribute("InResponseTo") || null, status: value, subStatus: sub?.getAttribute("Value") || null };
}

/**
 * Checks the enveloped signature of a POST-binding logout message with the SP's pinned keys
 * (xmldsig.ts rules: one Reference to this element's unique ID). Throws SignatureRejected.
 */
export function verifyLogoutSignature(m: Pick<Common, "doc" | "element">, keys: CryptoKey[]): Promise<void> {
  return verifyElement(m.doc, m.element, keys);
}
