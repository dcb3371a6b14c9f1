import { seal } from "../../crypto/secret-box";
import { uuid } from "../../crypto/random";
import type { SsoConnection } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { findOrganisation } from "../tenants/organisation";

/**
 * Administration of SSO connections: one per set of email domains in a tenant. The client
 * secret is sealed at rest with crypto/secret-box.ts (purpose SSO_SECRET_PURPOSE) and never
 * returned. Used by the Sentinel extension route POST /sso/connections, by tests and by the
 * development seed.
 */
export const SSO_SECRET_PURPOSE = "sso-client-secret";

export interface NewSsoConnection {
  name: string;
  type: "oidc";
  /** Organisation (community id or name) that users of this connection belong to; default the request's. */
  corpId?: string | undefined;
  domains: string[];
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  /** Discovery document URL; default `<issuer>/.well-known/openid-configuration` when no endpoints are given. */
  discoveryUrl?: string | undefined;
  authorizationEndpoint?: string | undefined;
  tokenEndpoint?: string | undefined;
  jwksUri?: string | undefined;
  scopes?: string | undefined;
  /** The app's redirect URIs: where the callback may send the user with its token. */
  redirectUris: string[];
  defaultRoles?: string[] | undefined;
}

/** A connection as shown to administrators: everything but the sealed secret. */
export type SsoConnectionView = Omit<SsoConnection, "clientSecretSealed"> & { hasClientSecret: boolean };

export function viewConnection(c: SsoConnection): SsoConnectionView {
  const { clientSecretSealed, ...rest } = c;
  return { ...rest, hasClientSecret: clientSecretSealed !== null };
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * An absolute URL that is https, or http on a loopback host (local development and tests);
 * no credentials, no fragment (RFC 6749 §3.1.2: a redirection endpoint has no fragment).
 */
export function isAcceptableUrl(raw: string): boolean {
  if (typeof raw !== "string" || raw.length > 2048) return false;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.username || u.password || u.hash) return false;
  return u.protocol === "https:" || (u.protocol === "http:" && LOCAL_HOSTS.has(u.hostname));
}

function requireUrl(value: string | undefined, field: string): string | null {
  if (value === undefined || value === "") return null;
  if (!isAcceptableUrl(value)) throw new AuthError("invalid_request", `${field}: must be an https URL (http only on localhost)`);
  return value;
}

/** Validates and stores a new connection; a domain already bound in the tenant is a `conflict`. */
export async function createSsoConnection(svc: Services, scope: Scope, input: NewSsoConnection, actorId: string | null = null): Promise<SsoConnectionView> {
  if (input.type !== "oidc") throw new AuthError("invalid_request", "type: only oidc connections can be created for now");
  const domains = [...new Set(input.domains.map((d) => String(d).trim().toLowerCase()))];
  if (domains.length === 0 || domains.length > 50 || !domains.every((d) => DOMAIN.test(d))) {
    throw new AuthError("invalid_request", "domains: one to fifty email domains, like example.com");
  }
  const org = await findOrganisation(svc, scope, input.corpId);
  if (!org) throw new AuthError("invalid_request", "corpId: no such organisation");
  const issuer = requireUrl(input.issuer, "issuer");
  if (!issuer) throw new AuthError("invalid_request", "issuer: required");
  if (!input.clientId || input.clientId.length > 256) throw new AuthError("invalid_request", "clientId: required");
  const endpoints = {
    authorizationEndpoint: requireUrl(input.authorizationEndpoint, "authorizationEndpoint"),
    tokenEndpoint: requireUrl(input.tokenEndpoint, "tokenEndpoint"),
    jwksUri: requireUrl(input.jwksUri, "jwksUri"),
  };
  const given = Object.values(endpoints).filter((v) => v !== null).length;
  if (given !== 0 && given !== 3) throw new AuthError("invalid_request", "authorizationEndpoint, tokenEndpoint and jwksUri: give all three, or none to use discovery");
  const discoveryUrl = requireUrl(input.discoveryUrl, "discoveryUrl");
  if (input.redirectUris.length === 0 || input.redirectUris.length > 20 || !input.redirectUris.every(isAcceptableUrl)) {
    throw new AuthError("invalid_request", "redirectUris: one to twenty https URLs (http only on localhost), without fragments");
  }
  const scopes = (input.scopes ?? "openid email profile").trim();
  if (!scopes.split(/\s+/).includes("openid") || scopes.length > 512) throw new AuthError("invalid_request", "scopes: must include openid");
  if (input.clientSecret !== undefined && (input.clientSecret.length === 0 || input.clientSecret.length > 1024)) {
    throw new AuthError("invalid_request", "clientSecret: 1 to 1024 characters");
  }
  const id = uuid();
  const connection: Omit<SsoConnection, "createdAt"> = {
    id,
    tenantId: scope.tenant.id,
    communityId: org.id,
    name: String(input.name).slice(0, 200),
    type: "oidc",
    domains,
    issuer,
    clientId: input.clientId,
    clientSecretSealed: input.clientSecret ? await seal(svc.config.keyEncryptionSecret, SSO_SECRET_PURPOSE, input.clientSecret) : null,
    discoveryUrl,
    ...endpoints,
    scopes,
    redirectUris: input.redirectUris,
    defaultRoles: (input.defaultRoles ?? []).map(String).slice(0, 50),
    enabled: true,
  };
  const taken = async () => (await Promise.all(domains.map((d) => svc.ssoConnections.byDomain(scope.tenant.id, d)))).some((c) => c !== null);
  const conflict = () => new AuthError("conflict", "one of these domains already has an SSO connection");
  if (await taken()) throw conflict();
  let created: SsoConnection;
  try {
    created = await svc.ssoConnections.create(connection);
  } catch (e) {
    // A concurrent creation bound one of the domains first (the unique index decided).
    if (await taken()) throw conflict();
    throw e;
  }
  recordAudit(svc, scope, "sso_connection_created", { actorId, detail: { connectionId: id, domains } });
  return viewConnection(created);
}
