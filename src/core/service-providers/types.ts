/**
 * Inputs of the Authn service-provider operations (seed 004 "Service Providers"), after the
 * surface has checked their JSON shape. The rules that need more than a shape (URL rules,
 * public keys only, certificates, consistency between fields) live in this folder.
 */

export type GrantType = "authorization_code" | "refresh_token" | "client_credentials";
export type AuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none";
export type AttributeType = "session" | "ledger" | "identity";

/** `oidc_config`: OIDC Dynamic Client Registration 1.0 §2 names (read by core/oidc-provider/clients.ts). */
export interface OidcConfigInput {
  client_id?: string;
  client_name?: string;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  grant_types?: GrantType[];
  token_endpoint_auth_method?: AuthMethod;
  jwks?: { keys: Record<string, unknown>[] } | null;
  jwks_uri?: string | null;
  /** Allowed scopes, space-separated (RFC 6749 §3.3). */
  scope?: string | null;
  require_pkce?: boolean;
  refresh_token_rotation?: boolean;
  logo_uri?: string | null;
}

export interface NameIdInput {
  format: string;
  value: string;
  attribute_type: AttributeType;
}

export interface SamlAttributeInput {
  uuid?: string;
  claim_name: string;
  attribute_name?: string | null;
  attribute_type: AttributeType;
  value_type: "static" | "dynamic";
  value?: string | null;
}

/** The document's `saml_config`. */
export interface SamlConfigInput {
  accessUrl?: string | null;
  entityId: string;
  assertionMethod?: "post" | "redirect" | "artifact";
  assertionConsumerServiceURL: string;
  logoutRequestSignRequired?: boolean;
  logoutResponseSignRequired?: boolean;
  authRequestSignRequired?: boolean;
  assertionSignRequired?: boolean;
  /** Unsolicited responses (saml/idp-init) allowed; default false. */
  idpInitiated?: boolean;
  signingCert?: string | null;
  encryptionCert?: string | null;
  encryptionAlgo?: string | null;
  nameid?: NameIdInput | null;
  attributes?: SamlAttributeInput[];
  metadata?: string | null;
  /** WS-Federation passive sign-in for this relying party (realm = entityId); see docs/api/saml.md. */
  wsfed?: { enabled: boolean; tokenType?: "saml11" | "saml20" } | null;
}

interface CommonFields {
  name: string;
  environment?: string | null;
  logo?: string | null;
  forceReauthentication?: boolean;
}

/** PUT .../serviceprovider: "for type SAML send only saml_config; for type OIDC only oidc_config". */
export type ServiceProviderInput =
  | (CommonFields & { type: "oidc"; oidc_config: OidcConfigInput; saml_config?: undefined })
  | (CommonFields & { type: "saml"; saml_config: SamlConfigInput; oidc_config?: undefined });

/** PATCH .../serviceprovider/{id}: fields given replace the stored ones (configs field by field). */
export interface ServiceProviderPatch {
  name?: string;
  environment?: string | null;
  logo?: string | null;
  forceReauthentication?: boolean;
  type?: "oidc" | "saml";
  oidc_config?: OidcConfigInput;
  saml_config?: Partial<SamlConfigInput>;
  /** Extension: issue a new client secret, answered once (confidential OIDC clients). */
  regenerate_secret?: boolean;
  /** Optional: the `__v` the caller last read; a stale one is 409 instead of a merge. */
  __v?: number;
}

/** The document's service provider object, as answered. */
export interface ServiceProviderView extends Record<string, unknown> {
  _id: string;
  name: string;
  type: "oidc" | "saml";
  communityId: string;
  __v: number;
}
