import { z } from "@hono/zod-openapi";

/**
 * Shared schemas of the Authn surface. Each licensed route's declaration shows its document's
 * body form first: the envelope `{"data": "<encrypted JSON>"}` (login and federation; the
 * decrypted payload is the second branch of `data`) or the plain payload (schemes, SP
 * catalog; the envelope is the second branch). What the route validates is the payload.
 */
export const ErrorResponse = z
  .object({ statusCode: z.number().int(), error: z.string(), message: z.string() })
  .openapi("AuthnError", { example: { statusCode: 400, error: "Bad Request", message: "Validation error" } });

/** The three headers of every licensed request (seed 004 "Headers"). */
export const EnvelopeHeaders = z.object({
  licensekey: z.string().openapi({ description: "License key encrypted with ECDSA (the envelope of DESIGN.md)" }),
  requestid: z.string().openapi({
    description: 'JSON {"ts": epoch seconds, "appid": string, "uuid": string} encrypted with ECDSA; ts within 60 s of now, uuid never reused',
  }),
  publickey: z.string().openapi({ description: "Caller's public key: base64 of the 64-byte uncompressed point without 0x04" }),
});

/** Request body of a licensed route: encrypted payload, or the plain payload in preview. */
export function envelopeBody<T extends z.ZodType>(payload: T, description = "Envelope: data = enc(JSON payload)") {
  return {
    required: true,
    description: `${description}. Plaintext payloads are accepted only in preview mode (development).`,
    content: { "application/json": { schema: z.object({ data: z.union([z.string().openapi({ description: "enc(JSON payload)" }), payload]) }) } },
  };
}

/**
 * Request body of a route whose document shows a plain JSON body (schemes, SP catalog, ...):
 * the payload itself first, the envelope (for clients that encrypt everything) second.
 */
export function plainBody<T extends z.ZodType>(payload: T) {
  return {
    required: true,
    description: 'The JSON payload as the document shows it; or the envelope {"data": enc(JSON payload)}, answered enveloped.',
    content: {
      "application/json": {
        schema: z.union([payload, z.object({ data: z.union([z.string().openapi({ description: "enc(JSON payload)" }), payload]) }).openapi({ description: "Envelope form" })]),
      },
    },
  };
}

/** Response of a plain route: the document's answer first; the envelope when asked enveloped. */
export function plainResponse<T extends z.ZodType>(answer: T, description: string) {
  const envelope = z
    .object({ data: z.string().openapi({ description: "enc(JSON answer)" }), publicKey: z.string().openapi({ description: "The service's public key (GET /publickeys)" }) })
    .openapi({ description: "Envelope form: the answer to an enveloped request" });
  return { description, content: { "application/json": { schema: z.union([answer, envelope]) } } };
}

/** Response of a licensed route: `{data: enc(JSON), publicKey, signature_token?}`. */
export function envelopeResponse<T extends z.ZodType>(payload: T, description: string, signed = false) {
  const shape = {
    data: z.union([z.string().openapi({ description: "enc(JSON response)" }), payload]),
    publicKey: z.string().openapi({ description: "The service's public key (GET /publickeys)" }),
    ...(signed ? { signature_token: z.string().openapi({ description: "ECDSA (SHA-256) signature of `data` by the service key, base64 r||s" }) } : {}),
  };
  return { description, content: { "application/json": { schema: z.object(shape) } } };
}

const err = (description: string) => ({ description, content: { "application/json": { schema: ErrorResponse } } });

/** The error responses every licensed route can give. */
export const licensedErrors = {
  400: err("Validation failed (payload, malformed body)"),
  401: err("Missing or invalid credentials: publickey, licensekey, requestid (window, replay), disabled or expired license"),
  403: err("A valid license that is not permitted here (level, tenant, community)"),
  404: err("Unknown tenant, community or resource"),
  413: err("Body too large"),
};

export const openErrors = { 400: err("Validation failed") };
export const errorResponse = err;

/**
 * The document's `userSession` of the SSO operations (oidc/sso, saml/sso, saml/idp-init,
 * wsfed/sso): the user the caller already authenticated, and facts of that sign-in. Only
 * `user.uid` is read as an identity; the rest passes through.
 */
export const UserSession = z
  .object({
    user: z.object({ uid: z.string().min(1).max(128), moduleId: z.string().max(128).optional() }).passthrough(),
    aal: z.union([z.string().max(16), z.number()]).optional(),
    pon_data: z.unknown().optional(),
    authenticator_data: z.unknown().optional(),
    wallet: z.unknown().optional(),
  })
  .passthrough();
