import { issueUserBearer } from "../auth/bearer-session";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { redirectWithFragment } from "../federation/sso-login";
import { scopeInCommunity } from "../tenants/organisation";
import { consumeSamlResponse, type AcsInput } from "./acs";

/**
 * CloudCheckr's ACS (seed 001 `POST /v1/auth/saml/acs`: "If the received response from the
 * SAML Identity Provider is valid, redirects to the dashboard"), as behaviour.
 *
 * The external IdP is the one the tenant's setting names (engineer A's
 * `settings.cloudcheckr.saml = { communityId, externalIdpId, allowedReturnUrls, dashboardUrl }`),
 * never one chosen by the Response. The Response must answer an AuthnRequest that CloudCheckr's
 * `saml/login` sent (InResponseTo consumed once); the return URL is the one `saml/login` kept
 * server-side beside that request (already checked against allowedReturnUrls there), else the
 * dashboard. The RelayState on the wire is never a URL we follow.
 *
 * The CloudCheckr token (the same JWT `POST /v1/auth/token` answers) rides in the redirect's
 * FRAGMENT, `#token=<jwt>&token_type=Bearer&expires_in=<s>`: the seed only says "redirects to
 * the dashboard", and a fragment stays out of server logs and Referer headers (as the Sentinel
 * SSO redirect does, core/federation/sso-login.ts).
 */
export interface CloudCheckrAcsConfig {
  communityId: string;
  externalIdpId: string;
  dashboardUrl: string;
}

export async function consumeCloudCheckrResponse(
  svc: Services,
  scope: Scope,
  cfg: CloudCheckrAcsConfig,
  input: AcsInput,
  ctx: { acsUrl: string },
): Promise<{ redirect: string; uid: string }> {
  const community = await svc.tenants.getCommunity(cfg.communityId);
  if (!community || community.tenantId !== scope.tenant.id) throw new AuthError("not_configured", "SAML is not configured for this tenant");
  const communityScope = scopeInCommunity(scope, community);
  const idp = await svc.identity.externalIdps.get(scope.tenant.id, community.id, cfg.externalIdpId);
  if (!idp) throw new AuthError("not_configured", "the tenant's SAML identity provider is not configured");
  const login = await consumeSamlResponse(svc, communityScope, idp, input, { acsUrl: ctx.acsUrl });
  const session = await issueUserBearer(svc, communityScope, login.user, { amr: ["saml"], authenticatedAt: login.identity.authnInstant });
  const target = login.request?.relay?.returnUrl ?? cfg.dashboardUrl;
  return {
    uid: login.user.uid,
    redirect: redirectWithFragment(target, { token: session.accessToken, token_type: "Bearer", expires_in: session.expiresIn }),
  };
}
