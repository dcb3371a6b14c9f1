import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { createScheme, deleteScheme, fetchSchemes, replaceScheme } from "../../core/authn/schemes";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import { schemeReadSession, schemeWriteSession } from "../../http/services";
import type { AppEnv } from "../../http/types";
import type { AuthSchemeInput } from "../../storage/ports-authn";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";

/**
 * Schemes (seed 004): fetch, create (PUT), replace (PATCH: "only full object can be
 * updated"), delete. The three rules live in core/authn/schemes.ts. The document names no
 * level for DELETE; it takes the same system/service as the others.
 */
const Text = z.string().max(256);
const Module = z
  .object({
    id: z.string().min(1).max(128).optional().openapi({ description: "Unique within the scheme; generated (24 hex characters) when left out, as in the document's `modules: [{}]` example" }),
    type: Text.optional(), method: Text.optional(), name: Text.optional(), criteria: Text.optional(),
  })
  .catchall(z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]))
  .openapi("AuthSchemeModule");

export const SchemePayload = z
  .object({
    tag: z.string().min(1).max(128),
    enabled: z.boolean().default(true),
    isDefault: z.boolean().default(false),
    dbModule: Module.nullable().optional(),
    modules: z.array(Module).max(50).default([]),
  })
  .openapi("AuthSchemePayload");

const FetchPayload = z
  .object({
    default: z.boolean().optional().openapi({ description: "true: only the community's default scheme" }),
    fetchModules: z.boolean().optional().openapi({ description: "false: leave modules out (default true)" }),
  })
  .openapi("AuthSchemeFetchPayload");

const Scheme = z
  .object({
    _id: z.string(),
    tag: z.string(),
    communityId: z.string(),
    enabled: z.boolean(),
    isDefault: z.boolean(),
    dbModule: z.record(z.string(), z.unknown()).nullable(),
    modules: z.array(z.record(z.string(), z.unknown())).optional(),
    __v: z.number().int(),
  })
  .openapi("AuthScheme");

const IdParams = TenantCommunityParams.extend({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" }, description: "Id of the scheme" }) });

// The document shows plain JSON bodies and answers for every scheme route.
const common = { tag: "Schemes", levels: SYSTEM_SERVICE, community: true, form: "plain" } as const;
// Each answers an x-d1-bookmark; fetch reads from a replica only when sent one back (docs/architecture.md).
const reads = { ...common, d1Session: schemeReadSession };
const writes = { ...common, d1Session: schemeWriteSession };

export const fetchSchemesRoute = authnRoute({
  ...reads,
  operationId: "getAuthSchemesList",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/scheme/fetch",
  summary: "Get Auth Schemes list",
  params: TenantCommunityParams,
  payload: FetchPayload,
  payloadOptional: true,
  answer: z.array(Scheme),
});
export const createSchemeRoute = authnRoute({
  ...writes,
  operationId: "createAuthScheme",
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/scheme",
  summary: "Create Auth Scheme",
  description: "Rules: unique tag per community; unique module ids; one default per community (a new default clears the old one).",
  params: TenantCommunityParams,
  payload: SchemePayload,
  answer: Scheme,
  status: 201,
});
export const updateSchemeRoute = authnRoute({
  ...writes,
  operationId: "updateAuthScheme",
  method: "patch",
  path: "/tenant/{tenantId}/community/{communityId}/scheme/{id}",
  summary: "Update Auth Scheme (full object)",
  description: "Only the full object can be updated: omitted optional fields take their defaults. Same rules as create.",
  params: IdParams,
  payload: SchemePayload,
  answer: Scheme,
});
export const deleteSchemeRoute = authnRoute({
  ...writes,
  operationId: "deleteAuthScheme",
  method: "delete",
  path: "/tenant/{tenantId}/community/{communityId}/scheme/{id}",
  summary: "Delete Auth Scheme",
  params: IdParams,
  status: 204,
});

function toInput(p: z.infer<typeof SchemePayload>): AuthSchemeInput {
  return { tag: p.tag, enabled: p.enabled, isDefault: p.isDefault, dbModule: p.dbModule ?? null, modules: p.modules };
}

export function registerSchemeRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(fetchSchemesRoute, async (c) => {
    const p = authnPayload(c, FetchPayload);
    const list = await fetchSchemes(c.get("services").authnConfig.schemes, c.get("scope"), { onlyDefault: p.default === true, withModules: p.fetchModules !== false });
    return authnRespond(c, list) as never;
  });

  app.openapi(createSchemeRoute, async (c) => {
    const p = authnPayload(c, SchemePayload);
    const s = await createScheme(c.get("services"), c.get("services").authnConfig.schemes, c.get("scope"), toInput(p));
    return authnRespond(c, s, { status: 201 }) as never;
  });

  app.openapi(updateSchemeRoute, async (c) => {
    const p = authnPayload(c, SchemePayload);
    const s = await replaceScheme(c.get("services"), c.get("services").authnConfig.schemes, c.get("scope"), c.req.param("id") ?? "", toInput(p));
    return authnRespond(c, s) as never;
  });

  app.openapi(deleteSchemeRoute, async (c) => {
    await deleteScheme(c.get("services"), c.get("services").authnConfig.schemes, c.get("scope"), c.req.param("id") ?? "");
    return c.body(null, 204) as never;
  });
}
