import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { checkConsents, CONTROLLER_TYPES, fetchConsents, latestConsentByScope, withdrawConsents } from "../../core/consents/queries";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import type { LicenseLevel } from "../../storage/ports-licenses";
import type { ServiceProviderType } from "../../storage/ports-idp";
import type { AppEnv } from "../../http/types";
import { authnRoute, TenantCommunityParams } from "./endpoint-kit";

/**
 * User Consent (seed 004): check, fetch and fetch_by_scope over the signed consent receipts
 * the hosted login and oidc/sso record (core/consents), plus our withdraw extension. Plain
 * bodies and answers, as the document shows ("Request body is unencrypted").
 */
const CONSENT_LEVELS: LicenseLevel[] = ["system", "service", "service_ext", "app", "app_ext"];

const UserUrn = z.string().min(1).max(512).openapi({ description: "urn:edge-auth:<tenantId>:<communityId>:user:<uid> (docs/api/authn.md, User Consent)" });
const SpId = z.string().min(1).max(64).openapi({ description: "The service provider's _id" });
const ScopeIds = z
  .array(z.string().min(1).max(128))
  .max(50)
  .optional()
  .openapi({ description: "Scope names or scope uuids (as in receipts); absent or empty: every scope" });

const CheckPayload = z.object({ userUrn: UserUrn, spId: SpId, scopeIds: ScopeIds }).openapi("UserConsentCheckPayload");
const FetchPayload = z.object({ userUrn: UserUrn, spId: SpId }).openapi("UserConsentFetchPayload");
const FetchByScopePayload = z
  .object({
    userUrn: UserUrn,
    controllerType: z.enum(CONTROLLER_TYPES as [ServiceProviderType, ...ServiceProviderType[]]).openapi({ description: "The type of the service provider the consent was given to" }),
    scopeName: z.string().min(1).max(128),
  })
  .openapi("UserConsentFetchByScopePayload");
const WithdrawPayload = z.object({ userUrn: UserUrn, spId: SpId, scopeIds: ScopeIds }).openapi("UserConsentWithdrawPayload");

const Consent = z
  .object({
    version: z.string().openapi({ example: "KI-CR-v1.1.0" }),
    jurisdiction: z.string(),
    consentTimestamp: z.number().int().openapi({ description: "Seconds since the epoch" }),
    collectionMethod: z.string().openapi({ example: "hosted_login" }),
    consentReceiptID: z.string(),
    publicKey: z.string().openapi({ description: "RFC 9278 thumbprint URI of the signing key (in the JWKS)" }),
    piiPrincipal: z.object({ urn: z.string(), username: z.string(), did: z.string(), publicKey: z.string() }),
    piiProcessor: z.array(z.object({ tenantDns: z.string(), tenantId: z.string(), communityName: z.string(), communityId: z.string() })),
    policyUrl: z.string(),
    scopes: z.array(z.object({ name: z.string(), uuid: z.string(), claims: z.array(z.string()), consentType: z.string().openapi({ example: "EXPLICIT" }) })),
    requestID: z.string(),
    user_agent: z.string(),
    clientIP: z.string(),
    signature: z.string().openapi({ description: "Detached JWS (ES256) over the RFC 8785 JSON of the receipt without `signature`" }),
    services: z.array(z.string()).openapi({ description: "The client_id the consent was given to" }),
  })
  .openapi("UserConsent");

const common = { tag: "User Consent", levels: CONSENT_LEVELS, community: true, form: "plain", params: TenantCommunityParams } as const;

export const checkConsentRoute = authnRoute({
  ...common,
  operationId: "checkUserConsents",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/user_consent/check",
  summary: "Check user consents",
  description: "The user's live consent receipts for the service provider that cover any of scopeIds (all when none are given), newest first. 404 when spId is not a service provider of the community.",
  payload: CheckPayload,
  answer: z.object({ consents: z.array(Consent) }),
});
export const fetchConsentRoute = authnRoute({
  ...common,
  operationId: "fetchUserConsents",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/user_consent/fetch",
  summary: "Fetch user consents",
  description: "Every live consent receipt of the user for the service provider, newest first.",
  payload: FetchPayload,
  answer: z.object({ consents: z.array(Consent) }),
});
export const fetchConsentByScopeRoute = authnRoute({
  ...common,
  operationId: "fetchUserConsentByScope",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/user_consent/fetch_by_scope",
  summary: "Fetch latest user consent by controller type and scope name",
  description: "The newest live receipt of the user, given to a service provider of type controllerType (oidc or saml), that covers scopeName; null when none.",
  payload: FetchByScopePayload,
  answer: z.object({ consent: Consent.nullable() }),
});
export const withdrawConsentRoute = authnRoute({
  ...common,
  operationId: "withdrawUserConsent",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/user_consent/withdraw",
  summary: "Withdraw user consent (extension)",
  description:
    "Not in the document. Withdraws the user's live receipts for the service provider that cover any of scopeIds (all when none are given); the next authorization asks for consent again. Answers the receipt ids withdrawn (none on a repeat). 404 when spId is not a service provider of the community.",
  payload: WithdrawPayload,
  answer: z.object({ withdrawn: z.array(z.string()) }),
});

export function registerUserConsentRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(checkConsentRoute, async (c) => {
    const p = authnPayload(c, CheckPayload);
    return authnRespond(c, { consents: await checkConsents(c.get("services"), c.get("scope"), p) }) as never;
  });

  app.openapi(fetchConsentRoute, async (c) => {
    const p = authnPayload(c, FetchPayload);
    return authnRespond(c, { consents: await fetchConsents(c.get("services"), c.get("scope"), p) }) as never;
  });

  app.openapi(fetchConsentByScopeRoute, async (c) => {
    const p = authnPayload(c, FetchByScopePayload);
    return authnRespond(c, { consent: await latestConsentByScope(c.get("services"), c.get("scope"), p) }) as never;
  });

  app.openapi(withdrawConsentRoute, async (c) => {
    const p = authnPayload(c, WithdrawPayload);
    return authnRespond(c, { withdrawn: await withdrawConsents(c.get("services"), c.get("scope"), p) }) as never;
  });
}
