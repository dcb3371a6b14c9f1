import { z } from "@hono/zod-openapi";
import type { FeaturedType } from "../../core/service-providers/vendors/templates";

/**
 * Payload shapes of the Service Providers routes (seed 004). Shapes and sizes only: the rules
 * that need more (redirect URI rules, public keys only, certificates, consistency between
 * fields, uniqueness) are core/service-providers'. Bodies are limited to 64 KiB before any of
 * this runs (http/body-limit.ts).
 */
const Uri = z.string().min(1).max(2048);
const ObjectId = z.string().regex(/^[0-9a-f]{24}$/, "must be 24 hex characters");
/** The document shows `"forceReauthentication": "true/false"`: a boolean or its string. */
export const BoolLike = z.union([z.boolean(), z.enum(["true", "false"])]);
/** A single-line string (vendor credentials end up in HTTP headers and XML). */
const Line = (max = 1024) => z.string().min(1).max(max).regex(/^[^\r\n\0]*$/, "must be one line");

const JwkValue = z.union([z.string().max(8192), z.array(z.string().max(8192)).max(10), z.boolean(), z.number()]);

export const OidcConfigPayload = z
  .object({
    client_id: z.string().min(1).max(255).optional().openapi({ description: "Generated (22 characters, base64url) when left out; cannot change later" }),
    client_name: z.string().min(1).max(256).optional(),
    redirect_uris: z.array(Uri).max(20).optional().openapi({ description: "Exact; https, or http on 127.0.0.1/[::1]/localhost (any port on loopback IPs, RFC 8252 §7.3); no fragment, no wildcard" }),
    post_logout_redirect_uris: z.array(Uri).max(20).optional(),
    grant_types: z.array(z.enum(["authorization_code", "refresh_token", "client_credentials"])).max(3).optional().openapi({ description: 'Default ["authorization_code"]' }),
    token_endpoint_auth_method: z.enum(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]).optional().openapi({ description: "Default client_secret_basic; none = public client (PKCE required)" }),
    jwks: z
      .object({ keys: z.array(z.record(z.string(), JwkValue)).max(10) })
      .nullable()
      .optional()
      .openapi({ description: "private_key_jwt: the client's public keys (a key with private members is refused)" }),
    jwks_uri: Uri.nullable().optional().openapi({ description: "private_key_jwt: where the client's public keys are (https); not with jwks" }),
    scope: z.string().max(2048).nullable().optional().openapi({ description: "Scopes the client may ask for, space-separated; absent: any scope of the community" }),
    require_pkce: z.boolean().optional().openapi({ description: "Default true (always true for public clients)" }),
    refresh_token_rotation: z.boolean().optional(),
    logo_uri: Uri.nullable().optional(),
  })
  .openapi("OidcClientRegistration");

const AttributeType = z.enum(["session", "ledger", "identity"]);
const Pem = z.string().max(16_384);

const NameId = z.object({ _id: ObjectId.optional(), format: z.string().min(1).max(256), value: z.string().min(1).max(256), attribute_type: AttributeType });
const Attribute = z.object({
  _id: ObjectId.optional(),
  uuid: z.string().max(64).optional().openapi({ description: "Generated (UUID) when left out" }),
  claim_name: z.string().min(1).max(256),
  attribute_name: z.string().max(256).nullable().optional(),
  attribute_type: AttributeType,
  value_type: z.enum(["static", "dynamic"]),
  value: z.string().max(4096).nullable().optional(),
});

const samlShape = {
  _id: ObjectId.optional(),
  accessUrl: Uri.nullable().optional(),
  entityId: z.string().min(1).max(1024),
  assertionMethod: z.enum(["post", "redirect", "artifact"]).optional(),
  assertionConsumerServiceURL: Uri,
  logoutRequestSignRequired: z.boolean().optional(),
  logoutResponseSignRequired: z.boolean().optional(),
  authRequestSignRequired: z.boolean().optional(),
  assertionSignRequired: z.boolean().optional(),
  idpInitiated: z.boolean().optional().openapi({ description: "Allow IdP-initiated SSO (saml/idp-init) to this SP; default false" }),
  signingCert: Pem.nullable().optional().openapi({ description: "PEM or base64 X.509 (required when a request signature is required)" }),
  encryptionCert: Pem.nullable().optional(),
  encryptionAlgo: z.string().max(128).nullable().optional(),
  nameid: NameId.nullable().optional(),
  attributes: z.array(Attribute).max(100).optional(),
  metadata: z.string().max(40_000).nullable().optional().openapi({ description: "The SP's metadata XML, kept as given" }),
  wsfed: z
    .object({ enabled: z.boolean(), tokenType: z.enum(["saml11", "saml20"]).optional() })
    .nullable()
    .optional()
    .openapi({ description: "Extension: WS-Federation passive sign-in for this relying party (wtrealm = entityId); tokenType defaults to saml11" }),
};
export const SamlConfigPayload = z.object(samlShape).openapi("SamlServiceProviderConfig");
const SamlConfigPatch = z.object(samlShape).partial();

const common = {
  name: z.string().min(1).max(256),
  environment: z.string().max(128).nullable().optional(),
  logo: z.string().max(16_384).nullable().optional(),
  forceReauthentication: BoolLike.optional(),
};

export const CreatePayload = z
  .discriminatedUnion("type", [
    z.object({ ...common, type: z.literal("oidc"), oidc_config: OidcConfigPayload, saml_config: z.unknown().optional() }),
    z.object({ ...common, type: z.literal("saml"), saml_config: SamlConfigPayload, oidc_config: z.unknown().optional() }),
  ])
  .openapi("ServiceProviderCreate");

export const PatchPayload = z
  .object({
    name: common.name.optional(),
    environment: common.environment,
    logo: common.logo,
    forceReauthentication: common.forceReauthentication,
    type: z.enum(["oidc", "saml"]).optional().openapi({ description: "Cannot change" }),
    oidc_config: OidcConfigPayload.partial().optional(),
    saml_config: SamlConfigPatch.optional(),
    regenerate_secret: z.boolean().optional().openapi({ description: "Extension: a new client secret, answered once in oidc_config.client_secret (the old one stops working)" }),
    __v: z.number().int().min(0).optional().openapi({ description: "Optional: the __v last read; 409 when the object has changed since" }),
  })
  .openapi("ServiceProviderUpdate");

export const FeaturedPayload = z
  .object({
    name: z.string().min(1).max(256),
    domain: Line(2048).openapi({ description: "The application's URL (for gsuite: the Workspace domain name)" }),
    ssoUrl: Line(2048).optional().openapi({ description: "Our SSO URL, registered at the vendor (optional for zendesk)" }),
    config: z.record(z.string(), z.unknown()).openapi({ description: "Per type; see the document" }),
  })
  .openapi("FeaturedServiceProviderCreate");

/** Each featured type's `config` (seed 004). Strict: a misspelt credential must not be stored unsealed. */
export const FEATURED_CONFIGS: Record<FeaturedType, z.ZodType<Record<string, unknown>>> = {
  auth0: z.strictObject({ clientId: Line(), clientSecret: Line() }),
  okta: z.strictObject({ apiToken: Line() }),
  forgerock: z.strictObject({ username: Line(), password: Line(), useExistingCOT: z.boolean(), COT: Line(256).optional(), hostedSP: Line(1024).optional() }),
  salesforce: z.strictObject({ username: Line(), password: Line(), securityToken: Line() }),
  gsuite: z.strictObject({ serviceAccountEmail: z.email().max(320), adminEmail: z.email().max(320), serviceAccountPrivateKey: z.string().min(1).max(8192), sloUrl: Line(2048) }),
  zendesk: z.strictObject({}),
};

export const ServiceProviderView = z
  .object({
    _id: z.string(),
    name: z.string(),
    type: z.enum(["oidc", "saml"]),
    environment: z.string().nullable().optional(),
    logo: z.string().nullable().optional(),
    forceReauthentication: z.boolean().optional(),
    oidc_config: z.record(z.string(), z.unknown()).optional().openapi({ description: "Registration as stored; client_secret and client_secret_expires_at only in the answer that created it" }),
    saml_config: z.record(z.string(), z.unknown()).optional(),
    featured: z.record(z.string(), z.unknown()).optional().openapi({ description: "Featured types: type, domain, ssoUrl, config without secrets, secrets (names set), registration {status, vendor_id?, detail?}" }),
    communityId: z.string(),
    __v: z.number().int(),
  })
  .openapi("ServiceProvider");
