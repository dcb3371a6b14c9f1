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
 * returned. Used by the Sentinel extension routes /sso/connections (create, list, read, change,
 * delete), by tests and by the development seed.
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

/** Everything a connection's configuration holds after validation (what create and update store). */
type ValidConnection = Omit<SsoConnection, "id" | "tenantId" | "createdAt" | "enabled" | "clientSecretSealed">;

/**
 * The one validation of a connection's configuration, for creation and for every change (an
 * update is validated as the whole connection it would leave, so no combination of partial
 * changes can store what creation refuses). Normalises domains and scopes.
 */
async function validateConnection(svc: Services, scope: Scope, input: NewSsoConnection): Promise<ValidConnection> {
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
  return {
    communityId: org.id,
    name: String(input.name).slice(0, 200),
    type: "oidc",
    domains,
    issuer,
    clientId: input.clientId,
    discoveryUrl,
    ...endpoints,
    scopes,
    redirectUris: input.redirectUris,
    defaultRoles: (input.defaultRoles ?? []).map(String).slice(0, 50),
  };
}

const conflict = () => new AuthError("conflict", "one of these domains already has an SSO connection");
const notFound = () => new AuthError("not_found", "no such SSO connection");

/** True when one of the domains is bound to a connection of the tenant other than `selfId`. */
async function domainsTaken(svc: Services, scope: Scope, domains: string[], selfId: string | null): Promise<boolean> {
  const owners = await Promise.all(domains.map((d) => svc.ssoConnections.byDomain(scope.tenant.id, d)));
  return owners.some((c) => c !== null && c.id !== selfId);
}

/** Validates and stores a new connection; a domain already bound in the tenant is a `conflict`. */
export async function createSsoConnection(svc: Services, scope: Scope, input: NewSsoConnection, actorId: string | null = null): Promise<SsoConnectionView> {
  const fields = await validateConnection(svc, scope, input);
  const id = uuid();
  const connection: Omit<SsoConnection, "createdAt"> = {
    id,
    tenantId: scope.tenant.id,
    ...fields,
    clientSecretSealed: input.clientSecret ? await seal(svc.config.keyEncryptionSecret, SSO_SECRET_PURPOSE, input.clientSecret) : null,
    enabled: true,
  };
  if (await domainsTaken(svc, scope, fields.domains, null)) throw conflict();
  let created: SsoConnection;
  try {
    created = await svc.ssoConnections.create(connection);
  } catch (e) {
    // A concurrent creation bound one of the domains first (the unique index decided).
    if (await domainsTaken(svc, scope, fields.domains, null)) throw conflict();
    throw e;
  }
  recordAudit(svc, scope, "sso_connection_created", { actorId, detail: { connectionId: id, domains: fields.domains } });
  return viewConnection(created);
}

/** One connection of the tenant; `not_found` for an unknown id or another tenant's. */
export async function getSsoConnection(svc: Services, scope: Scope, id: string): Promise<SsoConnectionView> {
  const c = await svc.ssoConnections.byId(scope.tenant.id, id);
  if (!c) throw notFound();
  return viewConnection(c);
}

/**
 * A partial change (JSON merge patch, RFC 7396): absent fields stay; `null` clears the client
 * secret (a public client) or an endpoint or discovery URL (back to discovery). `type` cannot
 * change.
 */
export interface SsoConnectionPatch {
  name?: string | undefined;
  corpId?: string | undefined;
  domains?: string[] | undefined;
  issuer?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | null | undefined;
  discoveryUrl?: string | null | undefined;
  authorizationEndpoint?: string | null | undefined;
  tokenEndpoint?: string | null | undefined;
  jwksUri?: string | null | undefined;
  scopes?: string | undefined;
  redirectUris?: string[] | undefined;
  defaultRoles?: string[] | undefined;
  /** A disabled connection keeps its domains but starts no login and finishes none. */
  enabled?: boolean | undefined;
}

/** Patch field -> the stored field it changes (for the audit's list of changed fields). */
const PATCHED: Record<keyof SsoConnectionPatch, keyof SsoConnection> = {
  name: "name",
  corpId: "communityId",
  domains: "domains",
  issuer: "issuer",
  clientId: "clientId",
  clientSecret: "clientSecretSealed",
  discoveryUrl: "discoveryUrl",
  authorizationEndpoint: "authorizationEndpoint",
  tokenEndpoint: "tokenEndpoint",
  jwksUri: "jwksUri",
  scopes: "scopes",
  redirectUris: "redirectUris",
  defaultRoles: "defaultRoles",
  enabled: "enabled",
};

/** A nullable URL field after a patch: null clears it, absent keeps it. */
const patchedUrl = (given: string | null | undefined, current: string | null): string | undefined => (given === null ? undefined : (given ?? current ?? undefined));

/**
 * Changes a connection: the connection it would leave is validated exactly as a new one is,
 * a domain bound to another connection of the tenant is a `conflict`, an unknown id (or
 * another tenant's) is `not_found`. The audit event names the changed fields, never values.
 */
export async function updateSsoConnection(svc: Services, scope: Scope, id: string, patch: SsoConnectionPatch, actorId: string | null = null): Promise<SsoConnectionView> {
  const current = await svc.ssoConnections.byId(scope.tenant.id, id);
  if (!current) throw notFound();
  if (current.type !== "oidc") throw new AuthError("invalid_request", "type: only oidc connections can be changed for now");
  const fields = await validateConnection(svc, scope, {
    name: patch.name ?? current.name,
    type: "oidc",
    corpId: patch.corpId ?? current.communityId,
    domains: patch.domains ?? current.domains,
    issuer: patch.issuer ?? current.issuer,
    clientId: patch.clientId ?? current.clientId,
    clientSecret: patch.clientSecret ?? undefined,
    discoveryUrl: patchedUrl(patch.discoveryUrl, current.discoveryUrl),
    authorizationEndpoint: patchedUrl(patch.authorizationEndpoint, current.authorizationEndpoint),
    tokenEndpoint: patchedUrl(patch.tokenEndpoint, current.tokenEndpoint),
    jwksUri: patchedUrl(patch.jwksUri, current.jwksUri),
    scopes: patch.scopes ?? current.scopes,
    redirectUris: patch.redirectUris ?? current.redirectUris,
    defaultRoles: patch.defaultRoles ?? current.defaultRoles,
  });
  const secret = patch.clientSecret;
  const next: Omit<SsoConnection, "createdAt"> = {
    id,
    tenantId: scope.tenant.id,
    ...fields,
    clientSecretSealed: secret === undefined ? current.clientSecretSealed : secret === null ? null : await seal(svc.config.keyEncryptionSecret, SSO_SECRET_PURPOSE, secret),
    enabled: patch.enabled ?? current.enabled,
  };
  // A newly given secret counts as a change even when equal to the old one (rotation is audited).
  const changed = (Object.keys(PATCHED) as (keyof SsoConnectionPatch)[]).filter((k) => {
    const f = PATCHED[k];
    return patch[k] !== undefined && JSON.stringify(next[f as keyof typeof next]) !== JSON.stringify(current[f]);
  });
  if (changed.length === 0) return viewConnection(current);
  if (changed.includes("domains") && (await domainsTaken(svc, scope, fields.domains, id))) throw conflict();
  let updated: SsoConnection | null;
  try {
    updated = await svc.ssoConnections.update(next);
  } catch (e) {
    // Another connection bound one of the domains meanwhile (the unique index decided).
    if (await domainsTaken(svc, scope, fields.domains, id)) throw conflict();
    throw e;
  }
  if (!updated) throw notFound();
  recordAudit(svc, scope, "sso_connection_updated", { actorId, detail: { connectionId: id, fields: changed } });
  return viewConnection(updated);
}

/**
 * Removes a connection and frees its domains. Logins it started and has not finished fail at
 * the callback (4xx, no redirect: nothing vouches for their app redirect URI any more);
 * users it created stay, with their sessions.
 */
export async function deleteSsoConnection(svc: Services, scope: Scope, id: string, actorId: string | null = null): Promise<void> {
  const current = await svc.ssoConnections.byId(scope.tenant.id, id);
  if (!current || !(await svc.ssoConnections.delete(scope.tenant.id, id))) throw notFound();
  recordAudit(svc, scope, "sso_connection_deleted", { actorId, detail: { connectionId: id, domains: current.domains } });
}
