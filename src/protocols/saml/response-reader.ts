import { fromBase64 } from "../../crypto/encoding";
import {
  childElements,
  MAX_XML_CHARS,
  NS,
  optionalChild,
  parseInstant,
  parseXml,
  requiredChild,
  textOf,
  XmlRejected,
  type Document,
  type Element,
  type Node,
  type ParsedDocument,
} from "./xml";
import { hasSignature, SignatureRejected, verifyElement } from "./xmldsig";

/**
 * The service as a SAML SP reads an IdP's <samlp:Response> (Web Browser SSO, Profiles §4.1)
 * here, and only here. Pure: no HTTP, no storage; single use of the assertion ID and of the
 * request ID is the caller's (core/saml-sp/acs.ts).
 *
 * The order matters: structure first (exactly one assertion in the whole document, as a direct
 * child of the Response), then signatures (over the very elements read), then the values, read
 * only from the element whose signature verified. Every value goes through xml.textOf, so a
 * comment never truncates one. Each refusal is a SamlRejected whose reason names the rule.
 */

export const SAML_VERSION = "2.0";
const STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const ENTITY_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
/** SAML Core §1.3.3 leaves skew to deployments; three minutes is the common default. */
export const DEFAULT_CLOCK_SKEW_MS = 3 * 60 * 1000;

export class SamlRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "SamlRejected";
  }
}

/**
 * What the caller expects of the Response's InResponseTo:
 * - a string: the ID of the AuthnRequest this browser sent (SP-initiated);
 * - null: an unsolicited (IdP-initiated) response, which must carry no InResponseTo;
 * - a function: the caller decides once everything else has verified (the ACS consumes the
 *   pending request single use there). It gets the value read from the verified elements and
 *   answers whether it is acceptable. It is called at most once, last.
 */
export type InResponseToExpectation = string | null | ((inResponseTo: string | null) => Promise<boolean>);

export interface ResponseExpectation {
  /** The IdP's entity ID: every Issuer must equal it. */
  idpEntityId: string;
  /** Our SP entity ID: an AudienceRestriction must name it. */
  spEntityId: string;
  /** Our ACS URL: Destination and SubjectConfirmationData/@Recipient must equal it. */
  acsUrl: string;
  inResponseTo: InResponseToExpectation;
  /** The IdP's pinned signing keys (from configuration; never from KeyInfo). */
  keys: CryptoKey[];
  now: number;
  clockSkewMs?: number;
  /** Default true: the Assertion itself must be signed, a signed Response is not enough. */
  requireSignedAssertion?: boolean;
  /** Our SP's private key for an EncryptedAssertion. Not supported yet: see below. */
  decryptKey?: CryptoKey;
}

export interface SamlAssertionIdentity {
  issuer: string;
  nameId: string;
  nameIdFormat: string | null;
  sessionIndex?: string;
  /** Attribute Name -> its text values (null-prototype-safe: every key is an own property). */
  attributes: Record<string, string[]>;
  authnInstant: number;
  assertionId: string;
  /** The earliest end of validity (SubjectConfirmationData and Conditions): how long to remember its ID. */
  notOnOrAfter: number;
  inResponseTo: string | null;
}

const MAX_B64_CHARS = Math.ceil((MAX_XML_CHARS * 4) / 3) + 4096;

/**
 * A SAML message as it arrives (base64 of the XML, or the XML) parsed with the caps and
 * refusals of parseXml; throws XmlRejected or SamlRejected like readSamlResponse's own parse.
 */
export function parseSamlMessage(b64OrXml: string): ParsedDocument {
  return parseXml(decodeSamlMessage(b64OrXml));
}

/** The message as text: the POST binding's base64 (Bindings §3.5.4), or XML as-is. */
export function decodeSamlMessage(b64OrXml: string): string {
  if (typeof b64OrXml !== "string" || b64OrXml.length === 0) throw new SamlRejected("empty SAMLResponse");
  const trimmed = b64OrXml.trim();
  if (trimmed.startsWith("<")) return trimmed;
  if (trimmed.length > MAX_B64_CHARS) throw new SamlRejected("SAMLResponse too large");
  const compact = trimmed.replace(/[\r\n\t ]+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new SamlRejected("SAMLResponse is not base64");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64(compact));
  } catch {
    throw new SamlRejected("SAMLResponse is not UTF-8 XML");
  }
}

export async function readSamlResponse(b64OrXml: string | ParsedDocument, expect: ResponseExpectation): Promise<SamlAssertionIdentity> {
  try {
    return await read(b64OrXml, expect);
  } catch (e) {
    if (e instanceof SamlRejected) throw e;
    if (e instanceof XmlRejected || e instanceof SignatureRejected) throw new SamlRejected(e.reason);
    throw new SamlRejected("malformed SAML response");
  }
}

async function read(b64OrXml: string | ParsedDocument, expect: ResponseExpectation): Promise<SamlAssertionIdentity> {
  const skew = expect.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const now = expect.now;
  // A Document is the caller's own parse of the same message with parseSamlMessage (the ACS
  // reads the Issuer first to pick the IdP): parsing it twice was a millisecond of CPU.
  const doc = typeof b64OrXml === "string" ? parseSamlMessage(b64OrXml) : b64OrXml;
  const response = doc.documentElement;
  if (response.namespaceURI !== NS.samlp || response.localName !== "Response") throw new SamlRejected("not a samlp:Response");
  if (response.getAttribute("Version") !== SAML_VERSION) throw new SamlRejected("Version must be 2.0");
  if (!response.getAttribute("ID")) throw new SamlRejected("the Response has no ID");
  refuseCommentsInSignatures(doc);

  // Structure before signatures: exactly one Assertion in the WHOLE document, and it is a
  // direct child of the Response. Signature wrapping (XSW1-8, samlify CVE-2025-47949) needs a
  // second Assertion somewhere (in an Extensions, an Object, a wrapper, the Signature itself),
  // so a document holding two is refused before anything is read.
  if (doc.getElementsByTagNameNS(NS.xenc, "EncryptedData").length > 0 || childElements(response, NS.saml, "EncryptedAssertion").length > 0) {
    // EncryptedAssertion (SAML Core §2.3.4): decryption is not built yet; refusing is safe.
    throw new SamlRejected(expect.decryptKey ? "encrypted assertions are not supported yet" : "an encrypted assertion arrived but no decryption key is configured");
  }
  const everyAssertion = allByLocalName(doc, "Assertion");
  if (everyAssertion.length !== 1) throw new SamlRejected(`exactly one Assertion is accepted, found ${everyAssertion.length}`);
  const assertion = everyAssertion[0]!;
  if (assertion.namespaceURI !== NS.saml || assertion.parentNode !== (response as unknown as Node)) {
    throw new SamlRejected("the Assertion must be a direct child of the Response");
  }

  // Signatures over the elements read, keys pinned (xmldsig.verifyElement).
  const responseSigned = hasSignature(response);
  if (responseSigned) await verifyElement(doc, response, expect.keys);
  if (expect.requireSignedAssertion !== false || !responseSigned) {
    if (!hasSignature(assertion)) {
      throw new SamlRejected(responseSigned ? "the Assertion is not signed (a signed Response around it is not enough)" : "neither the Response nor the Assertion is signed");
    }
    await verifyElement(doc, assertion, expect.keys);
  } else if (hasSignature(assertion)) {
    await verifyElement(doc, assertion, expect.keys);
  }
  // No other Signature anywhere: one we did not check must not be mistaken for one we did.
  for (const s of Array.from(doc.getElementsByTagNameNS(NS.ds, "Signature"))) {
    const parent = s.parentNode as unknown as Element | null;
    if (parent !== response && parent !== assertion) throw new SamlRejected("a Signature outside the Response and the Assertion");
  }

  // The Response (Core §3.2.2, §3.3.3; Bindings §3.5.5.2).
  const destination = response.getAttribute("Destination");
  if (responseSigned && !destination) throw new SamlRejected("a signed Response must carry a Destination");
  if (destination !== null && destination !== expect.acsUrl) throw new SamlRejected("Destination is not our ACS URL");
  const responseIssuer = optionalChild(response, NS.saml, "Issuer");
  if (responseIssuer) checkIssuer(responseIssuer, expect.idpEntityId);
  else if (responseSigned) throw new SamlRejected("a signed Response must carry an Issuer");
  const status = requiredChild(response, NS.samlp, "Status");
  const code = requiredChild(status, NS.samlp, "StatusCode").getAttribute("Value");
  if (code !== STATUS_SUCCESS) throw new SamlRejected(`the IdP answered ${code ?? "no status"}`);
  const responseInResponseTo = response.getAttribute("InResponseTo");

  // The Assertion (Core §2.3.3), every value from it and nothing else.
  if (assertion.getAttribute("Version") !== SAML_VERSION) throw new SamlRejected("Assertion Version must be 2.0");
  const assertionId = assertion.getAttribute("ID");
  if (!assertionId) throw new SamlRejected("the Assertion has no ID");
  if (parseInstant(assertion.getAttribute("IssueInstant")) === null) throw new SamlRejected("the Assertion has no valid IssueInstant");
  const issuer = checkIssuer(requiredChild(assertion, NS.saml, "Issuer"), expect.idpEntityId);

  const subject = requiredChild(assertion, NS.saml, "Subject");
  const nameIdEl = optionalChild(subject, NS.saml, "NameID");
  if (!nameIdEl) throw new SamlRejected("the Subject has no NameID (EncryptedID and BaseID are not supported)");
  const nameId = textOf(nameIdEl).trim();
  if (!nameId || nameId.length > 1024) throw new SamlRejected("NameID is empty or too long");
  const nameIdFormat = nameIdEl.getAttribute("Format") || null;

  const confirmation = bearerConfirmation(subject, expect.acsUrl, now, skew);
  const scdInResponseTo = confirmation.inResponseTo;
  // Both places name the same request, or one is absent (Profiles §4.1.4.2).
  if (responseInResponseTo !== null && scdInResponseTo !== null && responseInResponseTo !== scdInResponseTo) {
    throw new SamlRejected("InResponseTo differs between the Response and the SubjectConfirmationData");
  }
  const inResponseTo = scdInResponseTo ?? responseInResponseTo;

  const conditionsEnd = checkConditions(requiredChild(assertion, NS.saml, "Conditions"), expect.spEntityId, now, skew);

  const authn = childElements(assertion, NS.saml, "AuthnStatement");
  if (authn.length === 0) throw new SamlRejected("the Assertion has no AuthnStatement");
  const authnInstant = parseInstant(authn[0]!.getAttribute("AuthnInstant"));
  if (authnInstant === null) throw new SamlRejected("AuthnStatement has no valid AuthnInstant");
  const sessionEnd = authn[0]!.getAttribute("SessionNotOnOrAfter");
  if (sessionEnd !== null) {
    const t = parseInstant(sessionEnd);
    if (t === null || now >= t + skew) throw new SamlRejected("the IdP session has ended (SessionNotOnOrAfter)");
  }
  const sessionIndex = authn[0]!.getAttribute("SessionIndex");

  const attributes = readAttributes(assertion);

  // Last, because the caller's check may be single use: nothing after it can fail.
  if (typeof expect.inResponseTo === "function") {
    if (!(await expect.inResponseTo(inResponseTo))) throw new SamlRejected(inResponseTo ? "InResponseTo names no pending request of ours" : "unsolicited responses are not accepted");
  } else if (expect.inResponseTo === null) {
    if (inResponseTo !== null) throw new SamlRejected("an unsolicited response was expected (InResponseTo present)");
  } else if (inResponseTo !== expect.inResponseTo || scdInResponseTo === null) {
    throw new SamlRejected("InResponseTo does not match our request");
  }

  return {
    issuer,
    nameId,
    nameIdFormat,
    ...(sessionIndex ? { sessionIndex } : {}),
    attributes,
    authnInstant,
    assertionId,
    notOnOrAfter: Math.min(confirmation.notOnOrAfter, conditionsEnd ?? confirmation.notOnOrAfter),
    inResponseTo,
  };
}

/** Every element with this local name, in any namespace (a wrapper may use another prefix or none). */
function allByLocalName(doc: Document, localName: string): Element[] {
  return Array.from(doc.getElementsByTagName("*")).filter((e) => e.localName === localName) as Element[];
}

const COMMENT_NODE = 8;

/**
 * No comments anywhere inside a ds:Signature. Exclusive c14n without comments drops them from
 * SignedInfo, so a comment changes nothing that is signed; a library that read the first child
 * node of DigestValue read the comment instead (xml-crypto CVE-2025-29775). Nothing legitimate
 * puts a comment there.
 */
function refuseCommentsInSignatures(doc: Document): void {
  const walk = (n: Node): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === COMMENT_NODE) throw new SamlRejected("a comment inside a Signature");
      walk(c);
    }
  };
  for (const s of Array.from(doc.getElementsByTagNameNS(NS.ds, "Signature"))) walk(s as unknown as Node);
}

/** An Issuer (Core §2.2.5): the IdP's entity ID, with the entity format or none (Profiles §4.1.4.2). */
function checkIssuer(el: Element, idpEntityId: string): string {
  const format = el.getAttribute("Format");
  if (format && format !== ENTITY_FORMAT) throw new SamlRejected("Issuer Format must be entity");
  const value = textOf(el).trim();
  if (value !== idpEntityId) throw new SamlRejected("Issuer is not the configured IdP");
  return value;
}

/**
 * A bearer SubjectConfirmation whose data holds (Profiles §4.1.4.2, §4.1.4.3): Recipient = our
 * ACS URL, NotOnOrAfter in the future, no NotBefore. Each failing one gives its reason; the
 * first that holds is used.
 */
function bearerConfirmation(subject: Element, acsUrl: string, now: number, skew: number): { notOnOrAfter: number; inResponseTo: string | null } {
  let reason = "no bearer SubjectConfirmation";
  for (const sc of childElements(subject, NS.saml, "SubjectConfirmation")) {
    if (sc.getAttribute("Method") !== BEARER) continue;
    const data = optionalChild(sc, NS.saml, "SubjectConfirmationData");
    if (!data) {
      reason = "the bearer SubjectConfirmation has no SubjectConfirmationData";
      continue;
    }
    if (data.getAttribute("Recipient") !== acsUrl) {
      reason = "Recipient is not our ACS URL";
      continue;
    }
    if (data.getAttribute("NotBefore") !== null) {
      reason = "a bearer SubjectConfirmationData must not carry NotBefore";
      continue;
    }
    const end = parseInstant(data.getAttribute("NotOnOrAfter"));
    if (end === null) {
      reason = "SubjectConfirmationData has no valid NotOnOrAfter";
      continue;
    }
    if (now >= end + skew) {
      reason = "the assertion has expired (SubjectConfirmationData NotOnOrAfter)";
      continue;
    }
    return { notOnOrAfter: end, inResponseTo: data.getAttribute("InResponseTo") };
  }
  throw new SamlRejected(reason);
}

/**
 * Conditions (Core §2.5.1): the time window with skew, and our entity ID in EVERY
 * AudienceRestriction (§2.5.1.4: each one must hold). An unknown condition makes the
 * assertion's validity Indeterminate (§2.5.1.5): refused.
 */
function checkConditions(conditions: Element, spEntityId: string, now: number, skew: number): number | null {
  const notBefore = conditions.getAttribute("NotBefore");
  if (notBefore !== null) {
    const t = parseInstant(notBefore);
    if (t === null) throw new SamlRejected("Conditions NotBefore is not a valid instant");
    if (now + skew < t) throw new SamlRejected("the assertion is not yet valid (Conditions NotBefore)");
  }
  const notOnOrAfter = conditions.getAttribute("NotOnOrAfter");
  let end: number | null = null;
  if (notOnOrAfter !== null) {
    end = parseInstant(notOnOrAfter);
    if (end === null) throw new SamlRejected("Conditions NotOnOrAfter is not a valid instant");
    if (now >= end + skew) throw new SamlRejected("the assertion has expired (Conditions NotOnOrAfter)");
  }
  let audiences = 0;
  for (const c of childElements(conditions)) {
    const name = c.namespaceURI === NS.saml ? c.localName : null;
    if (name === "AudienceRestriction") {
      audiences++;
      const list = childElements(c, NS.saml, "Audience").map((a) => textOf(a).trim());
      if (!list.includes(spEntityId)) throw new SamlRejected("the Audience is not our SP entity ID");
    } else if (name !== "OneTimeUse" && name !== "ProxyRestriction") {
      throw new SamlRejected(`unknown condition ${c.localName ?? ""}`);
    }
  }
  if (audiences === 0) throw new SamlRejected("the assertion has no AudienceRestriction (Profiles §4.1.4.2)");
  return end;
}

const MAX_ATTRIBUTES = 200;
const MAX_VALUES = 200;

/** AttributeStatement values as text; values with element content (complex types) are skipped. */
function readAttributes(assertion: Element): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  let count = 0;
  for (const st of childElements(assertion, NS.saml, "AttributeStatement")) {
    for (const attr of childElements(st, NS.saml, "Attribute")) {
      const name = attr.getAttribute("Name");
      if (!name || name.length > 512) continue;
      if (++count > MAX_ATTRIBUTES) throw new SamlRejected("too many attributes");
      const values: string[] = [];
      for (const v of childElements(attr, NS.saml, "AttributeValue").slice(0, MAX_VALUES)) {
        if (v.getAttributeNS(NS.xsi, "nil") === "true") continue;
        if (childElements(v).length > 0) continue;
        values.push(textOf(v));
      }
      const prev = Object.prototype.hasOwnProperty.call(out, name) ? out[name]! : [];
      Object.defineProperty(out, name, { value: [...prev, ...values], enumerable: true, writable: true, configurable: true });
    }
  }
  // A plain object for callers (JSON, spreads), every name an own property.
  const plain: Record<string, string[]> = {};
  for (const k of Object.keys(out)) Object.defineProperty(plain, k, { value: out[k], enumerable: true, writable: true, configurable: true });
  return plain;
}
