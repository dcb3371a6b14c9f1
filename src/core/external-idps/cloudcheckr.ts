import { buildSpMetadata } from "../../protocols/saml/sp-metadata";
import type { ExternalIdpRecord } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import type { CloudCheckrSamlSettings } from "./cloudcheckr-settings";
import { newRelayState, rememberLogout } from "./requests";
import { allowedReturnUrl } from "./return-url";
import { startExternalLogin, type StartedLogin } from "./start-login";
import type { ExternalIdpBody } from "./validate";

/**
 * CloudCheckr's SAML SP routes (seed 001 `/v1/auth/saml/login`, `logout`, `metadata`) over
 * the tenant's configured external IdP (`settings.cloudcheckr.saml`). The ACS and SLS
 * (`/v1/auth/saml/acs`, `/sls`) are the ACS work's; they find what these routes stored:
 * the AuthnRequest record (requests.ts `consumeAuthnRequest`, `relay.returnUrl` and
 * `relay.relayState`) and the logout record (`consumeLogout`).
 */

export interface CloudCheckrSpUrls {
  acsUrl: string;
  slsUrl: string;
}

export function cloudcheckrSpUrls(origin: string): CloudCheckrSpUrls {
  return { acsUrl: `${origin}/v1/auth/saml/acs`, slsUrl: `${origin}/v1/auth/saml/sls` };
}

export function cloudcheckrSamlSettings(scope: Scope): CloudCheckrSamlSettings {
  const s = scope.settings.cloudcheckr?.saml;
  if (!s) throw new AuthError("not_configured", "SAML is not configured for this tenant");
  return s;
}

async function configuredIdp(svc: Services, scope: Scope, s: CloudCheckrSamlSettings): Promise<ExternalIdpRecord> {
  const idp = await svc.identity.externalIdps.get(scope.tenant.id, s.communityId, s.externalIdpId);
  if (!idp) throw new AuthError("not_configured", "the tenant's SAML identity provider is not configured");
  return idp;
}

/**
 * The return URL: `return_url` when given (refused, 400, unless allowed), else the Referer when
 * allowed, else the dashboard. A Referer that is not allowed is ignored rather than refused:
 * the caller did not choose it.
 */
export function chooseReturnUrl(s: CloudCheckrSamlSettings, returnUrl: string | undefined, referer: string | undefined): string {
  if (returnUrl) {
    const ok = allowedReturnUrl(returnUrl, s.allowedReturnUrls);
    if (!ok) throw new AuthError("invalid_request", "return_url is not an allowed return URL for this tenant");
    return ok;
  }
  return (referer && allowedReturnUrl(referer, s.allowedReturnUrls)) || s.dashboardUrl;
}

/** `saml/login`: an AuthnRequest to the configured IdP; the return URL rides server-side, bound to an opaque RelayState. */
export async function startCloudCheckrLogin(svc: Services, scope: Scope, origin: string, q: { returnUrl?: string; referer?: string }): Promise<StartedLogin> {
  const s = cloudcheckrSamlSettings(scope);
  const returnUrl = chooseReturnUrl(s, q.returnUrl, q.referer);
  const idp = await configuredIdp(svc, scope, s);
  const relayState = newRelayState();
  return startExternalLogin(svc, scope.tenant.id, idp, { acsUrl: cloudcheckrSpUrls(origin).acsUrl, relayState, relay: { returnUrl, relayState } });
}

/**
 * `saml/logout`: the browser goes to the IdP's SingleLogoutService with an opaque RelayState
 * whose return URL is kept server-side (requests.ts `rememberLogout`) for the SLS.
 * No LogoutRequest is sent: SAML Core §3.7.1 requires the NameID and SessionIndex the IdP
 * asserted, which this route (a GET with no session) does not have.
 */
export async function startCloudCheckrLogout(svc: Services, scope: Scope, q: { returnUrl?: string; referer?: string }): Promise<string> {
  const s = cloudcheckrSamlSettings(scope);
  const returnUrl = chooseReturnUrl(s, q.returnUrl, q.referer);
  const idp = await configuredIdp(svc, scope, s);
  const c = (idp.body as unknown as ExternalIdpBody).connection;
  const relayState = newRelayState();
  await rememberLogout(svc, scope.tenant.id, { relayState, communityId: s.communityId, idpId: idp.id, returnUrl });
  return `${c.samlLogoutUrl}${c.samlLogoutUrl.includes("?") ? "&" : "?"}RelayState=${relayState}`;
}

/** `saml/metadata`: our SP's EntityDescriptor for the configured connection. */
export async function cloudcheckrMetadata(svc: Services, scope: Scope, origin: string): Promise<string> {
  const s = cloudcheckrSamlSettings(scope);
  const idp = await configuredIdp(svc, scope, s);
  const c = (idp.body as unknown as ExternalIdpBody).connection;
  const urls = cloudcheckrSpUrls(origin);
  const certB64 = c.spSigningCertificate ? c.spSigningCertificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "") : null;
  return buildSpMetadata({ entityId: c.spEntityId, acsUrl: urls.acsUrl, sloUrl: urls.slsUrl, certB64 });
}
