import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { AuthError } from "../../core/errors";
import { samlSigningCredential } from "../../core/saml-idp/credential";
import { wsfedSignIn } from "../../core/wsfed/sign-in";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import { requestAddress } from "../../http/request-address";
import type { AppEnv } from "../../http/types";
import { MAX_WCTX, MAX_WREPLY, MAX_WTREALM } from "../../protocols/wsfed/passive-request";
import { errorResponse, UserSession } from "./schemas";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";

/**
 * `POST .../wsfed/sso` (seed 004, Authenticate): a trusted service answers a WS-Federation
 * passive sign-in (WS-Federation 1.2 §13.2) for a user it authenticated itself. The answer is
 * what the service's page posts to the relying party: `wresult` (a RequestSecurityTokenResponse
 * with a signed SAML 1.1 assertion), `wctx`, and where to post them (`sp`).
 *
 * The document names the payload `WSfedPayload` in its schema and `WSFedPayload` in its
 * example; both are accepted (one of them, not both).
 */
const WsFedFields = z
  .object({
    wtrealm: z.string().min(1).max(MAX_WTREALM),
    wa: z.string().max(32).openapi({ description: "wsignin1.0 (anything else is refused)" }),
    wreply: z.string().max(MAX_WREPLY).optional().openapi({ description: "Must be the relying party's registered assertionConsumerServiceURL (same origin and path); absent: that URL" }),
    wctx: z.string().max(MAX_WCTX).optional(),
  })
  .openapi("WSFedPayload");

const WsFedSsoPayload = z
  .object({
    WSfedPayload: WsFedFields.optional().openapi({ description: "The document's schema spelling" }),
    WSFedPayload: WsFedFields.optional().openapi({ description: "The document's example spelling" }),
    userSession: UserSession,
  })
  .refine((p) => (p.WSfedPayload === undefined) !== (p.WSFedPayload === undefined), { message: "exactly one of WSfedPayload or WSFedPayload" })
  .openapi("WsFedSsoPayload");

const WsFedSsoAnswer = z
  .object({
    wresult: z.string(),
    wctx: z.string(),
    sp: z.object({ assertionConsumerServiceURL: z.string(), assertionMethod: z.string() }),
  })
  .openapi("WsFedSsoAnswer");

export const wsfedSsoRoute = authnRoute({
  operationId: "wsfedSso",
  tag: "Authenticate",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/wsfed/sso",
  summary: "Authenticate users for Service Provider by WSFED SSO mechanism",
  description:
    "Answers a WS-Federation wsignin1.0 for the user the service authenticated: wresult is a RequestSecurityTokenResponse (WS-Trust 2005/02) holding a signed SAML 1.1 assertion for the relying party whose saml_config.entityId is wtrealm and whose saml_config.wsfed.enabled is true; wctx is echoed; post wa=wsignin1.0, wresult and wctx to sp.assertionConsumerServiceURL. wreply must be the registered assertionConsumerServiceURL. The document lists 420; no consent applies to a WS-Fed relying party (its attributes are configured by the administrator, not asked as scopes), so it is not answered.",
  levels: SYSTEM_SERVICE,
  community: true,
  params: TenantCommunityParams,
  payload: WsFedSsoPayload,
  answer: WsFedSsoAnswer,
});
(wsfedSsoRoute.responses as Record<string, unknown>)[420] = errorResponse("Listed by the document; never answered (no consent applies to WS-Fed relying parties)");

/** RFC 8176 methods for what the service says it did: two factors are `mfa` (as oidc/sso). */
function methodsOf(aal: string | number | undefined): string[] {
  const level = typeof aal === "number" ? aal : Number(String(aal ?? "").replace(/^aal/i, ""));
  return Number.isFinite(level) && level >= 2 ? ["mfa"] : ["pwd"];
}

export function registerWsFedSsoRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(wsfedSsoRoute, async (c) => {
    const p = authnPayload(c, WsFedSsoPayload);
    const svc = c.get("services");
    const scope = c.get("scope");
    const request = (p.WSfedPayload ?? p.WSFedPayload)!;
    const user = await svc.users.byUid(scope.tenant.id, p.userSession.user.uid);
    if (!user || user.communityId !== scope.community.id || user.disabled) throw new AuthError("not_found", "user not found in this community");
    const session = { authTime: Math.floor(Date.now() / 1000), amr: methodsOf(p.userSession.aal) };
    const out = await wsfedSignIn(svc, scope, { request, user, session }, () => samlSigningCredential(svc, scope, requestAddress(c)));
    return authnRespond(c, { wresult: out.wresult, wctx: out.wctx, sp: out.sp }) as never;
  });
}
