import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import { setNodeDependencies } from "xml-core";
import * as xmldsig from "xmldsigjs";
import { childElements, elementsWithId, NS, XmlRejected, type Document, type Element, type Node } from "./xml";

/**
 * Enveloped XML signatures (XML-DSig 1.1, as SAML Core §5.4 profiles them) made and checked
 * inside the Worker: xmldsigjs does exclusive c14n, digests and the WebCrypto signature; this
 * module decides what is acceptable, because xmldsigjs on its own verifies with the key in
 * KeyInfo and does not bind the signed reference to the element the caller reads. So:
 *
 * - the Signature is a direct child of the element it signs, and the only one there;
 * - exactly one Reference, whose URI is '#' + that element's ID, and that ID occurs once in
 *   the whole document (duplicate IDs are how signature wrapping points a reference elsewhere);
 * - transforms: enveloped-signature and exclusive c14n only (SAML Core §5.4.4), SignedInfo
 *   canonicalized with exclusive c14n, no Object or Manifest;
 * - SHA-256 digests and RSA-SHA256 / ECDSA-SHA256 signatures (SHA-1 refused);
 * - the key comes from configuration, never from KeyInfo.
 */

export type SignatureAlg = "RSA-SHA256" | "ECDSA-SHA256";

export const SIGNATURE_URI: Record<SignatureAlg, string> = {
  "RSA-SHA256": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  "ECDSA-SHA256": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
};
const ALG_OF_URI = new Map(Object.entries(SIGNATURE_URI).map(([k, v]) => [v, k as SignatureAlg]));
const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const EXC_C14N = NS.excC14n;

let ready = false;
function init(): void {
  if (ready) return;
  xmldsig.Application.setEngine("WebCrypto", crypto);
  // xml-core only needs xpath for Select(), which neither signing nor verifying reaches.
  setNodeDependencies({ DOMParser, XMLSerializer });
  ready = true;
}

type SignAlgorithm = Parameters<xmldsig.SignedXml["Sign"]>[0];

/**
 * xmldsigjs resolves a '#id' Reference through Id/ID/id attributes only; SAML 1.1's ID
 * attribute is AssertionID (SAML 1.1 Core §2.3.2). For the element being signed or verified
 * (bound to the Reference by the checks in this module), digest that element directly.
 */
class BoundSignedXml extends xmldsig.SignedXml {
  constructor(
    doc: Document | undefined,
    private readonly target: Element,
  ) {
    super(doc as never);
  }
  /**
   * xmldsigjs's Sign without its first step, a deep clone of the element to sign: every
   * digest already works on a clone of the referenced element (DigestReference), and nothing
   * else writes to it, so the copy only cost CPU (a clone of the whole Response per signature,
   * about half of a SAML answer's clone time; docs/benchmarks.md "CPU per route"). Otherwise
   * the same steps, in the same order, as xmldsigjs 2.8.8 build/esm/signed_xml.js `Sign`.
   */
  override async Sign(algorithm: SignAlgorithm, key: CryptoKey, data: Element, options: xmldsig.OptionsSign = {}): Promise<xmldsig.Signature> {
    const signingAlg = { ...algorithm, ...key.algorithm } as SignAlgorithm & { hash?: unknown };
    const keyHash = (key.algorithm as { hash?: unknown }).hash;
    if (keyHash) signingAlg.hash = keyHash;
    const alg = xmldsig.CryptoConfig.GetSignatureAlgorithm(signingAlg);
    await this.ApplySignOptions(this.XmlSignature, algorithm, key, options);
    await this.DigestReferences(data as never);
    this.XmlSignature.SignedInfo.SignatureMethod = xmldsig.CryptoConfig.CreateSignatureMethod(alg);
    const si = this.TransformSignedInfo(data as never);
    const signature = await alg.Sign(si, key, signingAlg as never);
    this.Key = key;
    this.Algorithm = algorithm;
    this.XmlSignature.SignatureValue = new Uint8Array(signature);
    this.document = data.ownerDocument as never;
    return this.XmlSignature;
  }

  /**
   * xmldsigjs's Verify for keys already imported for the SignatureMethod (keyFits), without
   * its deep clone of the whole document: the Reference's digest works on its own clone of the
   * referenced element (DigestReference) and nothing writes to the document. The references
   * are digested once, then the SignedInfo signature checked key by key (Verify(key) per key
   * digested again for every key). Any error is a failed check.
   */
  async verifyWithKeys(keys: CryptoKey[]): Promise<boolean> {
    const root = this.document?.documentElement;
    if (!root) return false;
    try {
      if (!(await this.ValidateReferences(root as never))) return false;
    } catch {
      return false;
    }
    for (const key of keys) {
      try {
        if (await this.ValidateSignatureValue([key])) return true;
      } catch {
        // this key does not verify; try the next (a certificate rollover pins two)
      }
    }
    return false;
  }

  protected override async DigestReference(source: xmldsig.DigestReferenceSource, reference: xmldsig.Reference, checkHmac: boolean): Promise<Uint8Array> {
    const id = this.target.getAttribute("AssertionID");
    if (!id || reference.Uri !== `#${id}` || this.target.hasAttribute("ID") || this.target.hasAttribute("Id") || this.target.hasAttribute("id")) {
      return super.DigestReference(source, reference, checkHmac);
    }
    const el = this.target.cloneNode(true) as unknown as Element;
    this.CopyNamespaces(this.target as never, el as never, false);
    reference.Uri = "";
    try {
      return await super.DigestReference(el as never, reference, checkHmac);
    } finally {
      reference.Uri = `#${id}`;
    }
  }
}

/** The signature is missing, malformed, not one we accept, or does not verify. */
export class SignatureRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "SignatureRejected";
  }
}

function webCryptoAlgorithm(alg: SignatureAlg): { name: string; hash: string } {
  return alg === "RSA-SHA256" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", hash: "SHA-256" };
}

export interface SignOptions {
  key: CryptoKey;
  alg: SignatureAlg;
  /** The signer's certificate, base64 DER, put in KeyInfo for the relying party's convenience. */
  certB64?: string;
  /**
   * The child the Signature goes after. SAML's schemas put it right after <Issuer> (SAML Core
   * §2.3.3, §3.2.1); default: the element's Issuer child, else first.
   */
  after?: Element | null;
}

/** Signs `element` (which must carry an ID attribute) with an enveloped signature, in place. */
export async function signElement(doc: Document, element: Element, opts: SignOptions): Promise<void> {
  init();
  const id = element.getAttribute("ID") ?? element.getAttribute("Id") ?? element.getAttribute("AssertionID");
  if (!id) throw new Error("signElement: the element has no ID");
  const signer = new BoundSignedXml(undefined, element);
  signer.XmlSignature.SignedInfo.CanonicalizationMethod.Algorithm = EXC_C14N;
  // No `x509` option: xmldsigjs would parse the certificate (asn1js, pkijs) on every signature
  // only to write its base64 back out, about 0.8 ms of CPU each; KeyInfo is added below.
  const sig = await signer.Sign(webCryptoAlgorithm(opts.alg) as never, opts.key, element as never, {
    references: [{ uri: `#${id}`, hash: "SHA-256", transforms: ["enveloped", "exc-c14n"] }],
  });
  const sigXml = sig.GetXml();
  if (!sigXml) throw new Error("signElement: no signature produced");
  const node = doc.importNode(sigXml as unknown as Node, true) as unknown as Element;
  if (opts.certB64) node.appendChild(keyInfoX509(doc, node, opts.certB64));
  const after = opts.after !== undefined ? opts.after : (childElements(element).find((c) => c.localName === "Issuer") ?? null);
  if (after) element.insertBefore(node, after.nextSibling);
  else element.insertBefore(node, element.firstChild);
}

/**
 * `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>` (XML-DSig §4.5, §4.5.4), after
 * SignatureValue, with the Signature's own prefix: what xmldsigjs writes for its `x509` option.
 * KeyInfo is outside SignedInfo, so adding it after signing changes nothing signed.
 */
function keyInfoX509(doc: Document, signature: Element, certB64: string): Element {
  const p = signature.prefix ? `${signature.prefix}:` : "";
  const keyInfo = doc.createElementNS(NS.ds, `${p}KeyInfo`);
  const data = doc.createElementNS(NS.ds, `${p}X509Data`);
  const cert = doc.createElementNS(NS.ds, `${p}X509Certificate`);
  cert.appendChild(doc.createTextNode(certB64.replace(/\s+/g, "")));
  data.appendChild(cert);
  keyInfo.appendChild(data);
  return keyInfo;
}

function attr(el: Element | null | undefined, name: string): string | null {
  return el ? el.getAttribute(name) : null;
}

/** Is `element` directly signed (a ds:Signature child)? Says nothing about whether it verifies. */
export function hasSignature(element: Element): boolean {
  return childElements(element, NS.ds, "Signature").length > 0;
}

/**
 * Checks the enveloped signature of `element` against the pinned keys (any one may match, so
 * a certificate rollover can list two). Throws SignatureRejected with the reason.
 */
export async function verifyElement(doc: Document, element: Element, keys: CryptoKey[]): Promise<void> {
  init();
  if (keys.length === 0) throw new SignatureRejected("no trusted key is configured");
  const sigs = childElements(element, NS.ds, "Signature");
  if (sigs.length === 0) throw new SignatureRejected(`${element.localName} is not signed`);
  if (sigs.length > 1) throw new SignatureRejected(`${element.localName} has more than one Signature`);
  const sig = sigs[0]!;
  const id = element.getAttribute("ID") ?? element.getAttribute("Id") ?? element.getAttribute("AssertionID");
  if (!id) throw new SignatureRejected(`${element.localName} has no ID`);
  if (elementsWithId(doc, id).length !== 1) throw new SignatureRejected(`the ID ${id} occurs more than once`);

  const signedInfo = one(sig, "SignedInfo");
  const c14n = one(signedInfo, "CanonicalizationMethod");
  if (attr(c14n, "Algorithm") !== EXC_C14N) throw new SignatureRejected("SignedInfo must use exclusive c14n without comments");
  const method = attr(one(signedInfo, "SignatureMethod"), "Algorithm") ?? "";
  const alg = ALG_OF_URI.get(method);
  if (!alg) throw new SignatureRejected(`signature algorithm ${method || "(none)"} is not accepted (RSA-SHA256, ECDSA-SHA256)`);
  const refs = childElements(signedInfo, NS.ds, "Reference");
  if (refs.length !== 1) throw new SignatureRejected("exactly one Reference is accepted");
  const ref = refs[0]!;
  if (attr(ref, "URI") !== `#${id}`) throw new SignatureRejected("the Reference does not point at the signed element");
  const transforms = childElements(ref, NS.ds, "Transforms");
  if (transforms.length > 1) throw new SignatureRejected("more than one Transforms");
  for (const t of transforms[0] ? childElements(transforms[0]) : []) {
    const a = attr(t, "Algorithm");
    if (t.namespaceURI !== NS.ds || t.localName !== "Transform" || (a !== ENVELOPED && a !== EXC_C14N)) {
      throw new SignatureRejected(`transform ${a ?? t.localName} is not accepted`);
    }
  }
  if (attr(one(ref, "DigestMethod"), "Algorithm") !== SHA256) throw new SignatureRejected("digest must be SHA-256");
  for (const c of childElements(sig)) {
    if (c.namespaceURI !== NS.ds || !["SignedInfo", "SignatureValue", "KeyInfo"].includes(c.localName ?? "")) {
      throw new SignatureRejected(`${c.localName} in a Signature is not accepted`);
    }
  }

  const verifier = new BoundSignedXml(doc, element);
  // xmldsigjs parses every certificate in KeyInfo (asn1js, pkijs: about 0.4 ms of CPU) while
  // loading a Signature, and the key never comes from KeyInfo here: KeyInfo is taken out for
  // the (synchronous) load and put back. It is outside SignedInfo, and the enveloped-signature
  // transform drops the whole Signature from what the Reference digests, so nothing verified
  // depends on it; the document is whole again before anything is verified.
  const keyInfos = childElements(sig, NS.ds, "KeyInfo");
  const anchors = keyInfos.map((k) => k.nextSibling);
  for (const k of keyInfos) sig.removeChild(k);
  try {
    verifier.LoadXml(sig as never);
  } catch {
    throw new SignatureRejected("malformed Signature");
  } finally {
    // Last first: an anchor may be a later KeyInfo, back in place by then.
    for (let i = keyInfos.length - 1; i >= 0; i--) sig.insertBefore(keyInfos[i]!, anchors[i] ?? null);
  }
  // Not xmldsigjs's Verify: it re-imports a public key with the SignatureMethod's algorithm,
  // which for ECDSA lacks the curve and fails (our keys are imported for the right algorithm
  // already, keyFits), and deep-clones the whole document first. The whole document, not a
  // detached clone of the element: exclusive c14n with an InclusiveNamespaces PrefixList needs
  // the ancestors' declarations.
  if (await verifier.verifyWithKeys(keys.filter((k) => keyFits(k, alg)))) return;
  throw new SignatureRejected("the signature does not verify with the configured key");
}

function keyFits(key: CryptoKey, alg: SignatureAlg): boolean {
  const name = key.algorithm.name.toUpperCase();
  return alg === "RSA-SHA256" ? name === "RSASSA-PKCS1-V1_5" : name === "ECDSA";
}

function one(parent: Element, localName: string): Element {
  const c = childElements(parent, NS.ds, localName);
  if (c.length !== 1) throw new SignatureRejected(`Signature needs exactly one ${localName}`);
  return c[0]!;
}

export { XmlRejected };
