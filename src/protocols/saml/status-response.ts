import { escapeAttr, escapeText, newSamlId, NS, samlInstant } from "./xml";
import { signElement, type SignatureAlg } from "./xmldsig";
import { parseXml, serializeXml } from "./xml";

/**
 * A samlp:Response without an assertion, answering an AuthnRequest that cannot be met
 * (SAML Core §3.2.2.2: top-level Responder/Requester with a second-level code such as
 * NoPassive for an IsPassive request without a session, §3.4.1). Signed as every Response of
 * ours is (the SP checks who refused). Pure.
 */
export const STATUS_RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder";
export const STATUS_NO_PASSIVE = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";

export async function buildStatusResponse(m: {
  issuer: string;
  destination: string;
  inResponseTo: string;
  status: string;
  subStatus?: string;
  signing: { key: CryptoKey; alg: SignatureAlg; certB64?: string };
}): Promise<string> {
  const sub = m.subStatus ? `<samlp:StatusCode Value="${escapeAttr(m.subStatus)}"/>` : "";
  const xml =
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${newSamlId()}" Version="2.0" IssueInstant="${samlInstant(Date.now())}"` +
    ` Destination="${escapeAttr(m.destination)}" InResponseTo="${escapeAttr(m.inResponseTo)}">` +
    `<saml:Issuer>${escapeText(m.issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode Value="${escapeAttr(m.status)}">${sub}</samlp:StatusCode></samlp:Status></samlp:Response>`;
  const doc = parseXml(xml);
  await signElement(doc, doc.documentElement, { key: m.signing.key, alg: m.signing.alg, ...(m.signing.certB64 ? { certB64: m.signing.certB64 } : {}) });
  return serializeXml(doc);
}
