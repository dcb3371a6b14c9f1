import { z } from "@hono/zod-openapi";

/**
 * Request and response shapes of the Sentinel API (seed 000), declared once for validation
 * and docs. The document shows most bodies only as placeholders (`{"example": true, "corpId":
 * ...}`); these are the bodies designed for them (docs/api/sentinel.md). `corpId` names the
 * customer organisation: a community of the tenant, by id or by name.
 */
const str = (name: string, example: string, max = 1024) => z.string().min(1, `${name} is required`).max(max).openapi({ example });
const corpId = z.string().min(1).max(256).optional().openapi({ example: "NORTHSTAR-ISD", description: "Organisation (community id or name); default: the one bound to the host" });

export const UserCredential = z
  .object({ username: str("username", "admin@northstar-isd.edu", 256), password: str("password", "correct horse battery staple"), corpId })
  .openapi("UserCredential");

export const TokenResponse = z
  .object({
    token: z.string().openapi({ description: "JWT; send it as `Authorization: Bearer <token>`" }),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ example: 86400, description: "Seconds until the token expires" }),
    termsAndConditionsPending: z.boolean().optional().openapi({ description: "True while the tenant's current terms are not accepted" }),
    passwordChangeRequired: z
      .boolean()
      .optional()
      .openapi({ description: "True when the password must be changed first: `token` is then a CHANGE_PASSWORD token for POST /password" }),
  })
  .openapi("TokenResponse");

export const SwitchUserRequest = z.object({ username: str("username", "teacher@northstar-isd.edu", 256), corpId }).openapi("SwithUserRequest");

export const ClientCredentials = z
  .object({ clientId: str("clientId", "northstar-reporting", 256), clientSecret: str("clientSecret", "s3cr3t-0123456789abcdef"), corpId })
  .openapi("ClientCredentials");

/** Okta's token inline hook request (com.okta.oauth2.tokens.transform); only what we read is declared. */
export const OktaToken = z
  .object({
    eventType: z.string().max(256).optional().openapi({ example: "com.okta.oauth2.tokens.transform" }),
    data: z
      .object({
        context: z
          .object({ user: z.object({ id: z.string().max(256).optional(), profile: z.object({ login: z.string().max(256).optional() }).passthrough().optional() }).passthrough().optional() })
          .passthrough()
          .optional(),
        identity: z.object({ claims: z.record(z.string(), z.unknown()).optional() }).passthrough().nullable().optional(),
        access: z.object({ claims: z.record(z.string(), z.unknown()).optional() }).passthrough().nullable().optional(),
      })
      .passthrough(),
  })
  .passthrough()
  .openapi("OktaToken");

const PatchOp = z.object({ op: z.enum(["add", "replace"]), path: z.string(), value: z.unknown() });
export const OktaCommands = z
  .object({ commands: z.array(z.object({ type: z.enum(["com.okta.access.patch", "com.okta.identity.patch"]), value: z.array(PatchOp) })) })
  .openapi("OktaTokenEnrichment");

export const PasswordRequestBody = z
  .object({
    password: str("password", "a new long passphrase"),
    confirmPassword: z.string().max(1024).optional().openapi({ description: "When given, must equal password" }),
  })
  .openapi("PasswordRequestBody");

export const PasswordAuthorization = z
  .object({ valid: z.literal(true), username: z.string(), expiresAt: z.string().openapi({ description: "ISO 8601" }) })
  .openapi("PasswordAuthorization");

export const PasswordResetRequest = z.object({ username: str("username", "admin@northstar-isd.edu", 256), corpId }).openapi("PasswordResetRequest");
export const UsernameRequest = z.object({ email: str("email", "admin@northstar-isd.edu", 320), corpId }).openapi("UsernameRequest");

export const AssociatedAccountPassword = z
  .object({ username: str("username", "student-7@northstar-isd.edu", 256), password: str("password", "a new long passphrase"), corpId })
  .openapi("AssociatedAccountPasswordRequest");

export const TCAcceptanceLog = z
  .object({ corpId, version: z.string().min(1).max(64).optional().openapi({ example: "2026-01", description: "Default: the tenant's current version" }) })
  .openapi("TCAcceptanceLog");

export const TermsAccepted = z
  .object({
    userId: z.string(),
    corpId: z.string(),
    version: z.string(),
    acceptedAt: z.string().openapi({ description: "ISO 8601" }),
    token: z.string().openapi({ description: "A fresh token for the same session that no longer says terms are pending" }),
    expiresIn: z.number().int(),
  })
  .openapi("TermsAccepted");

export const SsoInitiateRequest = z
  .object({
    email: str("email", "jane@northstar-isd.edu", 320),
    redirectUri: z.string().max(2048).optional().openapi({ description: "One of the connection's registered app redirect URIs; default its first" }),
    state: z.string().max(512).optional().openapi({ description: "Opaque app state, returned in the final redirect" }),
  })
  .openapi("SsoInitiateRequest");

export const SsoInitiateResponse = z.object({ authorizationUrl: z.string() }).openapi("SsoInitiateResponse");

export const SsoCallbackQuery = z.object({
  state: z.string().max(1024).optional(),
  code: z.string().max(4096).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(2048).optional(),
  iss: z.string().max(2048).optional(),
});

export const SsoSamlAcsForm = z.object({
  SAMLResponse: z.string().min(1).max(60 * 1024),
  RelayState: z.string().max(1024).optional(),
});

export const NewSsoConnection = z
  .object({
    name: str("name", "Northstar Okta", 200),
    type: z.enum(["oidc", "saml"]).openapi({ description: "oidc: an OpenID provider; saml: an external SAML IdP of the organisation, named by its entityID in issuer (the OIDC-only fields are refused)" }),
    corpId,
    domains: z.array(z.string().min(1).max(253)).min(1).max(50).openapi({ example: ["northstar-isd.edu"] }),
    issuer: str("issuer", "https://northstar.okta.com", 2048),
    clientId: str("clientId", "0oa1b2c3d4", 256).optional().openapi({ description: "oidc: required; saml: refused" }),
    clientSecret: z.string().min(1).max(1024).optional(),
    tokenEndpointAuthMethod: z
      .enum(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
      .optional()
      .openapi({ description: "How we authenticate at the IdP's token endpoint (OIDC Core §9); default client_secret_basic with a clientSecret, none without. private_key_jwt: we make an ES256 key and show its public JWK as clientJwk" }),
    discoveryUrl: z.string().max(2048).optional(),
    authorizationEndpoint: z.string().max(2048).optional(),
    tokenEndpoint: z.string().max(2048).optional(),
    jwksUri: z.string().max(2048).optional(),
    userinfoEndpoint: z.string().max(2048).optional().openapi({ description: "Where to read the email when the ID token lacks it; default the discovery document's" }),
    scopes: z.string().max(512).optional().openapi({ example: "openid email profile" }),
    redirectUris: z.array(z.string().min(1).max(2048)).min(1).max(20).openapi({ example: ["https://app.northstar-isd.edu/sso/done"] }),
    defaultRoles: z.array(z.string().min(1).max(64)).max(50).optional().openapi({ example: ["USER"] }),
  })
  .openapi("NewSsoConnection");

const nullableUrl = (description: string) => z.string().max(2048).nullable().optional().openapi({ description });

/**
 * PATCH /sso/connections/{id}: any field of NewSsoConnection but `type`, plus `enabled`.
 * Absent fields stay as they are; the result is validated exactly as a new connection is.
 * Unknown fields are refused, so a misspelt field is a 400 rather than a silent no-op.
 */
export const SsoConnectionPatch = NewSsoConnection.omit({ type: true })
  .partial()
  .extend({
    clientSecret: z.string().min(1).max(1024).nullable().optional().openapi({ description: "A new client secret (sealed at rest, never shown); null removes it" }),
    discoveryUrl: nullableUrl("null: back to `<issuer>/.well-known/openid-configuration`"),
    authorizationEndpoint: nullableUrl("null: clear (give or clear all three endpoints together)"),
    tokenEndpoint: nullableUrl("null: clear (give or clear all three endpoints together)"),
    jwksUri: nullableUrl("null: clear (give or clear all three endpoints together)"),
    userinfoEndpoint: nullableUrl("null: back to the discovery document's"),
    enabled: z.boolean().optional().openapi({ description: "false: the connection keeps its domains but starts and finishes no login" }),
  })
  .strict()
  .openapi("SsoConnectionPatch");

export const SsoConnectionIdParam = z.object({
  id: z.string().min(1).max(128).openapi({ param: { name: "id", in: "path" }, example: "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b" }),
});

export const SsoConnectionView = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    communityId: z.string(),
    domains: z.array(z.string()),
    issuer: z.string(),
    clientId: z.string(),
    hasClientSecret: z.boolean(),
    tokenEndpointAuthMethod: z.string(),
    clientJwk: z.record(z.string(), z.string()).nullable().openapi({ description: "private_key_jwt: the public key to register at the IdP (the private key is never shown)" }),
    discoveryUrl: z.string().nullable(),
    authorizationEndpoint: z.string().nullable(),
    tokenEndpoint: z.string().nullable(),
    jwksUri: z.string().nullable(),
    userinfoEndpoint: z.string().nullable(),
    scopes: z.string(),
    redirectUris: z.array(z.string()),
    defaultRoles: z.array(z.string()),
    enabled: z.boolean(),
    createdAt: z.number().int(),
  })
  .openapi("SsoConnection");

export const MessageResponse = z.object({ message: z.string() }).openapi("Message");

/** Every error: the Spring Boot error body Sentinel clients already parse, plus our stable `code`. */
export const ErrorResponse = z
  .object({
    timestamp: z.string().openapi({ example: "2026-11-23T02:40:00.000Z" }),
    status: z.number().int().openapi({ example: 401 }),
    error: z.string().openapi({ example: "Unauthorized" }),
    code: z.string().openapi({ example: "invalid_token" }),
    message: z.string().openapi({ example: "token has been revoked" }),
    path: z.string().openapi({ example: "/v1.0/auth/refreshToken" }),
  })
  .openapi("Error");
