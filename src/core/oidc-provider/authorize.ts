import type { User } from "../../storage/ports";
import { authorizationResponseUrl, type AuthorizationRequest } from "../../protocols/oidc/authorization-request";
import type { Scope, Services } from "../context";
import { scopesNeedingConsent } from "../consents/consents";
import type { OidcClient } from "./clients";
import { issueAuthorizationCode } from "./codes";
import { verifyIdTokenHint } from "./logout";
import { ACR_MFA, type SsoSession } from "./sso-session";

/**
 * The authorization decision of the OpenID Provider, shared by every front channel that
 * completes an authorization request: the hosted login (src/web) and, later, the Authn
 * `oidc/sso` endpoint ("the same checks as the authorize endpoint"). No HTTP here: given a
 * parsed request (protocols/oidc/authorization-request.ts), the client and the user's SSO
 * session, it answers a code to send back, an error to send back, or which page is needed.
 */

export type AuthorizeOutcome =
  /** Send the browser to `redirectUrl` (the code, `state` and `iss`, RFC 9207 §2). */
  | { kind: "code"; code: string; redirectUrl: string }
  /** An error for the client (OIDC Core §3.1.2.6), already in `redirectUrl`. */
  | { kind: "error"; error: "login_required" | "consent_required" | "access_denied" | "unauthorized_client"; redirectUrl: string }
  /** The user must (re-)authenticate first. */
  | { kind: "login"; reason: ReauthenticationReason }
  /** The user must grant these consent_required scopes first. */
  | { kind: "consent"; scopes: string[] };

export type ReauthenticationReason = "no_session" | "prompt_login" | "max_age" | "force_reauthentication" | "acr" | "id_token_hint";

export interface AuthorizeContext {
  request: AuthorizationRequest;
  client: OidcClient;
  /** The community's issuer (communityIssuer): the response's `iss`. */
  issuer: string;
  /** Scope names whose IdP definition has consent_required. */
  consentRequired: ReadonlySet<string>;
}

/** The client's redirect with an error (RFC 6749 §4.1.2.1, with `iss`, RFC 9207). */
export function errorRedirect(ctx: Pick<AuthorizeContext, "request" | "issuer">, error: string, description?: string): string {
  return authorizationResponseUrl(ctx.request.redirectUri, { error, error_description: description, state: ctx.request.state, iss: ctx.issuer });
}

/**
 * Why the user must authenticate again, or null when the SSO session will do
 * (OIDC Core §3.1.2.1: `prompt=login`, `max_age`, `acr_values`; the service provider's
 * forceReauthentication). `select_account` has no account chooser here: it shows the login.
 */
export function reauthenticationReason(request: AuthorizationRequest, client: OidcClient, session: SsoSession | null, nowMs: number): ReauthenticationReason | null {
  if (!session) return "no_session";
  if (request.prompt.includes("login") || request.prompt.includes("select_account")) return "prompt_login";
  if (client.forceReauthentication) return "force_reauthentication";
  if (request.maxAge !== undefined && nowMs / 1000 - session.authTime > request.maxAge) return "max_age";
  // acr_values are voluntary (§5.5.1.1), but a session without the second factor does not
  // satisfy a request that names the multi-factor class: authenticate again.
  if (request.acrValues.includes(ACR_MFA) && session.acr !== ACR_MFA) return "acr";
  return null;
}

/**
 * The whole decision for a request with the browser's current session (null: none). With
 * `prompt=none` nothing may be shown, so a needed page becomes `login_required` or
 * `consent_required` sent back to the client (§3.1.2.6).
 */
export async function authorize(svc: Services, scope: Scope, ctx: AuthorizeContext, current: { session: SsoSession; user: User } | null, nowMs = Date.now()): Promise<AuthorizeOutcome> {
  // RFC 6749 §4.1.2.1: a client not registered for the code grant may not use this endpoint.
  if (!ctx.client.grantTypes.includes("authorization_code")) {
    return { kind: "error", error: "unauthorized_client", redirectUrl: errorRedirect(ctx, "unauthorized_client", "the client may not use the authorization code grant") };
  }
  let reason = reauthenticationReason(ctx.request, ctx.client, current?.session ?? null, nowMs);
  // §3.1.2.1 id_token_hint: when it names another user than the session's, the session does not
  // answer for the request (with prompt=none: login_required). A hint we did not sign is ignored.
  if (!reason && current && ctx.request.idTokenHint) {
    const hint = await verifyIdTokenHint(svc, ctx.issuer, ctx.request.idTokenHint);
    if (hint && hint.sub !== current.user.uid) reason = "id_token_hint";
  }
  if (reason || !current) {
    if (ctx.request.prompt.includes("none")) return { kind: "error", error: "login_required", redirectUrl: errorRedirect(ctx, "login_required", "the user is not signed in") };
    return { kind: "login", reason: reason ?? "no_session" };
  }
  return completeAuthorization(svc, scope, ctx, current.user, current.session);
}

/**
 * Completes an authorization for an authenticated user: asks for consent when a requested
 * scope needs it and no receipt covers it (`prompt=consent` asks again), else issues the code.
 * `consentGiven`: the user has just granted the scopes on the consent page (the receipt is
 * recorded by the caller through core/consents `recordConsent`).
 */
export async function completeAuthorization(
  svc: Services,
  scope: Scope,
  ctx: AuthorizeContext,
  user: User,
  session: SsoSession,
  opts: { consentGiven?: boolean } = {},
): Promise<AuthorizeOutcome> {
  if (!opts.consentGiven) {
    const needing = ctx.request.prompt.includes("consent")
      ? ctx.request.scopes.filter((s) => ctx.consentRequired.has(s))
      : await scopesNeedingConsent(svc, scope, { user, client: ctx.client, scopes: ctx.request.scopes }, ctx.consentRequired);
    if (needing.length) {
      if (ctx.request.prompt.includes("none")) return { kind: "error", error: "consent_required", redirectUrl: errorRedirect(ctx, "consent_required", "the user has not consented to the requested scopes") };
      return { kind: "consent", scopes: needing };
    }
  }
  const r = ctx.request;
  const code = await issueAuthorizationCode(svc, {
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    clientId: ctx.client.clientId,
    redirectUri: r.redirectUri,
    uid: user.uid,
    scopes: r.scopes,
    ...(r.nonce !== undefined ? { nonce: r.nonce } : {}),
    ...(r.codeChallenge !== undefined ? { codeChallenge: r.codeChallenge } : {}),
    authTime: session.authTime,
    amr: session.amr,
    acr: session.acr,
    ssoSessionId: session.sid,
  });
  return { kind: "code", code, redirectUrl: authorizationResponseUrl(r.redirectUri, { code, state: r.state, iss: ctx.issuer }) };
}
