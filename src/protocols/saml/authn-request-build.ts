import { toBase64, utf8 } from "../../crypto/encoding";
import { escapeAttr, escapeText, NS, parseXml, samlInstant, serializeXml } from "./xml";
import { encodeRedirectMessage, inflateRawCapped, MAX_MESSAGE_XML, rawQueryOf, signRedirectQuery } from "./authn-request";
import { signElement, type SignatureAlg } from "./xmldsig";

/**
 * The AuthnRequest our SP sends to an external IdP (SAML Core §3.4.1) and its two encodings:
 * HTTP-Redirect (Bindings §3.4: raw DEFLATE, base64, URL-encoded; signed in the query string
 * per §3.4.4.1) and HTTP-POST (Bindings §3.5: base64 of the XML, signed enveloped). Pure: the
 * caller supplies the ID, the time and the key.
 */

export const BINDING_URN = {
  "HTTP-Redirect": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
  "HTTP-POST": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
} as const;

export interface AuthnRequestInput {
  /** '_' + 40 hex (xml.ts newSamlId). */
  id: string;
  /** Our SP's entityID (the Issuer). */
  issuer: string;
  /** The IdP's SingleSignOnService URL. */
  destination: string;
  /** Where the IdP posts the Response (our ACS, HTTP-POST). */
  acsUrl: string;
  forceAuthn: boolean;
  /** Requested NameID format; default unspecified (the IdP picks). */
  nameIdFormat?: string;
  /** Epoch ms of IssueInstant. */
  now: number;
}

/** The AuthnRequest XML (no XML declaration, no signature). */
export function buildAuthnRequest(r: AuthnRequestInput): string {
  const format = r.nameIdFormat ?? "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
  return (
    `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}"` +
    ` ID="${escapeAttr(r.id)}" Version="2.0" IssueInstant="${samlInstant(r.now)}"` +
    ` Destination="${escapeAttr(r.destination)}" AssertionConsumerServiceURL="${escapeAttr(r.acsUrl)}"` +
    ` ProtocolBinding="${BINDING_URN["HTTP-POST"]}"${r.forceAuthn ? ` ForceAuthn="true"` : ""}>` +
    `<saml:Issuer>${escapeText(r.issuer)}</saml:Issuer>` +
    `<samlp:NameIDPolicy Format="${escapeAttr(format)}" AllowCreate="true"/>` +
    `</samlp:AuthnRequest>`
  );
}

export interface SigningKey {
  key: CryptoKey;
  alg: SignatureAlg;
}

/**
 * The query string of a SAML message in the HTTP-Redirect binding: `SAMLRequest` (or
 * `SAMLResponse`), `RelayState` when given, and when signed `SigAlg` and `Signature` over
 * exactly "SAMLRequest=v&RelayState=v&SigAlg=v" as it appears URL-encoded (§3.4.4.1). The
 * encoding and signing are authn-request.ts's, shared with the IdP side and logout.
 */
export async function redirectQuery(param: "SAMLRequest" | "SAMLResponse", xml: string, relayState: string | null, sign: SigningKey | null): Promise<string> {
  const params = { [param]: await encodeRedirectMessage(xml), ...(relayState !== null ? { RelayState: relayState } : {}) };
  return sign ? signRedirectQuery(params, sign.key, sign.alg) : rawQueryOf(params);
}

/** `url` with `query` appended (after `?`, or `&` when the URL has a query already). */
export function withQuery(url: string, query: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}${query}`;
}

/** The HTTP-POST form value of a message: base64 of its XML, signed enveloped when a key is given. */
export async function postFormValue(xml: string, sign: SigningKey | null, certB64?: string): Promise<string> {
  if (!sign) return toBase64(utf8(xml));
  const doc = parseXml(xml);
  await signElement(doc, doc.documentElement, { key: sign.key, alg: sign.alg, ...(certB64 ? { certB64 } : {}) });
  return toBase64(utf8(serializeXml(doc)));
}

/** Inverse of encodeRedirectMessage's DEFLATE, for tests and diagnostics (capped at the inbound message limit). */
export async function inflateRaw(bytes: Uint8Array): Promise<string> {
  return new TextDecoder().decode(await inflateRawCapped(bytes, MAX_MESSAGE_XML));
}
