import { seal } from "../../crypto/secret-box";
import { newClientKey, SSO_SECRET_PURPOSE, TOKEN_ENDPOINT_AUTH_METHODS, usesSecret, type TokenEndpointAuthMethod } from "./client-auth";
import { discoveryUrlOf, fetchDiscovery, otherIssuerMessage } from "./discovery";
import { uuid } from "../../crypto/random";
import type { SsoConnection } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { findOrganisation } from "../tenants/organisation";

/**
 * Administration of SSO connections: one per set of email domains in a tenant. The client
 * secret and the private_key_jwt key are sealed at rest with crypto/secret-box.ts (client-auth.ts)
 * and never returned; the key's public half is. A connection that uses discovery is checked
 * against its discovery document when it is created or its issuer or endpoints change: a
 * document naming another issuer (OIDC Discovery §4.3) is refused here, not after a user has
 * signed in at the provider. Used by the Sentinel extension routes /sso/connections (create,
 * list, read, change, delete), by tests and by the development seed.
 */
export { SSO_SECRET_PURPOSE };

export interface NewSsoConnection {
  name: string;
  /** oidc: we are the relying party of an OIDC provider; saml: of an external SAML IdP of the organisation (saml-connection.ts). */
  type: "oidc" | "saml";
  /** Organisation (community id or name) that users of this connection belong to; default the request's. */
  corpId?: string | undefined;
  domains: string[];
  /** oidc: the provider's issuer URL; saml: the entityID of an external IdP of the organisation's community. */
  issuer: string;
  /** oidc: required; saml: none (stored as ""). */
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** Default: client_secret_basic with a secret, none without. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined;
  /** Discovery document URL; default `<issuer>/.well-known/openid-configuration` when no endpoints are given. */
  discoveryUrl?: string | undefined;
  authorizationEndpoint?: string | undefined;
  tokenEndpoint?: string | undefined;
  jwksUri?: string | undefined;
  /** UserInfo endpoint; default discovery's (with explicit endpoints: none, so the ID token must carry the email). */
  userinfoEndpoint?: string | undefined;
  scopes?: string | undefined;
  /** The app's redirect URIs: where the callback may send the user with its token. */
  redirectUris: string[];
  defaultRoles?: string[] | undefined;
}

/**
 * A connection as shown to administrators: everything but the sealed secret and key; the
 * private_key_jwt public key as `clientJwk`, to register at the IdP.
 */
export type SsoConnectionView = Omit<SsoConnection, "clientSecretSealed" | "clientKeySealed" | "clientPublicJwk"> & {
  hasClientSecret: boolean;
  clientJwk: Record<string, string> | null;
};

export function viewConnection(c: SsoConnection): SsoConnectionView {
  const { clientSecretSealed, clientKeySealed: _key, clientPublicJwk, ...rest } = c;
  return { ...rest, hasClientSecret: clientSecretSealed !== null, clientJwk: clientPublicJwk };
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
type ValidConnection = Omit<SsoConnection, "id" | "tenantId" | "createdAt" | "enabled" | "clientSecretSealed" | "tokenEndpointAuthMethod" | "clientKeySealed" | "clientPublicJwk">;

/**
 * The one validation of a connection's configuration, for creation and for every change (an
 * update is validated as the whole connection it would leave, so no combination of partial
 * changes can store what creation refuses). Normalises domains and scopes.
 */
async function validateConnection(svc: Services, scope: Scope, input: NewSsoConnection, checkDiscovery = true): Promise<ValidConnection> {
  if (input.type !== "oidc" && input.type !== "saml") throw new AuthError("invalid_request", "type: oidc or saml");
  const domains = [...new Set(input.domains.map((d) => String(d).trim().toLowerCase()))];
  if (domains.length === 0 || domains.length > 50 || !domains.every((d) => DOMAIN.test(d))) {
    throw new AuthError("invalid_request", "domains: one to fifty email domains, like example.com");
  }
  const org = await findOrganisation(svc, scope, input.corpId);
  if (!org) throw new AuthError("invalid_request", "corpId: no such organisation");
  if (input.redirectUris.length === 0 || input.redirectUris.length > 20 || !input.redirectUris.every(isAcceptableUrl)) {
    throw new AuthError("invalid_request", "redirectUris: one to twenty https URLs (http only on localhost), without fragments");
  }
  const common = { communityId: org.id, name: String(input.name).slice(0, 200), domains, redirectUris: input.redirectUris, defaultRoles: (input.defaultRoles ?? []).map(String).slice(0, 50) };
  if (input.type === "saml") return { ...common, ...(await validateSamlIdp(svc, scope, org.id, input)) };
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
  const userinfoEndpoint = requireUrl(input.userinfoEndpoint, "userinfoEndpoint");
  const scopes = (input.scopes ?? "openid email profile").trim();
  if (!scopes.split(/\s+/).includes("openid") || scopes.length > 512) throw new AuthError("invalid_request", "scopes: must include openid");
  if (input.clientSecret !== undefined && (input.clientSecret.length === 0 || input.clientSecret.length > 1024)) {
    throw new AuthError("invalid_request", "clientSecret: 1 to 1024 characters");
  }
  if (given === 0 && checkDiscovery) await checkIssuer(svc, issuer, discoveryUrl);
  return { ...common, type: "oidc", issuer, clientId: input.clientId, discoveryUrl, ...endpoints, userinfoEndpoint, scopes };
}

/** The fields that configure the OIDC client: a saml connection has none of them. */
const OIDC_ONLY = ["clientId", "clientSecret", "tokenEndpointAuthMethod", "discoveryUrl", "authorizationEndpoint", "tokenEndpoint", "jwksUri", "userinfoEndpoint", "scopes"] as const;

/**
 * A saml connection names an external IdP of its organisation's community by entityID
 * (SAML 2.0 Core §8.3.6: a URI, not necessarily a URL); the IdP's endpoints, certificate and
 * binding live in that record (saml-connection.ts reads it at initiate and at the ACS), so
 * none of the OIDC client fields apply and giving one is refused rather than silently dropped.
 * An entityID of another community or another tenant is "not an external IdP" like a missing
 * one: the lookup is scoped to the tenant and the organisation.
 */
async function validateSamlIdp(svc: Services, scope: Scope, communityId: string, input: NewSsoConnection): Promise<Omit<ValidConnection, "communityId" | "name" | "domains" | "redirectUris" | "defaultRoles">> {
  const given = OIDC_ONLY.filter((k) => input[k] !== undefined && input[k] !== null && input[k] !== "");
  if (given.length > 0) throw new AuthError("invalid_request", `${given.join(", ")}: OIDC settings, not used by a saml connection (its IdP is configured by its external IdP record)`);
  const issuer = typeof input.issuer === "string" ? input.issuer.trim() : "";
  if (!issuer || issuer.length > 2048) throw new AuthError("invalid_request", "issuer: required, the entityID of an external SAML IdP of the organisation");
  const idp = await svc.identity.externalIdps.findByEntityId(scope.tenant.id, communityId, issuer);
  if (!idp) throw new AuthError("invalid_request", "issuer: no external SAML IdP of this organisation has this entityID");
  return { type: "saml", issuer, clientId: "", discoveryUrl: null, authorizationEndpoint: null, tokenEndpoint: null, jwksUri: null, userinfoEndpoint: null, scopes: "" };
}

/**
 * OIDC Discovery §4.3: the document's issuer must be exactly the configured one. A document
 * that names another (a trailing slash, another tenant's path) would let /sso/initiate start
 * logins whose ID tokens can then never be accepted; so it is refused where it is configured.
 * An unreachable document is refused too (502): nothing is stored that was not checked.
 */
async function checkIssuer(svc: Services, issuer: string, discoveryUrl: string | null): Promise<void> {
  const doc = await fetchDiscovery(svc, discoveryUrlOf(issuer, discoveryUrl));
  if (doc.issuer !== issuer) throw new AuthError("invalid_request", `issuer: ${otherIssuerMessage(issuer, doc.issuer)}`);
}

/** The stored client credentials of a connection. */
type Credentials = Pick<SsoConnection, "tokenEndpointAuthMethod" | "clientSecretSealed" | "clientKeySealed" | "clientPublicJwk">;

/**
 * The method and what it needs: a secret for client_secret_basic and _post (and none for the
 * others: a secret that would never be sent is refused rather than stored), a key pair for
 * private_key_jwt, made once and kept while the method stays private_key_jwt.
 * `secret`: undefined keeps the current one, null removes it, a string replaces it.
 */
async function credentials(svc: Services, method: unknown, secret: string | null | undefined, current: Credentials | null): Promise<Credentials> {
  if (!TOKEN_ENDPOINT_AUTH_METHODS.includes(method as TokenEndpointAuthMethod)) {
    throw new AuthError("invalid_request", `tokenEndpointAuthMethod: one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(", ")}`);
  }
  const m = method as TokenEndpointAuthMethod;
  if (usesSecret(m)) {
    const sealed = secret === undefined ? (current?.clientSecretSealed ?? null) : secret === null ? null : await seal(svc.config.keyEncryptionSecret, SSO_SECRET_PURPOSE, secret);
    if (!sealed) throw new AuthError("invalid_request", `clientSecret: required with ${m}`);
    return { tokenEndpointAuthMethod: m, clientSecretSealed: sealed, clientKeySealed: null, clientPublicJwk: null };
  }
  if (typeof secret === "string") throw new AuthError("invalid_request", `clientSecret: not used with ${m}`);
  if (m === "none") return { tokenEndpointAuthMethod: m, clientSecretSealed: null, clientKeySealed: null, clientPublicJwk: null };
  if (current?.clientKeySealed && current.clientPublicJwk) return { tokenEndpointAuthMethod: m, clientSecretSealed: null, clientKeySealed: current.clientKeySealed, clientPublicJwk: current.clientPublicJwk };
  const key = await newClientKey(svc.config.keyEncryptionSecret);
  return { tokenEndpointAuthMethod: m, clientSecretSealed: null, clientKeySealed: key.sealed, clientPublicJwk: key.publicJwk };
}

/** The method a change leaves when it names none: private_key_jwt stays; otherwise a secret means a secret method, no secret none. */
function impliedMethod(current: SsoConnection, secret: string | null | undefined): TokenEndpointAuthMethod {
  if (current.tokenEndpointAuthMethod === "private_key_jwt") return "private_key_jwt";
  const hasSecret = secret === undefined ? current.clientSecretSealed !== null : secret !== null;
  if (!hasSecret) return "none";
  return usesSecret(current.tokenEndpointAuthMethod) ? current.tokenEndpointAuthMethod : "client_secret_basic";
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
  // A saml connection has no token endpoint: "none", nothing sealed (validateConnection refused a secret).
  const method = input.tokenEndpointAuthMethod ?? (input.clientSecret ? "client_secret_basic" : "none");
  const id = uuid();
  const connection: Omit<SsoConnection, "createdAt"> = {
    id,
    tenantId: scope.tenant.id,
    ...fields,
    ...(await credentials(svc, method, input.clientSecret, null)),
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
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined;
  discoveryUrl?: string | null | undefined;
  authorizationEndpoint?: string | null | undefined;
  tokenEndpoint?: string | null | undefined;
  jwksUri?: string | null | undefined;
  userinfoEndpoint?: string | null | undefined;
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
  tokenEndpointAuthMethod: "tokenEndpointAuthMethod",
  discoveryUrl: "discoveryUrl",
  authorizationEndpoint: "authorizationEndpoint",
  tokenEndpoint: "tokenEndpoint",
  jwksUri: "jwksUri",
  userinfoEndpoint: "userinfoEndpoint",
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
  if (current.type === "saml") return updateSamlConnection(svc, scope, current, patch, actorId);
  // The discovery document is read again only when what it is checked against changes.
  const where = ["issuer", "discoveryUrl", "authorizationEndpoint", "tokenEndpoint", "jwksUri"] as const;
  const moved = where.some((k) => patch[k] !== undefined && patch[k] !== current[k]);
  const fields = await validateConnection(svc, scope, {
    name: patch.name ?? current.name,
    type: current.type,
    corpId: patch.corpId ?? current.communityId,
    domains: patch.domains ?? current.domains,
    issuer: patch.issuer ?? current.issuer,
    clientId: patch.clientId ?? current.clientId,
    clientSecret: patch.clientSecret ?? undefined,
    discoveryUrl: patchedUrl(patch.discoveryUrl, current.discoveryUrl),
    authorizationEndpoint: patchedUrl(patch.authorizationEndpoint, current.authorizationEndpoint),
    tokenEndpoint: patchedUrl(patch.tokenEndpoint, current.tokenEndpoint),
    jwksUri: patchedUrl(patch.jwksUri, current.jwksUri),
    userinfoEndpoint: patchedUrl(patch.userinfoEndpoint, current.userinfoEndpoint),
    scopes: patch.scopes ?? current.scopes,
    redirectUris: patch.redirectUris ?? current.redirectUris,
    defaultRoles: patch.defaultRoles ?? current.defaultRoles,
  }, moved);
  const secret = patch.clientSecret;
  const method = patch.tokenEndpointAuthMethod ?? impliedMethod(current, secret);
  const next: Omit<SsoConnection, "createdAt"> = {
    id,
    tenantId: scope.tenant.id,
    ...fields,
    ...(await credentials(svc, method, secret, current)),
    enabled: patch.enabled ?? current.enabled,
  };
  return storeChange(svc, scope, current, patch, next, actorId);
}

/**
 * A saml connection's change: validated as the whole saml connection it would leave, so any
 * OIDC field in the patch is refused (even null, which for oidc would clear it: a saml
 * connection has nothing to clear). No credentials, no discovery.
 */
async function updateSamlConnection(svc: Services, scope: Scope, current: SsoConnection, patch: SsoConnectionPatch, actorId: string | null): Promise<SsoConnectionView> {
  const oidcGiven = OIDC_ONLY.filter((k) => patch[k] !== undefined);
  if (oidcGiven.length > 0) throw new AuthError("invalid_request", `${oidcGiven.join(", ")}: OIDC settings, not used by a saml connection (its IdP is configured by its external IdP record)`);
  const fields = await validateConnection(svc, scope, {
    name: patch.name ?? current.name,
    type: "saml",
    corpId: patch.corpId ?? current.communityId,
    domains: patch.domains ?? current.domains,
    issuer: patch.issuer ?? current.issuer,
    redirectUris: patch.redirectUris ?? current.redirectUris,
    defaultRoles: patch.defaultRoles ?? current.defaultRoles,
  });
  const next: Omit<SsoConnection, "createdAt"> = {
    id: current.id,
    tenantId: scope.tenant.id,
    ...fields,
    tokenEndpointAuthMethod: "none",
    clientSecretSealed: null,
    clientKeySealed: null,
    clientPublicJwk: null,
    enabled: patch.enabled ?? current.enabled,
  };
  return storeChange(svc, scope, current, patch, next, actorId);
}

/** Stores a validated change: a domain bound elsewhere is a `conflict`; audits the changed fields' names. */
async function storeChange(svc: Services, scope: Scope, current: SsoConnection, patch: SsoConnectionPatch, next: Omit<SsoConnection, "createdAt">, actorId: string | null): Promise<SsoConnectionView> {
  const { id } = current;
  // A newly given secret counts as a change even when equal to the old one (rotation is audited).
  const changed = (Object.keys(PATCHED) as (keyof SsoConnectionPatch)[]).filter((k) => {
    const f = PATCHED[k];
    return patch[k] !== undefined && JSON.stringify(next[f as keyof typeof next]) !== JSON.stringify(current[f]);
  });
  if (changed.length === 0) return viewConnection(current);
  if (changed.includes("domains") && (await domainsTaken(svc, scope, next.domains, id))) throw conflict();
  let updated: SsoConnection | null;
  try {
    updated = await svc.ssoConnections.update(next);
  } catch (e) {
    // Another connection bound one of the domains meanwhile (the unique index decided).
    if (await domainsTaken(svc, scope, next.domains, id)) throw conflict();
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
