import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * SSO connections (SP-initiated login by email domain) and the terms-and-conditions
 * acceptance log. Times are epoch milliseconds; JSON columns are read whole.
 */
export const ssoConnections = sqliteTable(
  "sso_connections",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** The community (Sentinel organisation) that users of this connection belong to. */
    communityId: text("community_id").notNull(),
    name: text("name").notNull(),
    /** "oidc" now; "saml" plugs in through core/federation/sso.ts. */
    type: text("type").notNull(),
    /** Lower-case email domains, JSON array (mirrored in sso_connection_domains for lookup). */
    domains: text("domains").notNull().default("[]"),
    issuer: text("issuer").notNull(),
    clientId: text("client_id").notNull(),
    /** Client secret sealed with crypto/secret-box.ts (purpose "sso-client-secret"); null for public clients. */
    clientSecretSealed: text("client_secret_sealed"),
    /**
     * client_secret_basic, client_secret_post, private_key_jwt or none (OIDC Core §9); null on
     * rows older than the column: client_secret_basic with a secret, none without.
     */
    tokenEndpointAuthMethod: text("token_endpoint_auth_method"),
    /** private_key_jwt: our private JWK sealed with secret-box (purpose "sso-client-key"), and its public JWK (JSON). */
    clientKeySealed: text("client_key_sealed"),
    clientPublicJwk: text("client_public_jwk"),
    /** Explicit endpoints; when null they come from the issuer's discovery document. */
    discoveryUrl: text("discovery_url"),
    authorizationEndpoint: text("authorization_endpoint"),
    tokenEndpoint: text("token_endpoint"),
    jwksUri: text("jwks_uri"),
    /** Explicit userinfo endpoint (OIDC Core §5.3); when null, discovery's, if any. */
    userinfoEndpoint: text("userinfo_endpoint"),
    scopes: text("scopes").notNull().default("openid email profile"),
    /** The app's redirect URIs allowed as the final destination, JSON array. */
    redirectUris: text("redirect_uris").notNull().default("[]"),
    /** Roles given to users created on their first login, JSON array. */
    defaultRoles: text("default_roles").notNull().default("[]"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("sso_connections_tenant").on(t.tenantId)],
);

/** Email domain -> connection, unique per tenant: one domain has at most one connection. */
export const ssoConnectionDomains = sqliteTable(
  "sso_connection_domains",
  {
    tenantId: text("tenant_id").notNull(),
    domain: text("domain").notNull(),
    connectionId: text("connection_id").notNull(),
  },
  (t) => [uniqueIndex("sso_connection_domains_tenant_domain").on(t.tenantId, t.domain), index("sso_connection_domains_conn").on(t.connectionId)],
);

/** Terms-and-conditions acceptance log: who accepted which version, when, from where. */
export const termsAcceptances = sqliteTable(
  "terms_acceptances",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    userId: text("user_id").notNull(),
    /** The organisation (community) the acceptance was given for. */
    communityId: text("community_id").notNull(),
    version: text("version").notNull(),
    acceptedAt: integer("accepted_at").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [index("terms_acceptances_user").on(t.tenantId, t.userId, t.acceptedAt)],
);
