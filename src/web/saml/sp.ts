import type { Scope, Services } from "../../core/context";
import { findServiceProvider } from "../../core/service-providers/service-providers";
import { importCertificateKey } from "../../crypto/x509";
import { childElements, NS, parseXml } from "../../protocols/saml/xml";

/**
 * A SAML service provider of this community as the front channel needs it: found by `_id` or
 * entity id, of type `saml` only (an OIDC client's id names nothing here), with the fields of
 * its stored `saml_config` (core/service-providers/saml-config.ts validated them).
 */
export interface FrontSp {
  id: string;
  name: string;
  entityId: string;
  acsUrl: string;
  idpInitiated: boolean;
  logoutRequestSignRequired: boolean;
  logoutResponseSignRequired: boolean;
  signingCert: string | null;
  metadata: string | null;
}

const str = (v: unknown) => (typeof v === "string" && v ? v : null);

export async function frontSp(svc: Services, scope: Scope, idOrEntityId: string): Promise<FrontSp | null> {
  const r = await findServiceProvider(svc, scope, idOrEntityId);
  if (!r || r.type !== "saml") return null;
  const c = (r.body.saml_config ?? {}) as Record<string, unknown>;
  const entityId = str(c.entityId);
  const acsUrl = str(c.assertionConsumerServiceURL);
  if (!entityId || !acsUrl) return null;
  return {
    id: r.id,
    name: r.name,
    entityId,
    acsUrl,
    idpInitiated: c.idpInitiated === true,
    logoutRequestSignRequired: c.logoutRequestSignRequired === true,
    logoutResponseSignRequired: c.logoutResponseSignRequired === true,
    signingCert: str(c.signingCert),
    metadata: str(c.metadata),
  };
}

/** The SP's pinned verification key (its saml_config.signingCert), never one from a message's KeyInfo. */
export async function spKeys(sp: FrontSp): Promise<CryptoKey[]> {
  if (!sp.signingCert) return [];
  try {
    return [await importCertificateKey(sp.signingCert)];
  } catch {
    return [];
  }
}

const POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/**
 * Where the SP takes logout messages: the SingleLogoutService of its metadata (SAML Metadata
 * §2.2.2/§2.4.2; `saml_config` has no field of its own for it). HTTP-POST preferred, then
 * HTTP-Redirect; `ResponseLocation` for responses when given. Null: none (or metadata that does
 * not parse), and the user just sees "Signed out". Only http(s) URLs are taken.
 */
export function spSingleLogout(sp: FrontSp, kind: "request" | "response"): { url: string; binding: "post" | "redirect" } | null {
  if (!sp.metadata) return null;
  let services;
  try {
    const doc = parseXml(sp.metadata);
    const descriptors = doc.documentElement.localName === "SPSSODescriptor" ? [doc.documentElement] : doc.getElementsByTagNameNS(NS.md, "SPSSODescriptor");
    services = Array.from(descriptors).flatMap((d) => childElements(d, NS.md, "SingleLogoutService"));
  } catch {
    return null;
  }
  for (const [uri, binding] of [[POST, "post"], [REDIRECT, "redirect"]] as const) {
    const s = services.find((e) => e.getAttribute("Binding") === uri);
    if (!s) continue;
    const url = (kind === "response" && s.getAttribute("ResponseLocation")) || s.getAttribute("Location");
    if (url && /^https?:\/\//i.test(url)) {
      try {
        new URL(url);
        return { url, binding };
      } catch {
        return null;
      }
    }
  }
  return null;
}
