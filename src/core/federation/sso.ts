import type { SsoConnection } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { initiateOidc } from "./oidc-connection";
import { initiateSaml } from "./saml-connection";
import type { SsoReturn } from "./sso-login";

/**
 * SP-initiated SSO by email domain (Sentinel POST /sso/initiate): the email's domain selects
 * the tenant's SSO connection, and the connection's protocol builds the authorization URL.
 *
 * The seam for more protocols is PROTOCOLS: a SAML connection adds `saml: { initiate }` (an
 * AuthnRequest redirect URL) and an ACS route that verifies the assertion and hands the
 * identity to finishSsoLogin (sso-login.ts), exactly as the OIDC callback does.
 */
export interface SsoProtocol {
  initiate(svc: Services, scope: Scope, connection: SsoConnection, input: { email: string; callbackUrl: string } & SsoReturn): Promise<{ authorizationUrl: string }>;
}

const PROTOCOLS: Partial<Record<SsoConnection["type"], SsoProtocol>> = {
  oidc: { initiate: initiateOidc },
  saml: { initiate: initiateSaml },
};

const INITIATE_PER_MINUTE = 60;
const EMAIL = /^[^\s@]{1,64}@([a-z0-9.-]{1,253})$/;

export interface SsoInitiateInput {
  email: string;
  /** One of the connection's redirect URIs; default its first. */
  redirectUri?: string | undefined;
  /** Opaque app state, returned with the token. */
  state?: string | undefined;
  /** Our callback URL for the IdP (the surface knows its own origin). */
  callbackUrl: string;
}

/** The connection configured for an email's domain; `not_found` when there is none. */
export async function connectionForEmail(svc: Services, scope: Scope, email: string): Promise<SsoConnection> {
  const m = EMAIL.exec(String(email ?? "").trim().toLowerCase());
  if (!m) throw new AuthError("invalid_request", "email: not a valid email address");
  // Consistency: a D1 replica at least as new as this isolate's own connection writes; a
  // connection disabled meanwhile is refused at the callback, which re-reads it from the primary.
  const c = await svc.replicaReads.ssoConnections.byDomain(scope.tenant.id, m[1]!);
  if (!c || !c.enabled) throw new AuthError("not_found", "no SSO connection is configured for this email domain");
  return c;
}

export async function initiateSso(svc: Services, scope: Scope, input: SsoInitiateInput): Promise<{ authorizationUrl: string; connectionId: string }> {
  // Each initiation stores a transaction: bound them per client IP so KV cannot be flooded.
  await svc.limiter.limit(`${scope.tenant.id}:sso-initiate-ip:${scope.ip}`, INITIATE_PER_MINUTE, 60, scope);
  const c = await connectionForEmail(svc, scope, input.email);
  const protocol = PROTOCOLS[c.type];
  if (!protocol) throw new AuthError("not_configured", `${c.type} connections are not supported yet`);
  const appRedirectUri = input.redirectUri ?? c.redirectUris[0];
  if (!appRedirectUri || !c.redirectUris.includes(appRedirectUri)) throw new AuthError("invalid_request", "redirectUri: not registered for this connection");
  if (input.state !== undefined && input.state.length > 512) throw new AuthError("invalid_request", "state: too long");
  const { authorizationUrl } = await protocol.initiate(svc, scope, c, {
    email: input.email.trim().toLowerCase(),
    callbackUrl: input.callbackUrl,
    appRedirectUri,
    ...(input.state !== undefined ? { appState: input.state } : {}),
  });
  return { authorizationUrl, connectionId: c.id };
}
