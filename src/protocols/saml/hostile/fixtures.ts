import { expect } from "vitest";
import { readSamlResponse, SamlRejected, type ResponseExpectation } from "../response-reader";
import { childElements, escapeAttr, escapeText, NS, parseXml, samlInstant, serializeXml, type Document, type Element, type ParsedDocument } from "../xml";
import { signElement, SignatureRejected, verifyElement } from "../xmldsig";

/**
 * The hostile corpus's one builder: a good, signed IdP response made here with a generated key
 * (the same xmldsig.signElement an IdP of ours uses), which each attack file then mutates as a
 * DOM. Every attack file first checks that the unmutated response is accepted, so a refusal is
 * the attack's, not a broken fixture's.
 */

export const IDP = "https://idp.example.com/metadata";
export const SP = "https://auth.example.test/saml/c1/sp";
export const ACS = "https://auth.example.test/saml/c1/sp/acs";
export const REQUEST_ID = "_0123456789abcdef0123456789abcdef01234567";
export const NOW = Date.parse("2026-06-01T12:00:00Z");

const RSA = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
let cached: Promise<CryptoKeyPair> | null = null;
/** The IdP's key pair, generated once per test file (RSA generation is slow in workerd). */
export function idpKeys(): Promise<CryptoKeyPair> {
  cached ??= crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
  return cached;
}
export function otherKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(RSA, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

export interface ResponseOptions {
  responseId?: string;
  assertionId?: string;
  nameId?: string;
  destination?: string | null;
  recipient?: string;
  audience?: string;
  issuer?: string;
  inResponseTo?: string | null;
  /** Instant the assertion is issued; NotBefore = it - 1 min, NotOnOrAfter = it + 5 min. */
  issuedAt?: number;
  attributes?: Record<string, string[]>;
}

/** The unsigned response, as an IdP builds it (SAML Core §2-3, Profiles §4.1.4.2). */
export function responseXml(o: ResponseOptions = {}): string {
  const at = o.issuedAt ?? NOW;
  const irt = o.inResponseTo === undefined ? REQUEST_ID : o.inResponseTo;
  const irtAttr = irt ? ` InResponseTo="${escapeAttr(irt)}"` : "";
  const dest = o.destination === undefined ? ACS : o.destination;
  const issuer = escapeText(o.issuer ?? IDP);
  const attrs = Object.entries(o.attributes ?? { email: ["alice@example.com"], groups: ["staff", "admins"] })
    .map(([k, vs]) => `<saml:Attribute Name="${escapeAttr(k)}">${vs.map((v) => `<saml:AttributeValue>${escapeText(v)}</saml:AttributeValue>`).join("")}</saml:Attribute>`)
    .join("");
  return (
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${o.responseId ?? "_resp1"}" Version="2.0" IssueInstant="${samlInstant(at)}"` +
    `${dest ? ` Destination="${escapeAttr(dest)}"` : ""}${irtAttr}>` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion ID="${o.assertionId ?? "_assert1"}" Version="2.0" IssueInstant="${samlInstant(at)}">` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${escapeText(o.nameId ?? "alice@example.com")}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${irtAttr} Recipient="${escapeAttr(o.recipient ?? ACS)}" NotOnOrAfter="${samlInstant(at + 5 * 60_000)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${samlInstant(at - 60_000)}" NotOnOrAfter="${samlInstant(at + 5 * 60_000)}"><saml:AudienceRestriction><saml:Audience>${escapeText(o.audience ?? SP)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${samlInstant(at)}" SessionIndex="_sess1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` +
    `</saml:Assertion></samlp:Response>`
  );
}

export interface SignOptions {
  signAssertion?: boolean;
  signResponse?: boolean;
  key?: CryptoKey;
}

/** Signs as an IdP does: the Assertion first, then (optionally) the Response around it. */
export async function signXml(xml: string, s: SignOptions = {}): Promise<string> {
  const key = s.key ?? (await idpKeys()).privateKey;
  const doc = parseXml(xml);
  if (s.signAssertion !== false) await signElement(doc, assertionOf(doc), { key, alg: "RSA-SHA256" });
  if (s.signResponse) await signElement(doc, doc.documentElement, { key, alg: "RSA-SHA256" });
  return serializeXml(doc);
}

/** A good signed response (assertion signed; response too when asked). */
export async function goodResponse(o: ResponseOptions = {}, s: SignOptions = {}): Promise<string> {
  return signXml(responseXml(o), s);
}

/** Parse, mutate the DOM, serialize: how every attack is applied. */
export function mutate(xml: string, fn: (doc: ParsedDocument) => void): string {
  const doc = parseXml(xml);
  fn(doc);
  return serializeXml(doc);
}

export function assertionOf(doc: Document): Element {
  return doc.getElementsByTagNameNS(NS.saml, "Assertion")[0]!;
}
export function nameIdOf(el: Element): Element {
  return el.getElementsByTagNameNS(NS.saml, "NameID")[0]!;
}
export function b64(xml: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(xml)));
}

export async function expectation(over: Partial<ResponseExpectation> = {}): Promise<ResponseExpectation> {
  return { idpEntityId: IDP, spEntityId: SP, acsUrl: ACS, inResponseTo: REQUEST_ID, keys: [(await idpKeys()).publicKey], now: NOW, ...over };
}

/** The attack must be refused with a SamlRejected whose reason matches. */
export async function expectRefused(xml: string, reason: RegExp, over: Partial<ResponseExpectation> = {}): Promise<void> {
  const err = await readSamlResponse(b64(xml), await expectation(over)).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "the attack was accepted").toBeInstanceOf(SamlRejected);
  expect((err as SamlRejected).reason).toMatch(reason);
}

/** The unmutated fixture is accepted and reads as alice. */
export async function expectAccepted(xml: string, over: Partial<ResponseExpectation> = {}): Promise<void> {
  const id = await readSamlResponse(b64(xml), await expectation(over));
  expect(id.nameId).toBe("alice@example.com");
}

export const EVIL_NAME = "admin@example.com";

/** The ds:Signature child of `el` (the enveloped one), or null. */
export function signatureOf(el: Element): Element | null {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    const e = n as Element;
    if (n.nodeType === 1 && e.namespaceURI === NS.ds && e.localName === "Signature") return e;
  }
  return null;
}

/** Removes `el`'s enveloped signature, returning it. */
export function detachSignature(el: Element): Element {
  const s = signatureOf(el);
  if (!s) throw new Error("fixture: element is not signed");
  el.removeChild(s);
  return s;
}

/**
 * The attacker's copy of a signed element: deep clone, its Signature removed, the NameID set
 * to EVIL_NAME; with `id`, the copy's ID changed (most XSW variants need a fresh ID so the
 * original keeps the one its Reference names).
 */
export function evilCopy(el: Element, id?: string): Element {
  const copy = el.cloneNode(true) as Element;
  const s = signatureOf(copy);
  if (s) copy.removeChild(s);
  for (const n of Array.from(copy.getElementsByTagNameNS(NS.saml, "NameID"))) n.textContent = EVIL_NAME;
  if (id) copy.setAttribute("ID", id);
  return copy;
}

/** An element in the ds namespace, for wrappers such as ds:Object. */
export function dsElement(doc: Document, localName: string): Element {
  return doc.createElementNS(NS.ds, `ds:${localName}`);
}

/**
 * Defence in depth: even without the one-Assertion rule, the element a naive reader would take
 * (the root Response, or the Response's first Assertion child) does not verify.
 */
export async function expectReadElementUnverifiable(xml: string, which: "response" | "assertion"): Promise<void> {
  const doc = parseXml(xml);
  const el = which === "response" ? doc.documentElement : childElements(doc.documentElement, NS.saml, "Assertion")[0]!;
  const err = await verifyElement(doc, el, [(await idpKeys()).publicKey]).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "the element a naive reader takes verified").toBeInstanceOf(SignatureRejected);
}
