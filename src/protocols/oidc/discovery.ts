/**
 * OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414 §2) for one community. The issuer
 * is an https URL whose discovery document is at `<issuer>/.well-known/openid-configuration`
 * (Discovery §4), and every endpoint sits under it, so a provider on a tenant's own domain is
 * self-contained: `https://<tenant host>/oidc/<community id>`.
 */

export interface ProviderDescription {
  /** `https://<host>/oidc/<communityId>`; plain http only for loopback development hosts. */
  issuer: string;
  scopes: readonly string[];
  claims: readonly string[];
  acrValues: readonly string[];
}

/** The issuer URL of a community on `origin` (scheme and host, no trailing slash). */
export function communityIssuer(origin: string, communityId: string): string {
  return `${origin}/oidc/${encodeURIComponent(communityId)}`;
}

/** The provider's metadata document; endpoint paths are fixed under the issuer. */
export function providerMetadata(p: ProviderDescription): Record<string, unknown> {
  const at = (path: string) => `${p.issuer}${path}`;
  return {
    issuer: p.issuer,
    authorization_endpoint: at("/authorize"),
    token_endpoint: at("/token"),
    userinfo_endpoint: at("/userinfo"),
    jwks_uri: at("/jwks"),
    revocation_endpoint: at("/revoke"),
    introspection_endpoint: at("/introspect"),
    end_session_endpoint: at("/end_session"),
    scopes_supported: p.scopes,
    claims_supported: p.claims,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["ES256"],
    userinfo_signing_alg_values_supported: [],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
    token_endpoint_auth_signing_alg_values_supported: ["ES256", "RS256", "PS256", "EdDSA"],
    revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
    code_challenge_methods_supported: ["S256"],
    prompt_values_supported: ["none", "login", "consent", "select_account"],
    acr_values_supported: p.acrValues,
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    // RFC 9207 §3: the authorization response carries `iss`.
    authorization_response_iss_parameter_supported: true,
  };
}
