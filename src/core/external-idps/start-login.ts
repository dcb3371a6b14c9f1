import { buildAuthnRequest, postFormValue, redirectQuery, withQuery } from "../../protocols/saml/authn-request-build";
import { newSamlId } from "../../protocols/saml/xml";
import type { ExternalIdpRecord } from "../../storage/ports-idp";
import type { Services } from "../context";
import { AuthError } from "../errors";
import { externalIdpPrivateKey } from "./external-idps";
import { importSpPrivateKey } from "./keys";
import { rememberAuthnRequest } from "./requests";
import type { Binding, ExternalIdpBody } from "./validate";

/**
 * Starting a login at an external IdP: an AuthnRequest from our SP (the connection's
 * spEntityId as Issuer), encoded for the IdP's ssoBinding, signed when the connection holds an
 * SP key, and remembered for the ACS (requests.ts). Shared by `samlRequest/generate` and
 * CloudCheckr's `saml/login`.
 */
export interface StartedLogin {
  id: string;
  binding: Binding;
  forceAuthn: boolean;
  /** HTTP-Redirect: the deflated base64 value; HTTP-POST: the base64 form value. */
  samlRequest: string;
  /** HTTP-Redirect: the full redirect URL; HTTP-POST: the URL to post the form to. */
  url: string;
  /** The RelayState to send beside it, or null. */
  relayState: string | null;
}

function pemToB64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

export async function startExternalLogin(
  svc: Services,
  tenantId: string,
  idp: ExternalIdpRecord,
  opts: { acsUrl: string; relayState: string | null; relay: Record<string, string> | null },
): Promise<StartedLogin> {
  const body = idp.body as unknown as ExternalIdpBody;
  const c = body.connection;
  if (!c) throw new AuthError("not_configured", "the external idp has no connection");
  const pem = await externalIdpPrivateKey(svc, idp);
  const sign = pem ? await importSpPrivateKey(pem, c.spSigningCertificate) : null;
  if (pem && !sign) throw new AuthError("internal", "the stored SP key cannot be used");
  const id = newSamlId();
  const xml = buildAuthnRequest({ id, issuer: c.spEntityId, destination: c.samlLoginUrl, acsUrl: opts.acsUrl, forceAuthn: c.forceAuthn, now: Date.now() });
  await rememberAuthnRequest(svc, tenantId, { id, communityId: idp.communityId, idpId: idp.id, acsUrl: opts.acsUrl, relay: opts.relay });
  if (c.ssoBinding === "HTTP-POST") {
    const value = await postFormValue(xml, sign, c.spSigningCertificate ? pemToB64(c.spSigningCertificate) : undefined);
    return { id, binding: "HTTP-POST", forceAuthn: c.forceAuthn, samlRequest: value, url: c.samlLoginUrl, relayState: opts.relayState };
  }
  const query = await redirectQuery("SAMLRequest", xml, opts.relayState, sign);
  const value = decodeURIComponent(/^SAMLRequest=([^&]*)/.exec(query)![1]!);
  return { id, binding: "HTTP-Redirect", forceAuthn: c.forceAuthn, samlRequest: value, url: withQuery(c.samlLoginUrl, query), relayState: opts.relayState };
}

