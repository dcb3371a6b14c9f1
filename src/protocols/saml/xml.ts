import { DOMParser, XMLSerializer, type Document, type Element, type Node } from "@xmldom/xmldom";

export type { Document, Element, Node };

/**
 * The one way XML enters the service (SAML messages, WS-Fed results, metadata): a
 * namespace-aware xmldom parse behind checks that come before it.
 *
 * - A size cap, because every later step (c14n, digests, XPath-free walks) is linear in it.
 * - No DOCTYPE at all: SAML forbids it (SAML Core §1.3 and Bindings §3.4.4/§3.5.4 carry no DTD)
 *   and it is where entity expansion ("billion laughs") and external entities live.
 * - No processing instructions but the XML declaration: nothing we read uses them and they are
 *   a place to hide content from a reader that skips them.
 * - Any xmldom warning or error is fatal: a lenient parser that "repairs" a document reads
 *   something other than what its signer signed.
 *
 * Comments survive parsing (xmldom keeps them as nodes); readers take values through
 * `textOf`, which joins the text nodes only, the same content exclusive c14n signs.
 */

export const NS = {
  saml: "urn:oasis:names:tc:SAML:2.0:assertion",
  samlp: "urn:oasis:names:tc:SAML:2.0:protocol",
  md: "urn:oasis:names:tc:SAML:2.0:metadata",
  ds: "http://www.w3.org/2000/09/xmldsig#",
  xenc: "http://www.w3.org/2001/04/xmlenc#",
  xenc11: "http://www.w3.org/2009/xmlenc11#",
  excC14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
  saml1: "urn:oasis:names:tc:SAML:1.0:assertion",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
  xs: "http://www.w3.org/2001/XMLSchema",
  wst: "http://schemas.xmlsoap.org/ws/2005/02/trust",
  wsp: "http://schemas.xmlsoap.org/ws/2004/09/policy",
  wsa: "http://www.w3.org/2005/08/addressing",
  wsu: "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
} as const;

/** 256 KiB of characters: a signed SAML response with a few certificates is under 20 KiB. */
export const MAX_XML_CHARS = 256 * 1024;

/** The message is not XML we accept; `reason` says why, for logs and error descriptions. */
export class XmlRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "XmlRejected";
  }
}

const DOCTYPE = /<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST/i;
// Every "<?" must be the one XML declaration at the very start.
const PI = /<\?/g;

/** A parsed document, which always has a root element. */
export type ParsedDocument = Document & { documentElement: Element };

export function parseXml(text: string, opts: { maxChars?: number } = {}): ParsedDocument {
  if (typeof text !== "string" || text.length === 0) throw new XmlRejected("empty XML");
  const max = opts.maxChars ?? MAX_XML_CHARS;
  if (text.length > max) throw new XmlRejected(`XML longer than ${max} characters`);
  const body = text.replace(/^\uFEFF/, "");
  if (DOCTYPE.test(body)) throw new XmlRejected("XML with a DOCTYPE or entity declaration is refused");
  for (const m of body.matchAll(PI)) {
    if (m.index !== 0 || !/^<\?xml\s[^?]*\?>/.test(body)) throw new XmlRejected("XML processing instructions are refused");
  }
  let problem: string | null = null;
  const parser = new DOMParser({
    onError: (level: string, msg: string) => {
      problem ??= `${level}: ${msg.split("\n")[0]}`;
    },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(body, "application/xml") as unknown as Document;
  } catch (e) {
    throw new XmlRejected(`malformed XML: ${e instanceof Error ? e.message.split("\n")[0] : "parse error"}`);
  }
  if (problem) throw new XmlRejected(`malformed XML: ${problem}`);
  if (!doc || !doc.documentElement) throw new XmlRejected("malformed XML: no root element");
  return doc as ParsedDocument;
}

export function serializeXml(node: Node): string {
  return new XMLSerializer().serializeToString(node as never);
}

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_NODE = 4;

/** The element children of `el`, optionally only those with this namespace and local name. */
export function childElements(el: Element, ns?: string, localName?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== ELEMENT_NODE) continue;
    const e = n as Element;
    if (ns !== undefined && e.namespaceURI !== ns) continue;
    if (localName !== undefined && e.localName !== localName) continue;
    out.push(e);
  }
  return out;
}

/** The single child element with this name, null when absent; throws when there are several. */
export function optionalChild(el: Element, ns: string, localName: string): Element | null {
  const all = childElements(el, ns, localName);
  if (all.length > 1) throw new XmlRejected(`more than one ${localName} in ${el.localName}`);
  return all[0] ?? null;
}

/** The single child element with this name; throws when it is absent or repeated. */
export function requiredChild(el: Element, ns: string, localName: string): Element {
  const c = optionalChild(el, ns, localName);
  if (!c) throw new XmlRejected(`${el.localName} has no ${localName}`);
  return c;
}

/**
 * The element's text: its text and CDATA children joined, comments skipped, child elements
 * refused. Joining is what closes the comment-truncation attacks (CVE-2017-11428 family):
 * `a@evil.com<!---->.good.com` reads as the whole string exclusive c14n signed, never as the
 * first text node.
 */
export function textOf(el: Element): string {
  let s = "";
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_NODE) s += n.nodeValue ?? "";
    else if (n.nodeType === ELEMENT_NODE) throw new XmlRejected(`${el.localName} must hold text only`);
  }
  return s;
}

/** Every element of the document carrying an ID-type attribute (ID, Id, AssertionID) equal to `id`. */
export function elementsWithId(doc: Document, id: string): Element[] {
  const out: Element[] = [];
  const walk = (el: Element) => {
    for (const name of ["ID", "Id", "id", "AssertionID"]) {
      if (el.getAttribute(name) === id) {
        out.push(el);
        break;
      }
    }
    for (const c of childElements(el)) walk(c);
  };
  if (doc.documentElement) walk(doc.documentElement);
  return out;
}

const XML_TEXT: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
const XML_ATTR: Record<string, string> = { ...XML_TEXT, '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;" };

/** Text content escaped for building XML by string. */
export function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => XML_TEXT[c]!);
}

/** An attribute value escaped for a double-quoted attribute. */
export function escapeAttr(s: string): string {
  return s.replace(/[&<>"\n\r\t]/g, (c) => XML_ATTR[c]!);
}

/** A SAML ID (xs:ID, an NCName): '_' and 40 hex characters, 160 bits of randomness. */
export function newSamlId(): string {
  const b = crypto.getRandomValues(new Uint8Array(20));
  return "_" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** xs:dateTime in UTC without fractions, as SAML Core §1.3.3 asks. */
export function samlInstant(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** A SAML xs:dateTime read strictly (UTC or an offset); null when it is not one. */
export function parseInstant(s: string | null): number | null {
  if (!s || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(s)) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}
