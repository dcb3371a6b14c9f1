import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AuthError } from "../core/errors";
import { describeZodError, surfaceErrorHandler, type ErrorRenderer } from "./errors";
import type { AppEnv } from "./types";
import { limitBody } from "./body-limit";
import { noStore } from "./no-store";

/**
 * Creates a surface's app: routes declared with @hono/zod-openapi validate their input, and
 * a failed validation, a malformed body, an oversized body or a core error is rendered in the
 * surface's own documented error shape.
 */
export function surfaceApp(render: ErrorRenderer): OpenAPIHono<AppEnv> {
  const defaultHook: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
    if (!result.success) {
      return render(c as Context<AppEnv>, new AuthError("invalid_request", describeZodError(result.error)));
    }
    return undefined;
  };
  const app = new OpenAPIHono<AppEnv>({ defaultHook });
  app.onError(surfaceErrorHandler(render));
  app.use("*", limitBody(render), noStore);
  return app;
}

/**
 * Every security scheme a surface's document may name. Declared here once so that the five
 * documents describe the same credential the same way.
 */
export const SECURITY_SCHEMES = {
  bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "An access token issued by this service (RFC 6750 §2.1)" },
  basicAuth: { type: "http", scheme: "basic", description: "OAuth 2 client authentication: client_id and client_secret (RFC 6749 §2.3.1, RFC 7617)" },
  oktaHookSecret: {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description: "The Okta inline hook's shared secret, in the header the tenant configures (settings.oktaTokenHook; Authorization by default)",
  },
  authnPublicKey: { type: "apiKey", in: "header", name: "publickey", description: "Authn envelope: the caller's public key (base64 of the 64-byte uncompressed point without 0x04)" },
  authnLicenseKey: { type: "apiKey", in: "header", name: "licensekey", description: "Authn envelope: the license key encrypted with the ECDH shared key (AES-256-GCM)" },
  authnRequestId: { type: "apiKey", in: "header", name: "requestid", description: 'Authn envelope: encrypted {"ts", "appid", "uuid"}; ts within 60 s, uuid never reused' },
} as const;

export type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
/** An OpenAPI security requirement: every named scheme at once (OpenAPI 3.1 §4.8.30). */
export type SecurityRequirement = Partial<Record<SecuritySchemeName, string[]>>;

/** The Authn API's envelope: the three headers together. */
export const AUTHN_ENVELOPE: SecurityRequirement[] = [{ authnPublicKey: [], authnLicenseKey: [], authnRequestId: [] }];

/** The license every document states: the project is not published under an open licence (package.json is private), so an SPDX LicenseRef rather than a URL. */
export const DOCUMENT_LICENSE = { name: "Proprietary: all rights reserved", identifier: "LicenseRef-Proprietary" } as const;

/** The parts of an operation object the document builder reads. */
export interface OperationView {
  operationId?: string;
  security?: SecurityRequirement[];
  parameters?: { name?: string; in?: string; required?: boolean }[];
}

export interface DocumentSpec {
  info: { title: string; version: string; description: string };
  /** Where the surface is mounted: the document's only server. */
  basePath: string;
  /**
   * The requirement of an operation whose route declares none. By default such an operation is
   * public and says so with `security: []`; the Authn API derives the envelope from its headers.
   */
  defaultSecurity?: (op: OperationView) => SecurityRequirement[];
}

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** A surface's OpenAPI document as JSON-ready data. */
export type OpenApiJson = Record<string, unknown> & { paths?: Record<string, Record<string, OperationView>> };

/**
 * Builds a surface's OpenAPI 3.1 document from its route declarations, then states what zod
 * cannot: the license, the security schemes the operations name, and `security: []` on every
 * public operation (OpenAPI 3.1 §4.8.10: an empty list removes any top-level requirement).
 */
export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, spec: DocumentSpec): OpenApiJson {
  const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { ...spec.info, license: DOCUMENT_LICENSE }, servers: [{ url: spec.basePath }] }) as unknown as OpenApiJson;
  const used = new Set<SecuritySchemeName>();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.security ??= spec.defaultSecurity?.(op) ?? [];
      for (const requirement of op.security) for (const name of Object.keys(requirement)) used.add(name as SecuritySchemeName);
    }
  }
  const components = (doc.components ?? {}) as Record<string, unknown>;
  const schemes: Record<string, unknown> = {};
  for (const name of Object.keys(SECURITY_SCHEMES) as SecuritySchemeName[]) if (used.has(name)) schemes[name] = SECURITY_SCHEMES[name];
  if (used.size) components.securitySchemes = schemes;
  doc.components = components;
  return doc;
}

/** A route handler serving a surface's document; `document()` gives the same data to the /docs page. */
export interface OpenApiEndpoint {
  (c: Context): Response;
  document(): OpenApiJson;
}

/** Serves a surface's OpenAPI 3.1 document, built once per isolate. */
export function openApiDocument(app: OpenAPIHono<AppEnv>, info: DocumentSpec["info"], basePath: string, options: Pick<DocumentSpec, "defaultSecurity"> = {}): OpenApiEndpoint {
  let doc: OpenApiJson | null = null;
  const document = () => (doc ??= buildOpenApiDocument(app, { info, basePath, ...options }));
  return Object.assign((c: Context) => c.json(document()), { document });
}
