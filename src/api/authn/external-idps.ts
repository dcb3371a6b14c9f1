import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { createExternalIdp, deleteExternalIdp, fetchExternalIdps, replaceExternalIdp } from "../../core/external-idps/external-idps";
import { generateSamlRequest } from "../../core/external-idps/generate";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import { requestAddress } from "../../http/request-address";
import type { AppEnv } from "../../http/types";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";

/**
 * External Idp (seed 004): `external_idp/fetch`, `PUT external_idp`, `PATCH external_idp/{id}`
 * (a full replacement, as documented), `DELETE external_idp/{id}`, and `samlRequest/generate`,
 * system/service licenses. The zod shapes document the payload and check its types; the rules
 * (URLs, bindings, certificates, the key pair) are core/external-idps/validate.ts and keys.ts.
 * `spPrivateKey` is accepted and never answered.
 */

const str = (max: number, description?: string) =>
  z
    .string({ error: (iss) => (iss.input === null ? "must not be null" : iss.input === undefined ? "is required" : "must be a string") })
    .max(max)
    .openapi(description ? { description } : {});

const Binding = str(128, "HTTP-Redirect or HTTP-POST (also redirect, post, or the SAML 2.0 binding URN); answered as HTTP-Redirect / HTTP-POST");

const ConnectionIn = z
  .object({
    idpName: str(256),
    idpEntityId: str(1024, "The IdP's entityID: the Issuer its Responses carry; unique per community"),
    samlLoginUrl: str(2048, "The IdP's SingleSignOnService URL: https (http only on loopback)"),
    samlLogoutUrl: str(2048, "The IdP's SingleLogoutService URL: https (http only on loopback)"),
    ssoBinding: Binding,
    sloBinding: Binding,
    forceAuthn: z.boolean({ error: "must be true or false" }),
    spEntityId: str(1024, "Our SP's entityID as the IdP knows it: the Issuer of our AuthnRequests"),
    spSigningCertificate: str(16_384, "PEM certificate of spPrivateKey; empty or absent: AuthnRequests are not signed").optional(),
    spPrivateKey: str(16_384, "PEM (PKCS#8, PKCS#1 or SEC1), RSA 2048+ or EC P-256, matching spSigningCertificate. Write-only: sealed at rest, never answered. On PATCH, absent keeps the stored key when spSigningCertificate is unchanged").optional(),
    idpSigningCertificate: str(16_384, "PEM or base64 certificate the IdP signs with: the only key its Responses are checked against"),
  })
  .openapi("ExternalIdpConnectionInput");

const Rule = z.object({
  value: z.array(str(256)).max(200),
  operator: z.enum(["overlap", "nooverlap"], { error: "must be one of overlap, nooverlap" }),
});

const RoutingPolicy = z
  .object({
    enabled: z.boolean({ error: "must be true or false" }),
    groups: Rule.optional(),
    usernames: Rule.optional(),
    usersInIdpStore: z.boolean({ error: "must be true or false" }).optional().openapi({ description: "Default false" }),
  })
  .openapi("ExternalIdpRoutingPolicy");

export const ExternalIdpPayload = z.object({ connection: ConnectionIn, routingPolicy: RoutingPolicy.optional() }).openapi("ExternalIdpInput");

const ExternalIdpView = z
  .object({
    _id: z.string(),
    tenantId: z.string(),
    communityId: z.string(),
    connection: ConnectionIn.omit({ spPrivateKey: true }).extend({ spSigningCertificate: z.string(), ssoBinding: z.enum(["HTTP-Redirect", "HTTP-POST"]), sloBinding: z.enum(["HTTP-Redirect", "HTTP-POST"]) }),
    routingPolicy: RoutingPolicy.optional(),
    __v: z.number().int(),
  })
  .openapi("ExternalIdp");

const FetchPayload = z.object({ ids: z.array(z.string().max(64)).max(100).optional().openapi({ description: "Only these (unknown ids are left out)" }) }).openapi("FetchExternalIdpsPayload");

const GeneratePayload = z
  .object({
    idpId: str(64, "The external IdP's _id"),
    dns: str(253, "The host our SP URLs are built for: the tenant's public host or a domain bound to this tenant and community"),
  })
  .openapi("GenerateSamlRequestPayload");

const GenerateAnswer = z
  .object({
    SAMLRequest: z.string().openapi({ description: "HTTP-Redirect: the whole redirect URL's query is in RedirectUrl, this is the deflated base64 value; HTTP-POST: the base64 form value" }),
    RedirectUrl: z.string().openapi({ description: "HTTP-Redirect: the IdP URL with SAMLRequest (and SigAlg, Signature when signed); HTTP-POST: the URL to post the form to" }),
    RequestBinding: z.enum(["HTTP-Redirect", "HTTP-POST"]),
    ForceAuthn: z.boolean(),
  })
  .openapi("GeneratedSamlRequest");

const IdParams = TenantCommunityParams.extend({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" }, description: "Id of external idp" }) });
const common = { tag: "External Idp", levels: SYSTEM_SERVICE, community: true } as const;

export const fetchExternalIdpsRoute = authnRoute({
  ...common,
  operationId: "fetchExternalIdps",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/external_idp/fetch",
  summary: "Fetch ExternalIdp",
  description: "The community's external IdPs in creation order, or those of `ids`. Never includes spPrivateKey.",
  params: TenantCommunityParams,
  payload: FetchPayload,
  payloadOptional: true,
  answer: z.array(ExternalIdpView),
});
export const createExternalIdpRoute = authnRoute({
  ...common,
  operationId: "createExternalIdp",
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/external_idp",
  summary: "Create ExternalIdp",
  description: "Creates an external IdP; answers it (with its _id, without spPrivateKey).",
  params: TenantCommunityParams,
  payload: ExternalIdpPayload,
  answer: ExternalIdpView,
});
export const updateExternalIdpRoute = authnRoute({
  ...common,
  operationId: "updateExternalIdp",
  method: "patch",
  path: "/tenant/{tenantId}/community/{communityId}/external_idp/{id}",
  summary: "Update ExternalIdp",
  description: "Replaces the external idp config with the provided data (a routingPolicy left out is removed). 404 for an id not in this community; 409 when another update won the race.",
  params: IdParams,
  payload: ExternalIdpPayload,
  answer: ExternalIdpView,
});
export const deleteExternalIdpRoute = authnRoute({
  ...common,
  operationId: "deleteExternalIdp",
  method: "delete",
  path: "/tenant/{tenantId}/community/{communityId}/external_idp/{id}",
  summary: "Delete external idp",
  description: "204; 404 for an id not in this community. The document's optional `{username, ip, userAgent}` payload is accepted and ignored (the audit records the caller's own).",
  params: IdParams,
  status: 204,
});
export const generateSamlRequestRoute = authnRoute({
  ...common,
  operationId: "generateSamlRequest",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/samlRequest/generate",
  summary: "Generate SAML Request",
  description: "An AuthnRequest from our SP to the external IdP `idpId`, encoded for its ssoBinding; its ID is remembered for 10 minutes so that the ACS accepts only a Response to it. `dns` must be a host of this tenant and community (400 otherwise).",
  params: TenantCommunityParams,
  payload: GeneratePayload,
  answer: GenerateAnswer,
});

export function registerExternalIdpRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(fetchExternalIdpsRoute, async (c) => {
    const p = authnPayload(c, FetchPayload);
    return authnRespond(c, await fetchExternalIdps(c.get("services"), c.get("scope"), p.ids)) as never;
  });
  app.openapi(createExternalIdpRoute, async (c) => {
    const p = authnPayload(c, ExternalIdpPayload);
    return authnRespond(c, await createExternalIdp(c.get("services"), c.get("scope"), p)) as never;
  });
  app.openapi(updateExternalIdpRoute, async (c) => {
    const p = authnPayload(c, ExternalIdpPayload);
    return authnRespond(c, await replaceExternalIdp(c.get("services"), c.get("scope"), c.req.param("id") ?? "", p)) as never;
  });
  app.openapi(deleteExternalIdpRoute, async (c) => {
    await deleteExternalIdp(c.get("services"), c.get("scope"), c.req.param("id") ?? "");
    return c.body(null, 204) as never;
  });
  app.openapi(generateSamlRequestRoute, async (c) => {
    const p = authnPayload(c, GeneratePayload);
    return authnRespond(c, await generateSamlRequest(c.get("services"), c.get("scope"), p, requestAddress(c))) as never;
  });
}
