import { authorize, errorRedirect } from "../core/oidc-provider/authorize";
import { findOidcClient } from "../core/oidc-provider/clients";
import { startTransaction } from "../core/oidc-provider/login-transaction";
import { readSsoSession } from "../core/oidc-provider/sso-session";
import { authorizationResponseUrl, parseAuthorizationRequest, type ShownError } from "../protocols/oidc/authorization-request";
import { SSO_COOKIE, readCookie } from "./cookies";
import { browserSecret, consentPage, handler, loginPage, messagePage, readForm, redirectTo } from "./flow";
import { gateSession } from "./policy-gate";
import { communityScopeDefinitions, consentRequiredScopes, scopeDisplayNames, supportedScopes } from "./provider";

/**
 * GET and POST `/oidc/:communityId/authorize` (OIDC Core §3.1.2). Errors before the client and
 * its redirect URI are known good are shown, never redirected (RFC 6749 §4.1.2.1: otherwise an
 * open redirector); later ones go back to the client with `state` and `iss` (RFC 9207). The
 * decision itself is core/oidc-provider/authorize.ts.
 *
 * A live SSO session answers for this client only if the authentication policy allows it
 * (policy-gate.ts, application = client_id): refused, the page says so (with prompt=none,
 * where nothing may be shown, `access_denied` goes back to the client, OIDC Core §3.1.2.6);
 * wanting the one-time code the session was made without, the login is asked again.
 */
const SHOWN_TITLES: Record<ShownError["error"], string> = {
  invalid_request: "Invalid sign-in request",
  invalid_client: "Unknown application",
  invalid_redirect_uri: "Invalid redirect address",
};

export const authorizeRoute = handler(async (c, p) => {
  const svc = c.get("services");
  let params: URLSearchParams;
  if (c.req.method === "POST") {
    const form = await readForm(c);
    if (!form) return messagePage(c, p.scope, 415, "Invalid sign-in request", "The request must be sent as a URL-encoded form.");
    params = form;
  } else {
    params = new URL(c.req.url).searchParams;
  }
  const clientIds = params.getAll("client_id");
  const [client, defs] = await Promise.all([
    clientIds.length === 1 ? findOidcClient(svc, p.scope, clientIds[0]!) : Promise.resolve(null),
    communityScopeDefinitions(svc, p.scope),
  ]);
  const parsed = parseAuthorizationRequest(params, client, supportedScopes(defs));
  if (!parsed.ok && !parsed.redirect) return messagePage(c, p.scope, 400, SHOWN_TITLES[parsed.error], parsed.description);
  if (!parsed.ok) {
    return redirectTo(c, authorizationResponseUrl(parsed.redirectUri, { error: parsed.error, error_description: parsed.description, state: parsed.state, iss: p.issuer }));
  }
  const request = parsed.request;
  const ctx = { request, client: client!, issuer: p.issuer, consentRequired: consentRequiredScopes(defs) };
  let current = await readSsoSession(svc, p.scope, readCookie(c, SSO_COOKIE));
  if (current) {
    const gate = await gateSession(c, p, current, request.clientId);
    if (gate === "login") current = null;
    else if (gate !== "reuse") {
      if (request.prompt.includes("none")) return redirectTo(c, errorRedirect(ctx, "access_denied", "the sign-in policy does not allow this sign-in"));
      return gate.refused;
    }
  }
  const outcome = await authorize(svc, p.scope, ctx, current);
  if (outcome.kind === "code" || outcome.kind === "error") return redirectTo(c, outcome.redirectUrl);

  // A consent in a live session: the transaction remembers whose and which session's it is.
  const consent = outcome.kind === "consent" ? { uid: current!.user.uid, sid: current!.session.sid, scopes: outcome.scopes } : undefined;
  const started = await startTransaction(svc, p.scope, { kind: "oidc", clientId: request.clientId, request }, browserSecret(c), consent);
  const oidc = { client: client!, ctx, names: (s: string[]) => scopeDisplayNames(defs, s) };
  const t = { ...started, view: { appName: client!.name, formTargets: [request.redirectUri], loginHint: request.loginHint, application: request.clientId }, oidc };
  return outcome.kind === "login" ? loginPage(c, p, t) : consentPage(c, p, t);
});
