import { escapeText, NS, samlInstant } from "../saml/xml";

/**
 * The `wresult` of a WS-Federation sign-in (WS-Federation 1.2 §13.2.3): a WS-Trust
 * RequestSecurityTokenResponse carrying the signed assertion. The February 2005 WS-Trust
 * namespace and the element order are those ADFS answers passive requests with, which is what
 * WIF, SharePoint and passport-wsfed-saml2 read:
 * Lifetime (wsu:Created/Expires), wsp:AppliesTo (wsa:EndpointReference/Address = the realm),
 * RequestedSecurityToken, TokenType, RequestType Issue, KeyType. The KeyType is WS-Trust
 * 2005/02's bearer form, `.../identity/NoProofKey` (no proof key: the token is a bearer token),
 * as ADFS sends; WS-Trust 1.3's `.../200512/Bearer` belongs to the other namespace.
 *
 * The RSTR itself is not signed (§13.2.3: the token is); the assertion is embedded as its
 * serialized signed XML, whose exclusive c14n does not depend on this envelope.
 */

export const TOKEN_TYPE = {
  saml11: "urn:oasis:names:tc:SAML:1.0:assertion",
  saml20: "urn:oasis:names:tc:SAML:2.0:assertion",
} as const;
export type WsFedTokenType = keyof typeof TOKEN_TYPE;

const REQUEST_TYPE_ISSUE = `${NS.wst}/Issue`;
const KEY_TYPE_BEARER = "http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey";

export interface WresultModel {
  /** The signed assertion's XML. */
  assertionXml: string;
  tokenType: WsFedTokenType;
  /** The realm (wtrealm). */
  appliesTo: string;
  /** Epoch ms. */
  created: number;
  expires: number;
}

export function buildWresult(m: WresultModel): string {
  const assertion = m.assertionXml.replace(/^\s*<\?xml[^?]*\?>\s*/, "");
  if (!assertion.startsWith("<")) throw new Error("buildWresult: the assertion is not XML");
  return (
    `<t:RequestSecurityTokenResponse xmlns:t="${NS.wst}">` +
    `<t:Lifetime><wsu:Created xmlns:wsu="${NS.wsu}">${samlInstant(m.created)}</wsu:Created><wsu:Expires xmlns:wsu="${NS.wsu}">${samlInstant(m.expires)}</wsu:Expires></t:Lifetime>` +
    `<wsp:AppliesTo xmlns:wsp="${NS.wsp}"><wsa:EndpointReference xmlns:wsa="${NS.wsa}"><wsa:Address>${escapeText(m.appliesTo)}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>` +
    `<t:RequestedSecurityToken>${assertion}</t:RequestedSecurityToken>` +
    `<t:TokenType>${TOKEN_TYPE[m.tokenType]}</t:TokenType>` +
    `<t:RequestType>${REQUEST_TYPE_ISSUE}</t:RequestType>` +
    `<t:KeyType>${KEY_TYPE_BEARER}</t:KeyType>` +
    `</t:RequestSecurityTokenResponse>`
  );
}
