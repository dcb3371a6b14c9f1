import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { completeServiceSso } from "../../core/oidc-provider/service-sso";
import { AuthError } from "../../core/errors";
import { publicOrigin } from "../../core/tenants/public-origin";
import { authnContext, authnPayload, authnRespond } from "../../http/authn-guard";
import { requestAddress } from "../../http/request-address";
import type { AppEnv } from "../../http/types";
import { communityIssuer } from "../../protocols/oidc/discovery";
import { errorResponse, UserSession } from "./schemas";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";

/**
 * `POST .../oidc/sso` (seed 004, Authenticate): a trusted service completes an OIDC
 * authorization request for a user it authenticated itself (core/oidc-provider/service-sso.ts).
 * The answer `{sid, oidc_token, oidc_url_response}`: `oidc_token` is the authorization code
 * and `oidc_url_response` the redirect to the client carrying it with `state` and `iss`
 * (RFC 9207); the service sends its user's browser there. 420 when consent is still needed.
 */
const OidcSsoPayload = z
  .object({
    OIDCPayload: z.object({
      OIDCRequest: z
        .union([z.string().min(1).max(8192), z.record(z.string().max(64), z.unknown())])
        .openapi({ description: "The authorization request: its query string (or the authorize URL), or its parameters as an object" }),
      acr: z.string().max(256).optional().openapi({ description: "Accepted and ignored: the acr is derived from userSession.aal" }),
      consentGranted: z
        .array(z.string().min(1).max(128))
        .max(50)
        .optional()
        .openapi({ description: "Extension: the consent_required scopes the user has just granted on the service's own screen (after a 420)" }),
    }),
    userSession: UserSession.extend({ jit: z.unknown().optional() }),
  })
  .openapi("OidcSsoPayload");

const OidcSsoAnswer = z.object({ sid: z.string(), oidc_token: z.string(), oidc_url_response: z.string() }).openapi("OidcSsoAnswer");

export const oidcSsoRoute = authnRoute({
  operationId: "oidcSso",
  tag: "Authenticate",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/oidc/sso",
  summary: "Authenticate users for Service Provider by OIDC SSO mechanism",
  description:
    "Completes the authorization request for the user the service authenticated, with the authorize endpoint's checks. oidc_token is the authorization code; oidc_url_response the client's redirect with code, state and iss. 420 {statusCode, error, message, scopes:[{name, display_name}]} when consent_required scopes have no consent yet: ask the user, then repeat with OIDCPayload.consentGranted.",
  levels: SYSTEM_SERVICE,
  community: true,
  params: TenantCommunityParams,
  payload: OidcSsoPayload,
  answer: OidcSsoAnswer,
});
// The document's 420 (consent needed) beside the licensed errors.
(oidcSsoRoute.responses as Record<string, unknown>)[420] = errorResponse("Consent required: {statusCode: 420, error, message, scopes: [{name, display_name}]}");

export function registerOidcSsoRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(oidcSsoRoute, async (c) => {
    const p = authnPayload(c, OidcSsoPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const origin = await publicOrigin(svc, scope.tenant.id, requestAddress(c));
    if (!origin) throw new AuthError("not_configured", "this tenant has no public address for its provider");
    const outcome = await completeServiceSso(svc, scope, communityIssuer(origin, scope.community.id), {
      request: p.OIDCPayload.OIDCRequest,
      uid: p.userSession.user.uid,
      ...(p.userSession.aal !== undefined ? { aal: p.userSession.aal } : {}),
      ...(p.OIDCPayload.consentGranted ? { consentGranted: p.OIDCPayload.consentGranted } : {}),
      requestId: authnContext(c).requestUuid,
    });
    if (outcome.kind === "consent") {
      return c.json({ statusCode: 420, error: "Consent Required", message: "the user has not consented to these scopes", scopes: outcome.scopes }, 420 as never) as never;
    }
    return authnRespond(c, { sid: outcome.sid, oidc_token: outcome.code, oidc_url_response: outcome.redirectUrl }) as never;
  });
}
