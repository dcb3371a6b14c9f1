import { escapeAttr, escapeText, NS } from "./xml";
import { BINDING_URN } from "./authn-request-build";

/**
 * Our SP's metadata (SAML Metadata §2.4.4 SPSSODescriptor) for one external IdP connection:
 * AuthnRequestsSigned when we hold a signing key, WantAssertionsSigned always (the ACS
 * refuses an unsigned assertion), the SP certificate as signing and encryption KeyDescriptor,
 * the ACS (HTTP-POST) and the SingleLogoutService (HTTP-Redirect and HTTP-POST). Pure.
 */
export interface SpMetadataInput {
  entityId: string;
  acsUrl: string;
  sloUrl: string;
  /** Base64 DER of the SP certificate, or null when AuthnRequests are not signed. */
  certB64: string | null;
  nameIdFormat?: string;
}

export function buildSpMetadata(m: SpMetadataInput): string {
  const key = (use: "signing" | "encryption") =>
    m.certB64
      ? `<md:KeyDescriptor use="${use}"><ds:KeyInfo xmlns:ds="${NS.ds}"><ds:X509Data><ds:X509Certificate>${escapeText(m.certB64)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
      : "";
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<md:EntityDescriptor xmlns:md="${NS.md}" entityID="${escapeAttr(m.entityId)}">` +
    `<md:SPSSODescriptor AuthnRequestsSigned="${m.certB64 ? "true" : "false"}" WantAssertionsSigned="true" protocolSupportEnumeration="${NS.samlp}">` +
    key("signing") +
    key("encryption") +
    `<md:SingleLogoutService Binding="${BINDING_URN["HTTP-Redirect"]}" Location="${escapeAttr(m.sloUrl)}"/>` +
    `<md:SingleLogoutService Binding="${BINDING_URN["HTTP-POST"]}" Location="${escapeAttr(m.sloUrl)}"/>` +
    `<md:NameIDFormat>${escapeText(m.nameIdFormat ?? "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified")}</md:NameIDFormat>` +
    `<md:AssertionConsumerService Binding="${BINDING_URN["HTTP-POST"]}" Location="${escapeAttr(m.acsUrl)}" index="0" isDefault="true"/>` +
    `</md:SPSSODescriptor>` +
    `</md:EntityDescriptor>`
  );
}
