import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { authnGuard, type AuthnBodyForm, type LicenseLevel } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import { EnvelopeHeaders, envelopeBody, envelopeResponse, licensedErrors, plainBody, plainResponse } from "./schemas";

/**
 * Shared pieces of the Authn login and utility endpoints: the license levels the document
 * names, and a route builder that declares the guard, the envelope headers and the decrypted payload and answer shapes.
 */

const ForwardedFor = z
  .string()
  .optional()
  .openapi({ description: "Client IP forwarded through service layers; believed from system, service and service_ext licenses (the first entry)" });

/** "License must be of authLevel = system/service". */
export const SYSTEM_SERVICE: LicenseLevel[] = ["system", "service"];
/** "authLevel = system, service, service_ext". */
export const SERVICE_LEVELS: LicenseLevel[] = ["system", "service", "service_ext"];

interface RouteSpec<P extends z.ZodType | undefined, R extends z.ZodType | undefined> {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  /** camelCase, after the document's operation name. */
  operationId: string;
  /**
   * The body form the document shows for this endpoint (default "envelope"): "plain" where it
   * shows a bare JSON body and answer ("Request body is unencrypted"). Either accepts the
   * envelope and answers in the form it was asked (the guard decides, in one place).
   */
  form?: AuthnBodyForm;
  summary: string;
  description?: string;
  tag: string;
  levels: LicenseLevel[] | "any";
  community: boolean;
  params?: z.ZodObject;
  /** Document the X-Forwarded-For header (routes whose proofs record the client IP). */
  forwardedFor?: boolean;
  payload?: P;
  /** The body may be left out (every payload field is optional). */
  payloadOptional?: boolean;
  /** The decrypted answer; undefined for 204 No Content. */
  answer?: R;
  status?: 200 | 201 | 204;
  signed?: boolean;
  /** The route's D1 session with the opt-in x-d1-bookmark (http/d1-bookmark.ts), after the guard. */
  d1Session?: MiddlewareHandler<AppEnv>;
}

export function authnRoute<P extends z.ZodType | undefined, R extends z.ZodType | undefined>(spec: RouteSpec<P, R>) {
  const status = spec.status ?? 200;
  const form = spec.form ?? "envelope";
  const middleware: MiddlewareHandler<AppEnv>[] = [
    authnGuard({ levels: spec.levels, community: spec.community, form, ...(spec.payload ? { payload: spec.payload } : {}) }),
    ...(spec.d1Session ? [spec.d1Session] : []),
  ];
  const levels = spec.levels === "any" ? "any valid license" : `license level ${spec.levels.join(", ")}`;
  const bodyForm =
    form === "plain"
      ? 'Body and answer are plain JSON, as the document shows; the envelope {"data": enc(JSON)} is accepted too and answered enveloped. The licensed headers are required either way.'
      : 'Body {"data": enc(JSON payload)}, answered {"data": enc(JSON answer), "publicKey"}.';
  const answer = (a: z.ZodType) =>
    form === "plain" ? plainResponse(a, "The document's answer (or its envelope, when asked enveloped)") : envelopeResponse(a, "Decrypted answer shown as the second branch of data", spec.signed ?? false);
  return createRoute({
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    description: `${spec.description ? `${spec.description}\n\n` : ""}Requires ${levels}${spec.community ? " authorized for the community" : ""}. ${bodyForm}`,
    tags: [spec.tag],
    middleware,
    request: {
      headers: spec.forwardedFor ? EnvelopeHeaders.extend({ "x-forwarded-for": ForwardedFor }) : EnvelopeHeaders,
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.payload ? { body: { ...(form === "plain" ? plainBody(spec.payload) : envelopeBody(spec.payload)), required: !spec.payloadOptional } } : {}),
    },
    responses: {
      [status]: spec.answer ? answer(spec.answer) : { description: "No content" },
      ...licensedErrors,
    },
  });
}

/** Path parameters of /tenant/{tenantId}/community/{communityId}/... routes. */
export const TenantCommunityParams = z.object({
  tenantId: z.string().max(128).openapi({ param: { name: "tenantId", in: "path" }, description: "Id of tenant" }),
  communityId: z.string().max(128).openapi({ param: { name: "communityId", in: "path" }, description: "Id of community" }),
});
