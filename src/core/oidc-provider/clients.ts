import type { ServiceProviderRecord } from "../../storage/ports-idp";
import type { Scope, Services } from "../context";

/**
 * An OIDC client as the provider uses it: the typed view of a service provider of type `oidc`
 * (its `body.oidc_config`, field names from OIDC Dynamic Client Registration 1.0 §2). The
 * Authn service-provider endpoints validate what they store; this view is still defensive,
 * because a row is read by every authorization and token request.
 */
export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none";

export interface OidcClient {
  /** The service provider's id (service_providers.id): consents name it as `spId`. */
  spId: string;
  clientId: string;
  name: string;
  /** Public clients authenticate with `none` and must use PKCE. */
  public: boolean;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** crypto/hash.ts hash of the secret (client_secret_basic / _post); null otherwise. */
  secretHash: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  /** Scopes the client may ask for; null: any scope the community supports. */
  allowedScopes: string[] | null;
  /** PKCE S256 required: always for public clients, on by default for all (RFC 9700 §2.1.1). */
  requirePkce: boolean;
  /** Refresh tokens rotate on use (the per-client setting of issue 8). */
  refreshRotation: boolean;
  /** For private_key_jwt: the client's keys, inline or by URL (RFC 7523, OIDC Core §9). */
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
  /** The service provider's `forceReauthentication`: every authorization asks for credentials. */
  forceReauthentication: boolean;
  logoUri: string | null;
}

const AUTH_METHODS: ReadonlySet<string> = new Set<TokenEndpointAuthMethod>(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]);

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function object(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The OIDC view of a stored service provider; null when it is not a usable OIDC client. */
export function oidcClientOf(sp: ServiceProviderRecord): OidcClient | null {
  if (sp.type !== "oidc" || !sp.clientId) return null;
  const c = object(sp.body.oidc_config);
  const method = typeof c.token_endpoint_auth_method === "string" && AUTH_METHODS.has(c.token_endpoint_auth_method) ? (c.token_endpoint_auth_method as TokenEndpointAuthMethod) : "client_secret_basic";
  const isPublic = method === "none";
  const grantTypes = strings(c.grant_types);
  const jwks = object(c.jwks);
  const scopes = typeof c.scope === "string" ? c.scope.split(" ").filter(Boolean) : Array.isArray(c.scopes) ? strings(c.scopes) : null;
  return {
    spId: sp.id,
    clientId: sp.clientId,
    name: typeof c.client_name === "string" ? c.client_name : sp.name,
    public: isPublic,
    tokenEndpointAuthMethod: method,
    secretHash: isPublic ? null : sp.secretHash,
    redirectUris: strings(c.redirect_uris),
    postLogoutRedirectUris: strings(c.post_logout_redirect_uris),
    grantTypes: grantTypes.length ? grantTypes : ["authorization_code"],
    allowedScopes: scopes,
    requirePkce: isPublic || c.require_pkce !== false,
    refreshRotation: c.refresh_token_rotation === true,
    jwks: Array.isArray(jwks.keys) ? { keys: (jwks.keys as unknown[]).map(object) } : null,
    jwksUri: typeof c.jwks_uri === "string" ? c.jwks_uri : null,
    forceReauthentication: sp.body.forceReauthentication === true || sp.body.forceReauthentication === "true",
    logoUri: typeof c.logo_uri === "string" ? c.logo_uri : typeof sp.body.logo === "string" ? sp.body.logo : null,
  };
}

/** The community's client with this client_id, or null (also for another community's client). */
export async function findOidcClient(svc: Services, scope: Scope, clientId: string): Promise<OidcClient | null> {
  if (!clientId || clientId.length > 255) return null;
  const sp = await svc.identity.serviceProviders.findByClientId(scope.tenant.id, scope.community.id, clientId);
  return sp ? oidcClientOf(sp) : null;
}
