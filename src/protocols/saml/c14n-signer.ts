import { toBase64, utf8 } from "../../crypto/encoding";
import { NS, XmlRejected } from "./xml";
import { SIGNATURE_URI, type SignatureAlg } from "./xmldsig";

/**
 * Enveloped XML signatures over elements we build ourselves, without a DOM: the element is a
 * small tree, its exclusive canonical form (Exc-C14N 1.0, without comments, no
 * InclusiveNamespaces) is written straight from the tree, digested and signed, and the document
 * is written from the same tree. Parsing the built XML and letting xmldsigjs clone and
 * canonicalize it cost most of a SAML answer's CPU (docs/benchmarks.md "CPU per route").
 *
 * Only for XML we generate: every element and attribute is prefixed or unqualified exactly as
 * built, no default namespace, no comments, no processing instructions. Verification of what
 * others send stays with xmldsig.ts (xmldom + xmldsigjs). The canonical form is checked
 * byte for byte against xmldsigjs's exclusive c14n of the parsed document in c14n-signer.spec.ts.
 */

export interface XAttr {
  /** Local name. */
  name: string;
  value: string;
  /** Prefix and namespace of a qualified attribute (e.g. xsi:type); absent for unqualified. */
  prefix?: string;
  ns?: string;
}

export interface XElement {
  prefix: string;
  ns: string;
  name: string;
  attrs: XAttr[];
  children: XChild[];
  /**
   * Extra namespace declarations written on this element in the document (prefix -> URI),
   * e.g. xmlns:xs for QName values such as xsi:type="xs:string" that no name uses. They do not
   * appear in the canonical form unless a name on this element uses the prefix.
   */
  declare?: Record<string, string>;
}

export type XChild = XElement | string;

export const x = (prefix: string, ns: string, name: string, attrs: XAttr[] = [], children: XChild[] = [], declare?: Record<string, string>): XElement => ({
  prefix,
  ns,
  name,
  attrs,
  children,
  ...(declare ? { declare } : {}),
});
export const a = (name: string, value: string): XAttr => ({ name, value });

// XML 1.0 Char (§2.2): what a parser accepts. Anything else would make a document the SP cannot
// read, and one the old parse-then-sign path refused (parseXml): refuse it the same way.
// eslint-disable-next-line no-control-regex
const NOT_XML_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

function checked(s: string): string {
  if (NOT_XML_CHAR.test(s)) throw new XmlRejected("malformed XML: a character XML does not allow");
  return s;
}

// Canonical XML 1.0 §2.3 (Exc-C14N §3 defers to it): text and attribute escaping.
const C14N_TEXT: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;" };
const C14N_ATTR: Record<string, string> = { "&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;" };
const c14nText = (s: string) => checked(s).replace(/[&<>\r]/g, (c) => C14N_TEXT[c]!);
const c14nAttr = (s: string) => checked(s).replace(/[&<"\t\n\r]/g, (c) => C14N_ATTR[c]!);

// The document: escaped so that a parser reads back exactly the model's characters (a raw \r
// would be read as \n, a raw tab or newline in an attribute as a space).
const DOC_TEXT: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" };
const DOC_ATTR: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;" };
const docText = (s: string) => checked(s).replace(/[&<>\r]/g, (c) => DOC_TEXT[c]!);
const docAttr = (s: string) => checked(s).replace(/[&<>"\t\n\r]/g, (c) => DOC_ATTR[c]!);

const qname = (prefix: string | undefined, name: string) => (prefix ? `${prefix}:${name}` : name);
/** Code-point order, as Canonical XML sorts (JavaScript's < compares UTF-16 units, not the same above U+FFFF). */
const byCodePoint = (p: string, q: string) => {
  const A = Array.from(p);
  const B = Array.from(q);
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const d = A[i]!.codePointAt(0)! - B[i]!.codePointAt(0)!;
    if (d) return d;
  }
  return A.length - B.length;
};

/**
 * The element's exclusive canonical form, as the apex of the node-set when `rendered` is
 * empty (what a Reference to it digests, once its own Signature is left out), or inside
 * output ancestors that rendered `rendered` (prefix -> URI).
 */
export function canonical(e: XElement, rendered: ReadonlyMap<string, string> = new Map()): string {
  if (!e.prefix) throw new Error("c14n-signer: unprefixed elements are not supported");
  // Visibly utilized prefixes (Exc-C14N §3): the element's own and its qualified attributes'.
  const used = new Map<string, string>([[e.prefix, e.ns]]);
  for (const at of e.attrs) {
    if (!at.prefix) continue;
    const prior = used.get(at.prefix);
    if (prior !== undefined && prior !== at.ns) throw new Error(`c14n-signer: prefix ${at.prefix} bound twice`);
    used.set(at.prefix, at.ns!);
  }
  const out = new Map(rendered);
  const decls: [string, string][] = [];
  for (const [p, uri] of used) {
    if (rendered.get(p) === uri) continue;
    decls.push([p, uri]);
    out.set(p, uri);
  }
  decls.sort((m, n) => byCodePoint(m[0], n[0]));
  // Unqualified attributes first (empty namespace URI), then by namespace URI, then local name.
  const attrs = [...e.attrs].sort((m, n) => byCodePoint(m.ns ?? "", n.ns ?? "") || byCodePoint(m.name, n.name));
  const name = qname(e.prefix, e.name);
  let s = `<${name}`;
  for (const [p, uri] of decls) s += ` xmlns:${p}="${c14nAttr(uri)}"`;
  for (const at of attrs) s += ` ${qname(at.prefix, at.name)}="${c14nAttr(at.value)}"`;
  s += ">";
  for (const c of e.children) s += typeof c === "string" ? c14nText(c) : canonical(c, out);
  return `${s}</${name}>`;
}

/**
 * The document form: the namespaces each element uses are declared where they are not yet in
 * scope (plus its `declare` ones), attributes in the order built, an element without children
 * as a start and an end tag. `inScope` is what the enclosing elements declared.
 */
export function serialize(e: XElement, inScope: ReadonlyMap<string, string> = new Map()): string {
  const scope = new Map(inScope);
  const decls: [string, string][] = [];
  const need = (p: string | undefined, uri: string | undefined) => {
    if (!p || uri === undefined || scope.get(p) === uri) return;
    scope.set(p, uri);
    decls.push([p, uri]);
  };
  need(e.prefix, e.ns);
  for (const [p, uri] of Object.entries(e.declare ?? {})) need(p, uri);
  for (const at of e.attrs) need(at.prefix, at.ns);
  const name = qname(e.prefix, e.name);
  let s = `<${name}`;
  for (const [p, uri] of decls) s += ` xmlns:${p}="${docAttr(uri)}"`;
  for (const at of e.attrs) s += ` ${qname(at.prefix, at.name)}="${docAttr(at.value)}"`;
  s += ">";
  for (const c of e.children) s += typeof c === "string" ? docText(c) : serialize(c, scope);
  return `${s}</${name}>`;
}

const EXC_C14N = NS.excC14n;
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";
const ds = (name: string, attrs: XAttr[] = [], children: XChild[] = []) => x("ds", NS.ds, name, attrs, children);

export interface TreeSignOptions {
  key: CryptoKey;
  alg: SignatureAlg;
  /** The signer's certificate, base64 DER, for KeyInfo/X509Data (outside what is signed). */
  certB64?: string;
  /** Where the Signature goes among `element`'s children (SAML: right after Issuer). */
  index: number;
  /** The ID attribute's name: ID (SAML 2.0) or AssertionID (SAML 1.1). */
  idAttr?: string;
}

/**
 * Signs `element` with an enveloped signature (XML-DSig 1.1 §6.6.4 enveloped-signature, then
 * exclusive c14n; SHA-256; RSA-SHA256 or ECDSA-SHA256), the same profile xmldsig.ts accepts and
 * signElement writes, and inserts the Signature at `index`. The digest covers the element's
 * canonical form as it stands (without this Signature), so sign inner elements first.
 */
export async function signTree(element: XElement, opts: TreeSignOptions): Promise<XElement> {
  const id = element.attrs.find((at) => !at.prefix && at.name === (opts.idAttr ?? "ID"))?.value;
  if (!id) throw new Error("signTree: the element has no ID");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(canonical(element))));
  const signedInfo = ds("SignedInfo", [], [
    ds("CanonicalizationMethod", [a("Algorithm", EXC_C14N)]),
    ds("SignatureMethod", [a("Algorithm", SIGNATURE_URI[opts.alg])]),
    ds("Reference", [a("URI", `#${id}`)], [
      ds("Transforms", [], [ds("Transform", [a("Algorithm", ENVELOPED)]), ds("Transform", [a("Algorithm", EXC_C14N)])]),
      ds("DigestMethod", [a("Algorithm", SHA256)]),
      ds("DigestValue", [], [toBase64(digest)]),
    ]),
  ]);
  const params = opts.alg === "RSA-SHA256" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" };
  // ECDSA: WebCrypto's signature is r || s, the form XML-DSig 1.1 §6.4.3 specifies.
  const value = new Uint8Array(await crypto.subtle.sign(params, opts.key, utf8(canonical(signedInfo))));
  const children: XChild[] = [signedInfo, ds("SignatureValue", [], [toBase64(value)])];
  if (opts.certB64) children.push(ds("KeyInfo", [], [ds("X509Data", [], [ds("X509Certificate", [], [opts.certB64.replace(/\s+/g, "")])])]));
  const signature = ds("Signature", [], children);
  element.children.splice(opts.index, 0, signature);
  return signature;
}
