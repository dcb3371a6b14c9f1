import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { getIdpConfig, putIdpConfig } from "../../core/authn/idp-config";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";

/**
 * IdP config (seed 004): the community's own SAML IdP settings. signingKey and encryptionKey
 * are write-only: stored sealed, never answered (the answer says whether each is set).
 */
const Pem = z
  .string()
  .min(1)
  .max(16_384)
  .regex(/^[A-Za-z0-9+/=\s-]+$/, "must be PEM or base64");
const Binding = z.string().min(1).max(256);

export const IdpConfigPayload = z
  .object({
    signingCert: Pem,
    signingKey: Pem.optional().openapi({ description: "Write-only. Required on create; omitted on update keeps the stored one" }),
    entityId: z.string().min(1).max(1024),
    authnRequestsSigned: z.boolean(),
    encryptionCert: Pem,
    encryptionKey: Pem.optional().openapi({ description: "Write-only. Required on create; omitted on update keeps the stored one" }),
    sso_bindings: z.array(Binding).max(10).default([]),
    slo_bindings: z.array(Binding).max(10).default([]),
    identifier: z.string().max(64).optional().openapi({ description: "Required during update call (answered by the first PUT)" }),
  })
  .openapi("IdpConfigPayload");

const IdpConfigView = z
  .object({
    identifier: z.string(),
    tenantId: z.string(),
    communityId: z.string(),
    entityId: z.string(),
    signingCert: z.string(),
    encryptionCert: z.string(),
    authnRequestsSigned: z.boolean(),
    sso_bindings: z.array(z.string()),
    slo_bindings: z.array(z.string()),
    hasSigningKey: z.boolean(),
    hasEncryptionKey: z.boolean(),
  })
  .openapi("IdpConfig");

const common = { tag: "IdP Config", levels: SYSTEM_SERVICE, community: true, params: TenantCommunityParams, answer: IdpConfigView } as const;

export const getIdpConfigRoute = authnRoute({ ...common, operationId: "getIdpConfig", method: "get", path: "/tenant/{tenantId}/community/{communityId}/idp_config", summary: "Get IDP Config" });
export const putIdpConfigRoute = authnRoute({
  operationId: "setIdpConfig",
  ...common,
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/idp_config",
  summary: "Set IDP Config",
  description: "Creates the config (no identifier) or updates it (identifier required, 404 when it is not the stored one).",
  payload: IdpConfigPayload,
});

export function registerIdpConfigRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getIdpConfigRoute, async (c) => authnRespond(c, await getIdpConfig(c.get("services").authnConfig.idpConfigs, c.get("scope"))) as never);

  app.openapi(putIdpConfigRoute, async (c) => {
    const p = authnPayload(c, IdpConfigPayload);
    const input = {
      entityId: p.entityId,
      signingCert: p.signingCert,
      encryptionCert: p.encryptionCert,
      authnRequestsSigned: p.authnRequestsSigned,
      sso_bindings: p.sso_bindings,
      slo_bindings: p.slo_bindings,
      ...(p.signingKey !== undefined ? { signingKey: p.signingKey } : {}),
      ...(p.encryptionKey !== undefined ? { encryptionKey: p.encryptionKey } : {}),
      ...(p.identifier !== undefined ? { identifier: p.identifier } : {}),
    };
    return authnRespond(c, await putIdpConfig(c.get("services"), c.get("services").authnConfig.idpConfigs, c.get("scope"), input)) as never;
  });
}
