import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { checkOidcConfig, checkOidcConfigPatch, checkSamlConfig, checkSamlConfigPatch, LIMITS, type RuleResult } from "../../core/idps/rules";
import { createIdp, deleteIdp, fetchIdps, updateIdp } from "../../core/idps/idps";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import { requestAddress } from "../../http/request-address";
import type { AppEnv } from "../../http/types";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";

/**
 * Identity Providers (seed 004): `idp/fetch`, `PUT idp`, `PATCH idp/{id}`, `DELETE idp/{id}`,
 * system/service licenses, enveloped as the document shows. The zod shapes document the
 * payload and check its types; the rules (scope-token names, uniqueness, reserved names, the
 * attribute allow-lists) are core/idps/rules.ts, run here too so a refused payload is a 400
 * before the request id is spent. Type `saml` (issue 9) names the community's SAML IdP; its
 * entity ID, URLs and certificate are read-only (core/idps/saml-idp.ts).
 * `idp/{idpIdentifier}/metadata` is in saml-sso.ts.
 */

/** A string field whose message says so when the document's example `null` is sent. */
const str = (max: number, description?: string) =>
  z
    .string({ error: (iss) => (iss.input === null ? "must not be null" : iss.input === undefined ? "is required" : "must be a string") })
    .max(max)
    .openapi(description ? { description } : {});

const Claim = z
  .object({
    claim_name: str(LIMITS.claimName, "The claim's name in ID tokens and userinfo; unique within the scope; not one the provider sets (sub, iss, aud, ...)"),
    attribute_name: str(LIMITS.attributeName, "dynamic: the attribute read (docs/api/oidc.md lists them per attribute_type); static: null").nullable().optional(),
    attribute_type: z.enum(["session", "ledger", "identity"], { error: "must be one of session, ledger, identity" }),
    value_type: z.enum(["static", "dynamic"], { error: "must be one of static, dynamic" }),
    value: str(LIMITS.value, "static: the claim's value; dynamic: null").nullable().optional(),
  })
  .openapi("IdpClaimMapping");

const ScopeDef = z
  .object({
    name: str(LIMITS.scopeName, "RFC 6749 §3.3 scope-token; unique within the IdP; not openid or offline_access"),
    display_name: str(LIMITS.displayName, "Shown on the consent page"),
    consent_required: z.boolean({ error: "must be true or false" }),
    claims: z.array(Claim).max(LIMITS.claims).optional().openapi({ description: "Default []" }),
  })
  .openapi("IdpScope");

const OidcConfigShape = z.object({
  name: str(LIMITS.name),
  description: str(LIMITS.description).optional(),
  scopes: z.array(ScopeDef).max(LIMITS.scopes),
});

/** Puts a core rule's verdict into zod's issues, at the field it names (`oidc_config.scopes.0.name`). */
function rule<T>(check: (v: unknown) => RuleResult<T>) {
  return (v: unknown, ctx: z.RefinementCtx) => {
    const r = check(v);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.message, path: r.field.split(".").slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p)) });
  };
}

const OidcConfig = OidcConfigShape.superRefine(rule(checkOidcConfig)).openapi("IdpOidcConfig");
const OidcConfigPatch = OidcConfigShape.partial().superRefine(rule(checkOidcConfigPatch)).openapi("IdpOidcConfigPatch");

const SamlConfigShape = z.object(
  {
    name: str(LIMITS.name),
    description: str(LIMITS.description).optional(),
  },
  { error: (iss) => (iss.input === undefined ? "is required" : "must be an object") },
);
const SamlConfig = SamlConfigShape.loose().superRefine(rule(checkSamlConfig)).openapi("IdpSamlConfig", {
  description: "name and description; entityId, ssoUrl, sloUrl, metadataUrl and signingCert are read-only (400 when sent)",
});
const SamlConfigPatch = SamlConfigShape.partial().loose().superRefine(rule(checkSamlConfigPatch)).openapi("IdpSamlConfigPatch");

const TYPE_ERROR = { error: 'must be "oidc" or "saml"' };

export const CreateIdpPayload = z
  .discriminatedUnion("type", [z.object({ type: z.literal("oidc"), oidc_config: OidcConfig }), z.object({ type: z.literal("saml"), saml_config: SamlConfig })], TYPE_ERROR)
  .openapi("CreateIdpPayload");

/** Either config, matching the IdP's type (core checks that once the IdP is found: 404 first). */
export const UpdateIdpPayload = z
  .object({
    type: z.enum(["oidc", "saml"], TYPE_ERROR).optional(),
    oidc_config: OidcConfigPatch.optional(),
    saml_config: SamlConfigPatch.optional(),
  })
  .openapi("UpdateIdpPayload");

const FetchPayload = z
  .object({
    id: z.string().max(64).optional().openapi({ description: "Only this IdP" }),
    type: z.string().max(32).optional().openapi({ description: "Only IdPs of this type (oidc, saml)" }),
  })
  .openapi("FetchIdpsPayload");

const IdpBase = { _id: z.string(), tenantId: z.string(), communityId: z.string(), __v: z.number().int() };
const IdpView = z
  .discriminatedUnion("type", [
    z.object({ ...IdpBase, type: z.literal("oidc"), oidc_config: z.object({ name: z.string(), description: z.string(), scopes: z.array(ScopeDef) }) }),
    z.object({
      ...IdpBase,
      type: z.literal("saml"),
      saml_config: z.object({
        name: z.string(),
        description: z.string(),
        entityId: z.string().openapi({ description: "The IdP's entity ID (idp_config.entityId)" }),
        ssoUrl: z.string().nullable().openapi({ description: "<public origin>/saml/<communityId>/sso; null when the tenant has no bound hostname" }),
        sloUrl: z.string().nullable(),
        metadataUrl: z.string().nullable(),
        signingCert: z.string().nullable().openapi({ description: "The signing certificate (PEM) of idp_config" }),
      }),
    }),
  ])
  .openapi("Idp");

const IdParams = TenantCommunityParams.extend({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" }, description: "Id of idp" }) });

const common = { tag: "Identity Providers", levels: SYSTEM_SERVICE, community: true } as const;

export const fetchIdpsRoute = authnRoute({
  ...common,
  operationId: "fetchIdps",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/idp/fetch",
  summary: "Fetch IDPs",
  description: "The community's IdPs (at most one oidc and one saml), narrowed by id and type; an empty array when none match.",
  params: TenantCommunityParams,
  payload: FetchPayload,
  payloadOptional: true,
  answer: z.array(IdpView),
});
export const createIdpRoute = authnRoute({
  ...common,
  operationId: "createIdp",
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/idp",
  summary: "Create IDP",
  description: "Creates the community's OIDC IdP or its SAML IdP entry (one of each per community: a second is 400 naming the first; a saml one creates the community's SAML signing credential when it has none). Answers the new IdP's id (a string).",
  params: TenantCommunityParams,
  payload: CreateIdpPayload,
  answer: z.string().openapi({ description: "The created IdP's _id" }),
});
export const updateIdpRoute = authnRoute({
  ...common,
  operationId: "updateIdp",
  method: "patch",
  path: "/tenant/{tenantId}/community/{communityId}/idp/{id}",
  summary: "Update IDP",
  description: "The given oidc_config fields (name, description, scopes) replace the stored ones, scopes as a whole; for a saml IdP, the given saml_config fields (name, description). A config of the other type is 400. Answers the IdP's id (a string). 404 for an id not in this community.",
  params: IdParams,
  payload: UpdateIdpPayload,
  answer: z.string().openapi({ description: "The updated IdP's _id" }),
});
export const deleteIdpRoute = authnRoute({
  ...common,
  operationId: "deleteIdp",
  method: "delete",
  path: "/tenant/{tenantId}/community/{communityId}/idp/{id}",
  summary: "Delete IDP",
  description: "204; 404 for an id not in this community (the document's Errors section).",
  params: IdParams,
  status: 204,
});

export function registerIdpRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(fetchIdpsRoute, async (c) => {
    const p = authnPayload(c, FetchPayload);
    return authnRespond(c, await fetchIdps(c.get("services"), c.get("scope"), p, requestAddress(c))) as never;
  });

  app.openapi(createIdpRoute, async (c) => {
    const p = authnPayload(c, CreateIdpPayload);
    return authnRespond(c, await createIdp(c.get("services"), c.get("scope"), p, requestAddress(c))) as never;
  });

  app.openapi(updateIdpRoute, async (c) => {
    const p = authnPayload(c, UpdateIdpPayload);
    return authnRespond(c, await updateIdp(c.get("services"), c.get("scope"), c.req.param("id") ?? "", p)) as never;
  });

  app.openapi(deleteIdpRoute, async (c) => {
    await deleteIdp(c.get("services"), c.get("scope"), c.req.param("id") ?? "");
    return c.body(null, 204) as never;
  });
}
