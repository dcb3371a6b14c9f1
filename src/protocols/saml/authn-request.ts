import { fromBase64, fromUtf8, toBase64, utf8 } from "../../crypto/encoding";
import { NS, optionalChild, parseInstant, parseXml, textOf, XmlRejected, type Element, type ParsedDocument } from "./xml";
import { SIGNATURE_URI, SignatureRejected, verifyElement, type SignatureAlg } from "./xmldsig";

/**
 * SAML 2.0 AuthnRequest codecs (pure: no HTTP, no storage): the HTTP-Redirect binding's
 * DEFLATE encoding and query signature (SAML Bindings §3.4.4, §3.4.4.1), the HTTP-POST
 * binding's base64 (§3.5.4), and a strict reading of the request (SAML Core §3.4.1).
 *
 * Sizes are capped before any work that grows with them: the base64 at 16 KiB before it is
 * decoded, and the inflated XML at 64 KiB while it is inflated (a "zip bomb" of a few KiB of
 * DEFLATE can expand to gigabytes; reading stops at the cap and the stream is cancelled).
 */

/** Largest SAMLRequest/SAMLResponse value accepted, in base64 characters (whitespace excluded). */
export const MAX_MESSAGE_B64 = 16 * 1024;
/** Largest XML an inflated (or POSTed) message may yield, in bytes. */
export const MAX_MESSAGE_XML = 64 * 1024;

/** The message is not one we accept (encoding, size, shape or signature); `reason` says why. */
export class SamlMessageRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "SamlMessageRejected";
  }
}

function base64Bytes(value: string): Uint8Array {
  if (typeof value !== "string") throw new SamlMessageRejected("the message is not a string");
  // Line breaks are common in POSTed base64 (MIME style); nothing else is tolerated.
  const b64 = value.replace(/[\r\n\t ]/g, "");
  if (b64.length === 0) throw new SamlMessageRejected("the message is empty");
  if (b64.length > MAX_MESSAGE_B64) throw new SamlMessageRejected(`the message is longer than ${MAX_MESSAGE_B64} base64 characters`);
  try {
    return fromBase64(b64);
  } catch {
    throw new SamlMessageRejected("the message is not base64");
  }
}

function utf8Text(bytes: Uint8Array): string {
  try {
    return fromUtf8(bytes);
  } catch {
    throw new SamlMessageRejected("the message is not UTF-8");
  }
}

/**
 * Raw DEFLATE (RFC 1951) inflated with a running cap: the output is read chunk by chunk and
 * the stream cancelled as soon as it passes `max` bytes, so a bomb costs at most `max`.
 */
export async function inflateRawCapped(bytes: Uint8Array, max: number): Promise<Uint8Array> {
  const ds = new DecompressionStream("deflate-raw");
  const writer = ds.writable.getWriter();
  // Not awaited: with backpressure the write only completes as the output is read below.
  writer.write(bytes).catch(() => undefined);
  writer.close().catch(() => undefined);
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        throw new SamlMessageRejected(`the inflated message is larger than ${max} bytes`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof SamlMessageRejected) throw e;
    throw new SamlMessageRejected("the message is not valid DEFLATE data");
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Raw DEFLATE of `bytes` (for messages we send over the Redirect binding). */
export async function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The XML of an HTTP-Redirect message: the (already URL-decoded) value of SAMLRequest or
 * SAMLResponse, base64 of raw DEFLATE (SAML Bindings §3.4.4.1).
 */
export async function decodeRedirectRequest(value: string): Promise<string> {
  return utf8Text(await inflateRawCapped(base64Bytes(value), MAX_MESSAGE_XML));
}

/** The XML of an HTTP-POST message: plain base64 of the XML (SAML Bindings §3.5.4). */
export function decodePostRequest(value: string): string {
  const bytes = base64Bytes(value);
  if (bytes.byteLength > MAX_MESSAGE_XML) throw new SamlMessageRejected(`the message is larger than ${MAX_MESSAGE_XML} bytes`);
  return utf8Text(bytes);
}

/**
 * Either encoding, told apart by the decoded bytes: XML starts with '<' (after an optional BOM
 * or whitespace), DEFLATE data never decodes to that here. For callers (the Authn API's
 * `saml/sso`) that receive the SAMLRequest value without knowing the binding it came over.
 */
export async function decodeAnyRequest(value: string): Promise<{ xml: string; binding: "redirect" | "post" }> {
  const bytes = base64Bytes(value);
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x3c) {
    if (bytes.byteLength > MAX_MESSAGE_XML) throw new SamlMessageRejected(`the message is larger than ${MAX_MESSAGE_XML} bytes`);
    return { xml: utf8Text(bytes), binding: "post" };
  }
  return { xml: utf8Text(await inflateRawCapped(bytes, MAX_MESSAGE_XML)), binding: "redirect" };
}

/** An AuthnRequest as read (SAML Core §3.4.1); nothing here is trusted until the caller checks it. */
export interface AuthnRequest {
  id: string;
  issuer: string;
  destination?: string;
  acsUrl?: string;
  protocolBinding?: string;
  forceAuthn: boolean;
  isPassive: boolean;
  nameIdFormat?: string;
  /** Epoch ms. */
  issueInstant: number;
  doc: ParsedDocument;
  element: Element;
}

function xsBoolean(el: Element, name: string): boolean {
  const v = el.getAttribute(name);
  if (v === null || v === "") return false;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new SamlMessageRejected(`${name} is not an xs:boolean`);
}

/** An NCName-shaped xs:ID (SAML Core §1.3.4), bounded so it can key a replay record. */
const XS_ID = /^[A-Za-z_][A-Za-z0-9._-]{0,255}$/;

/**
 * Reads an AuthnRequest strictly: the root is samlp:AuthnRequest, Version 2.0, with an xs:ID,
 * an IssueInstant and an Issuer (SAML Profiles §4.1.4.1: the Issuer MUST be present).
 */
export function parseAuthnRequest(xml: string): AuthnRequest {
  let doc: ParsedDocument;
  try {
    doc = parseXml(xml, { maxChars: MAX_MESSAGE_XML });
  } catch (e) {
    throw new SamlMessageRejected(e instanceof XmlRejected ? e.reason : "malformed XML");
  }
  const el = doc.documentElement;
  if (el.namespaceURI !== NS.samlp || el.localName !== "AuthnRequest") throw new SamlMessageRejected("the message is not a samlp:AuthnRequest");
  if (el.getAttribute("Version") !== "2.0") throw new SamlMessageRejected("Version must be 2.0");
  const id = el.getAttribute("ID") ?? "";
  if (!XS_ID.test(id)) throw new SamlMessageRejected("ID is missing or not an xs:ID");
  const issueInstant = parseInstant(el.getAttribute("IssueInstant"));
  if (issueInstant === null) throw new SamlMessageRejected("IssueInstant is missing or not an xs:dateTime");
  try {
    const issuerEl = optionalChild(el, NS.saml, "Issuer");
    const issuer = issuerEl ? textOf(issuerEl).trim() : "";
    if (!issuer) throw new SamlMessageRejected("Issuer is missing");
    const policy = optionalChild(el, NS.samlp, "NameIDPolicy");
    const out: AuthnRequest = { id, issuer, forceAuthn: xsBoolean(el, "ForceAuthn"), isPassive: xsBoolean(el, "IsPassive"), issueInstant, doc, element: el };
    const destination = el.getAttribute("Destination");
    if (destination) out.destination = destination;
    const acs = el.getAttribute("AssertionConsumerServiceURL");
    if (acs) out.acsUrl = acs;
    const binding = el.getAttribute("ProtocolBinding");
    if (binding) out.protocolBinding = binding;
    const format = policy?.getAttribute("Format");
    if (format) out.nameIdFormat = format;
    return out;
  } catch (e) {
    if (e instanceof XmlRejected) throw new SamlMessageRejected(e.reason);
    throw e;
  }
}

/** The enveloped signature of a POSTed request (SAML Bindings §3.5.4, Core §5), with pinned keys. */
export async function verifyPostSignature(req: Pick<AuthnRequest, "doc" | "element">, keys: CryptoKey[]): Promise<void> {
  await verifyElement(req.doc, req.element, keys);
}

const ALG_OF_URI = new Map<string, SignatureAlg>(Object.entries(SIGNATURE_URI).map(([k, v]) => [v, k as SignatureAlg]));

/** The raw (still percent-encoded) value of each parameter of a query, as it arrived. */
function rawParams(rawQuery: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const q = rawQuery.startsWith("?") ? rawQuery.slice(1) : rawQuery;
  for (const part of q.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1);
    out.set(name, [...(out.get(name) ?? []), value]);
  }
  return out;
}

function formDecode(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, " "));
  } catch {
    throw new SamlMessageRejected("the query is not valid percent-encoding");
  }
}

/** An ECDSA signature as XML-DSig 1.1 §6.4.3 sends it (raw r||s); DER accepted too, as some SPs send it. */
function ecdsaRaw(sig: Uint8Array, size: number): Uint8Array {
  if (sig.length === 2 * size) return sig;
  // DER: SEQUENCE { INTEGER r, INTEGER s }
  const fail = () => new SignatureRejected("the ECDSA signature is neither r||s nor DER");
  if (sig[0] !== 0x30 || sig.length < 8) throw fail();
  let i = 2;
  if (sig[1]! & 0x80) i = 2 + (sig[1]! & 0x7f);
  const int = (): Uint8Array => {
    if (sig[i] !== 0x02) throw fail();
    const len = sig[i + 1]!;
    const v = sig.subarray(i + 2, i + 2 + len);
    if (v.length !== len) throw fail();
    i += 2 + len;
    const trimmed = v[0] === 0 ? v.subarray(1) : v;
    if (trimmed.length > size) throw fail();
    const padded = new Uint8Array(size);
    padded.set(trimmed, size - trimmed.length);
    return padded;
  };
  const r = int();
  const s = int();
  if (i !== sig.length) throw fail();
  const out = new Uint8Array(2 * size);
  out.set(r, 0);
  out.set(s, size);
  return out;
}

function curveSize(key: CryptoKey): number {
  const curve = (key.algorithm as { namedCurve?: string }).namedCurve;
  return curve === "P-384" ? 48 : curve === "P-521" ? 66 : 32;
}

/**
 * The HTTP-Redirect binding's query signature (SAML Bindings §3.4.4.1). The signed octets are
 * `SAMLRequest=v&RelayState=v&SigAlg=v` (or SAMLResponse), each value exactly as it arrived
 * (still URL-encoded), RelayState only when present; re-encoding decoded values would break
 * signatures made with another encoder. RSA-SHA256 and ECDSA-SHA256 only: SHA-1 is refused.
 * Throws SignatureRejected.
 */
export async function verifyRedirectSignature(rawQuery: string, keys: CryptoKey[]): Promise<void> {
  if (keys.length === 0) throw new SignatureRejected("no trusted key is configured");
  const params = rawParams(rawQuery);
  for (const [name, values] of params) {
    if (values.length > 1 && ["SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature"].includes(name)) {
      throw new SignatureRejected(`${name} is repeated`);
    }
  }
  const req = params.get("SAMLRequest")?.[0];
  const res = params.get("SAMLResponse")?.[0];
  if ((req === undefined) === (res === undefined)) throw new SignatureRejected("exactly one of SAMLRequest and SAMLResponse is signed");
  const sigAlgRaw = params.get("SigAlg")?.[0];
  const sigRaw = params.get("Signature")?.[0];
  if (sigAlgRaw === undefined || sigRaw === undefined) throw new SignatureRejected("the query is not signed (SigAlg and Signature)");
  const alg = ALG_OF_URI.get(formDecode(sigAlgRaw));
  if (!alg) throw new SignatureRejected(`SigAlg ${formDecode(sigAlgRaw)} is not accepted (RSA-SHA256, ECDSA-SHA256)`);
  const relay = params.get("RelayState")?.[0];
  const octets = (m: string, r: string | undefined, a: string) => (req !== undefined ? `SAMLRequest=${m}` : `SAMLResponse=${m}`) + (r !== undefined ? `&RelayState=${r}` : "") + `&SigAlg=${a}`;
  const msg = (req ?? res)!;
  // First the octets as they arrived (§3.4.4.1). Then the same decoded values re-encoded with
  // encodeURIComponent: some signers (node-saml) sign that form but send the URL form-encoded
  // ('+' for a space), so the raw query differs from what they signed. Both bind the same
  // decoded values, so accepting either lets nothing else through.
  const reencode = (v: string) => encodeURIComponent(formDecode(v));
  const candidates = [...new Set([octets(msg, relay, sigAlgRaw), octets(reencode(msg), relay === undefined ? undefined : reencode(relay), reencode(sigAlgRaw))])];
  let signature: Uint8Array;
  try {
    signature = fromBase64(formDecode(sigRaw).replace(/\s/g, ""));
  } catch {
    throw new SignatureRejected("Signature is not base64");
  }
  for (const signed of candidates) {
    const data = utf8(signed);
    for (const key of keys) {
      const name = key.algorithm.name.toUpperCase();
      if (alg === "RSA-SHA256" && name === "RSASSA-PKCS1-V1_5") {
        if (await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, data).catch(() => false)) return;
      } else if (alg === "ECDSA-SHA256" && name === "ECDSA") {
        let raw: Uint8Array;
        try {
          raw = ecdsaRaw(signature, curveSize(key));
        } catch {
          continue;
        }
        if (await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, raw, data).catch(() => false)) return;
      }
    }
  }
  throw new SignatureRejected("the query signature does not verify with the configured key");
}

/**
 * The raw query for values received already decoded (the Authn API's SAMLPayload carries
 * SAMLRequest, RelayState, SigAlg and Signature as JSON strings): each re-encoded with
 * encodeURIComponent, which is what most SAML libraries' encoders produce. A signer that
 * encoded differently (lower-case hex, '+' for space) cannot be verified from decoded values.
 */
export function rawQueryOf(params: { SAMLRequest?: string; SAMLResponse?: string; RelayState?: string; SigAlg?: string; Signature?: string }): string {
  const parts: string[] = [];
  for (const k of ["SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature"] as const) {
    const v = params[k];
    if (v !== undefined) parts.push(`${k}=${encodeURIComponent(v)}`);
  }
  return parts.join("&");
}

/** base64(raw DEFLATE(xml)): a SAMLRequest/SAMLResponse value for the Redirect binding (§3.4.4.1). */
export async function encodeRedirectMessage(xml: string): Promise<string> {
  return toBase64(await deflateRaw(utf8(xml)));
}

/**
 * A signed Redirect-binding query (§3.4.4.1): `SAMLRequest|SAMLResponse=..[&RelayState=..]&SigAlg=..&Signature=..`,
 * the values being the message as `encodeRedirectMessage` made it. ECDSA signatures are raw r||s
 * (WebCrypto's output, which XML-DSig 1.1 §6.4.3 asks for).
 */
export async function signRedirectQuery(
  params: { SAMLRequest?: string; SAMLResponse?: string; RelayState?: string },
  key: CryptoKey,
  alg: SignatureAlg,
): Promise<string> {
  if ((params.SAMLRequest === undefined) === (params.SAMLResponse === undefined)) throw new Error("signRedirectQuery: exactly one of SAMLRequest and SAMLResponse");
  const head = params.SAMLRequest !== undefined ? `SAMLRequest=${encodeURIComponent(params.SAMLRequest)}` : `SAMLResponse=${encodeURIComponent(params.SAMLResponse!)}`;
  const signed = head + (params.RelayState !== undefined ? `&RelayState=${encodeURIComponent(params.RelayState)}` : "") + `&SigAlg=${encodeURIComponent(SIGNATURE_URI[alg])}`;
  const algo = alg === "RSA-SHA256" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" };
  const sig = new Uint8Array(await crypto.subtle.sign(algo, key, utf8(signed)));
  return `${signed}&Signature=${encodeURIComponent(toBase64(sig))}`;
}

export { SignatureRejected };
