import { finishTransaction, type SamlContinuation, type SamlIdpInitContinuation } from "../../core/oidc-provider/login-transaction";
import { readSsoSession } from "../../core/oidc-provider/sso-session";
import { isAuthError } from "../../core/errors";
import { SSO_COOKIE, readCookie } from "../cookies";
import { beginLogin, expiredPage, handler, messagePage, registerContinuation, type SignedInUser, type WebContext } from "../flow";
import type { Provider } from "../provider";
import { autoPostPage } from "./autopost";
import { badSamlRequest, rawQuery, relayStateOf, samlParams, samlUrl, single } from "./front";
import { checkSsoRequest, samlErrorResponse, samlResponse } from "./idp-seam";
import { frontSp } from "./sp";
import { gateSession } from "../policy-gate";

/**
 * `/saml/:communityId/sso` (SAML Profiles §4.1, Web Browser SSO: HTTP-Redirect by GET,
 * HTTP-POST by POST) and `/saml/:communityId/idp-init/:spId` (an IdP-initiated link: an
 * unsolicited Response, §4.1.5). The request's checks and the Response are core's (idp-seam.ts);
 * this decides between "signed in already" (the auto-post page now), "must sign in" (the
 * hosted login, carrying the request as the transaction's continuation) and IsPassive.
 *
 * Errors before the SP and its ACS URL are known good are pages, never posts (the same rule
 * as OIDC's shown errors: otherwise an open redirector).
 */
const NO_PASSIVE = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";

async function postResponse(c: WebContext, p: Provider, cont: SamlContinuation | SamlIdpInitContinuation, s: SignedInUser): Promise<Response> {
  let r;
  try {
    r = await samlResponse(c.get("services"), p.scope, cont, s, [samlUrl(p, "sso")]);
  } catch (e) {
    // Core refused the request at the last check (a replayed ID, a bad signature, an SP gone):
    // a page, never a post.
    if (isAuthError(e) && (e.code === "invalid_request" || e.code === "not_found")) return badSamlRequest(c, p.scope, "This sign-in request could not be accepted.");
    throw e;
  }
  return autoPostPage(c, p.scope, { action: r.acsUrl, fields: { SAMLResponse: r.SAMLResponse, ...(r.relayState !== undefined ? { RelayState: r.relayState } : {}) } });
}

export const ssoRoute = handler(async (c, p) => {
  const params = await samlParams(c);
  if (!params) return messagePage(c, p.scope, 415, "Invalid sign-in request", "The request must be sent as a URL-encoded form.");
  const samlRequest = single(params, "SAMLRequest", 32 * 1024);
  const relayState = relayStateOf(single(params, "RelayState", 1024));
  if (!samlRequest) return badSamlRequest(c, p.scope, "The sign-in request carries no single SAMLRequest.");
  if (relayState === null) return badSamlRequest(c, p.scope, "RelayState is repeated or longer than 80 bytes.");
  const svc = c.get("services");
  let checked;
  try {
    checked = await checkSsoRequest(svc, p.scope, {
      binding: c.req.method === "POST" ? "post" : "redirect",
      SAMLRequest: samlRequest,
      RelayState: relayState,
      ...(c.req.method === "POST" ? {} : { rawQuery: rawQuery(c) }),
    });
  } catch (e) {
    if (isAuthError(e) && e.code !== "not_configured" && e.code !== "internal") return badSamlRequest(c, p.scope, "This sign-in request could not be accepted.");
    throw e;
  }
  const cont = checked.continuation;
  let current = await readSsoSession(svc, p.scope, readCookie(c, SSO_COOKIE));
  // The session answers for this SP only if the authentication policy allows it (policy-gate.ts).
  if (current && !cont.request.forceAuthn) {
    const gate = await gateSession(c, p, current, checked.entityId);
    if (gate === "reuse") return postResponse(c, p, cont, current);
    if (gate !== "login") return gate.refused;
    current = null;
  }
  // IsPassive (SAML Core §3.4.1): nothing may be shown; without a usable session, NoPassive.
  if (cont.request.isPassive) {
    const r = await samlErrorResponse(svc, p.scope, cont, NO_PASSIVE);
    return autoPostPage(c, p.scope, { action: r.acsUrl, fields: { SAMLResponse: r.SAMLResponse, ...(r.relayState !== undefined ? { RelayState: r.relayState } : {}) } });
  }
  return beginLogin(c, p, cont);
});

const unknownApp = (c: WebContext, p: Provider) => messagePage(c, p.scope, 404, "Unknown application", "There is no application to sign in to at this address.");

export const idpInitRoute = handler(async (c, p) => {
  const svc = c.get("services");
  const params = new URL(c.req.url).searchParams;
  const relayState = relayStateOf(single(params, "RelayState", 1024));
  if (relayState === null) return badSamlRequest(c, p.scope, "RelayState is repeated or longer than 80 bytes.");
  const sp = await frontSp(svc, p.scope, c.req.param("spId") ?? "");
  // Unknown, another community's, an OIDC client, or not opened to IdP-initiated sign-in: one answer.
  if (!sp || !sp.idpInitiated) return unknownApp(c, p);
  const cont: SamlIdpInitContinuation = { kind: "saml-idp-init", spId: sp.id, ...(relayState !== undefined ? { relayState } : {}) };
  const current = await readSsoSession(svc, p.scope, readCookie(c, SSO_COOKIE));
  if (current) {
    const gate = await gateSession(c, p, current, sp.entityId);
    if (gate === "reuse") return postResponse(c, p, cont, current);
    if (gate !== "login") return gate.refused;
  }
  return beginLogin(c, p, cont);
});

// Completion after the hosted login: claim the transaction (single use), then post.
registerContinuation("saml", {
  async describe(c, p, cont) {
    const sp = await frontSp(c.get("services"), p.scope, cont.spId);
    return sp ? { appName: sp.name, formTargets: [cont.request.acsUrl], application: sp.entityId } : null;
  },
  async complete(c, p, t, s) {
    if (!(await finishTransaction(c.get("services"), t.id, t.tx))) return expiredPage(c, p.scope);
    return postResponse(c, p, t.tx.continuation, s);
  },
});

registerContinuation("saml-idp-init", {
  async describe(c, p, cont) {
    const sp = await frontSp(c.get("services"), p.scope, cont.spId);
    return sp && sp.idpInitiated ? { appName: sp.name, formTargets: [sp.acsUrl], application: sp.entityId } : null;
  },
  async complete(c, p, t, s) {
    if (!(await finishTransaction(c.get("services"), t.id, t.tx))) return expiredPage(c, p.scope);
    return postResponse(c, p, t.tx.continuation, s);
  },
});
