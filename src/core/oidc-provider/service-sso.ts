import { parseAuthorizationRequest } from "../../protocols/oidc/authorization-request";
import type { Scope, Services } from "../context";
import { recordConsent } from "../consents/consents";
import { AuthError } from "../errors";
import { consentRequiredScopes } from "../idps";
import { scopeDefinitions, supportedScopeNames } from "./scopes";
import { completeAuthorization } from "./authorize";
import { findOidcClient } from "./clients";
import { startSsoSession } from "./sso-session";

/**
 * Authn `POST .../oidc/sso` (seed 004, Authenticate): a trusted service (system or service
 * license) that authenticated the user itself completes an OIDC authorization request for
 * them. The request goes through the same parser and the same decision as the hosted login's
 * authorize endpoint (protocols/oidc/authorization-request.ts, authorize.ts
 * `completeAuthorization`): client, exact redirect URI, PKCE, scopes, consent. Only the
 * re-authentication checks (`prompt=login`, `max_age`) are satisfied by construction: the
 * service vouches for an authentication that happens now, in a new SSO session whose `sid` is
 * answered (the ID token's `sid`, which end_session accepts in an `id_token_hint`).
 */

/** Largest authorization request accepted (a browser's URL limit is about this). */
const MAX_REQUEST_CHARS = 8192;

export interface ServiceSsoInput {
  /** The authorization request: its query string (with or without `?`, or a whole URL), or its parameters as an object. */
  request: string | Record<string, unknown>;
  /** The user the service authenticated (its uid in this community). */
  uid: string;
  /** Assurance level the service reached (`userSession.aal`): 2 or more means two factors. */
  aal?: string | number;
  /** Scope names the user has just granted on the service's own consent screen (extension). */
  consentGranted?: string[];
  /** The service's request id (the envelope's), kept in a consent receipt. */
  requestId: string;
}

export type ServiceSsoOutcome =
  | { kind: "code"; sid: string; code: string; redirectUrl: string }
  /** The document's 420: these scopes need the user's consent first. */
  | { kind: "consent"; scopes: { name: string; display_name: string }[] };

/** The request's parameters; every value a single string (a repeated parameter stays repeated so the parser refuses it). */
export function requestParams(request: string | Record<string, unknown>): URLSearchParams {
  if (typeof request === "string") {
    const s = request.trim();
    if (s.length > MAX_REQUEST_CHARS) throw new AuthError("invalid_request", "OIDCPayload.OIDCRequest: too long");
    const q = s.includes("?") ? s.slice(s.indexOf("?") + 1) : s;
    return new URLSearchParams(q.split("#")[0]);
  }
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(request)) {
    if (typeof v === "string") out.append(k, v);
    else if (typeof v === "number" || typeof v === "boolean") out.append(k, String(v));
    else throw new AuthError("invalid_request", `OIDCPayload.OIDCRequest.${k}: must be a string`);
  }
  if (out.toString().length > MAX_REQUEST_CHARS) throw new AuthError("invalid_request", "OIDCPayload.OIDCRequest: too long");
  return out;
}

/** RFC 8176 methods for what the service says it did: two factors are `mfa`. */
function methodsOf(aal: string | number | undefined): string[] {
  const level = typeof aal === "number" ? aal : Number(String(aal ?? "").replace(/^aal/i, ""));
  return Number.isFinite(level) && level >= 2 ? ["mfa"] : ["pwd"];
}

export async function completeServiceSso(svc: Services, scope: Scope, issuer: string, input: ServiceSsoInput): Promise<ServiceSsoOutcome> {
  const params = requestParams(input.request);
  const clientIds = params.getAll("client_id");
  const [client, defs] = await Promise.all([
    clientIds.length === 1 ? findOidcClient(svc, scope, clientIds[0]!) : Promise.resolve(null),
    scopeDefinitions(svc, scope),
  ]);
  const parsed = parseAuthorizationRequest(params, client, new Set(supportedScopeNames(defs)));
  // A trusted service gets every refusal as an answer, never a redirect: it decides what its
  // user sees. `error` is the OAuth code the authorize endpoint would have sent.
  if (!parsed.ok) throw new AuthError("invalid_request", `${parsed.error}: ${parsed.description}`);
  const user = await svc.users.byUid(scope.tenant.id, input.uid);
  if (!user || user.communityId !== scope.community.id || user.disabled) throw new AuthError("not_found", "user not found in this community");

  const ctx = { request: parsed.request, client: client!, issuer, consentRequired: consentRequiredScopes(defs) };
  const { session } = await startSsoSession(svc, scope, user, { authTime: Math.floor(Date.now() / 1000), amr: methodsOf(input.aal) });
  let outcome = await completeAuthorization(svc, scope, ctx, user, session);
  if (outcome.kind === "consent" || (outcome.kind === "error" && outcome.error === "consent_required")) {
    const needed = outcome.kind === "consent" ? outcome.scopes : parsed.request.scopes.filter((s) => ctx.consentRequired.has(s));
    const granted = new Set(input.consentGranted ?? []);
    if (!needed.every((s) => granted.has(s))) {
      return { kind: "consent", scopes: needed.map((name) => ({ name, display_name: defs.find((d) => d.name === name)?.display_name ?? name })) };
    }
    await recordConsent(svc, scope, { user, client: client!, scopes: needed, collectionMethod: "oidc_sso", requestId: input.requestId, userAgent: scope.userAgent, ip: scope.ip });
    outcome = await completeAuthorization(svc, scope, ctx, user, session, { consentGiven: true });
  }
  if (outcome.kind !== "code") throw new AuthError("invalid_request", "the authorization request cannot be completed for this user");
  return { kind: "code", sid: session.sid, code: outcome.code, redirectUrl: outcome.redirectUrl };
}
