import { endSsoSession, readSsoSession } from "../../core/oidc-provider/sso-session";
import { samlSigningCredential } from "../../core/saml-idp/credential";
import { fromBase64, fromUtf8, toBase64 } from "../../crypto/encoding";
import { requestAddress } from "../../http/request-address";
import { buildLogoutResponse, parseLogoutRequest, parseLogoutResponse, STATUS, verifyLogoutSignature } from "../../protocols/saml/logout";
import { XmlRejected } from "../../protocols/saml/xml";
import { SignatureRejected } from "../../protocols/saml/xmldsig";
import { SSO_COOKIE, clearCookie, readCookie } from "../cookies";
import { handler, messagePage, redirectTo, type WebContext } from "../flow";
import type { Provider } from "../provider";
import { autoPostPage } from "./autopost";
import { badSamlRequest, rawQuery, relayStateOf, samlParams, samlUrl, single } from "./front";
import { decodeRedirectMessage, redirectQuery, verifyRedirectQuery } from "./idp-seam";
import { frontSp, spKeys, spSingleLogout } from "./sp";

/**
 * `/saml/:communityId/slo` (SAML Profiles §4.4, Single Logout; HTTP-Redirect by GET,
 * HTTP-POST by POST).
 *
 * A LogoutRequest from a registered SP (found by its Issuer in this community; its signature
 * checked with the SP's pinned certificate when `logoutRequestSignRequired`, and whenever one
 * is present) ends the SSO sessions it names by SessionIndex (= the session's `sid`, what our
 * assertions carry) and the browser's own session when its cookie came along (a cross-site POST
 * carries no SameSite=Lax cookie, hence the SessionIndex). The answer is a LogoutResponse to
 * the SP's SingleLogoutService from its metadata (sp.ts `spSingleLogout`), signed when
 * `logoutResponseSignRequired`; an SP without one gets the "Signed out" page.
 *
 * A LogoutResponse (to an IdP-initiated logout) changes nothing here: it is read and the page
 * says signed out. We do not send IdP-initiated LogoutRequests to SPs yet (docs/api/saml.md).
 */
const signedOut = (c: WebContext, p: Provider) => messagePage(c, p.scope, 200, "Signed out", "You have been signed out. You can close this window.");

function decodePost(b64: string): string {
  const bytes = fromBase64(b64.replace(/\s/g, ""));
  if (bytes.byteLength > 64 * 1024) throw new XmlRejected("the message is too large");
  return fromUtf8(bytes);
}

export const sloRoute = handler(async (c, p) => {
  const params = await samlParams(c);
  if (!params) return messagePage(c, p.scope, 415, "Invalid sign-out request", "The request must be sent as a URL-encoded form.");
  const request = single(params, "SAMLRequest", 32 * 1024);
  const response = single(params, "SAMLResponse", 32 * 1024);
  const relayState = relayStateOf(single(params, "RelayState", 1024));
  if (request === null || response === null || relayState === null || (request === undefined) === (response === undefined)) {
    return badSamlRequest(c, p.scope, "The sign-out request must carry one SAMLRequest or one SAMLResponse, and a RelayState of at most 80 bytes.");
  }
  const post = c.req.method === "POST";
  let xml: string;
  try {
    const value = (request ?? response)!;
    xml = post ? decodePost(value) : await decodeRedirectMessage(value);
  } catch (e) {
    if (e instanceof XmlRejected || (e instanceof Error && !("code" in e))) return badSamlRequest(c, p.scope, "The sign-out message could not be read.");
    throw e;
  }
  if (response !== undefined) {
    try {
      parseLogoutResponse(xml);
    } catch {
      return badSamlRequest(c, p.scope, "The sign-out message could not be read.");
    }
    return signedOut(c, p);
  }

  const svc = c.get("services");
  let req;
  try {
    req = parseLogoutRequest(xml);
  } catch {
    return badSamlRequest(c, p.scope, "The sign-out message could not be read.");
  }
  const sp = await frontSp(svc, p.scope, req.issuer);
  if (!sp) return badSamlRequest(c, p.scope, "The sign-out request comes from an application this service does not know.");
  const sloUrl = samlUrl(p, "slo");
  // §3.2.2 / Bindings §3.4.5.2: a Destination, when present, must be this endpoint.
  if (req.destination !== null && req.destination !== sloUrl) return badSamlRequest(c, p.scope, "The sign-out request is addressed to another endpoint.");
  if (req.notOnOrAfter !== null && req.notOnOrAfter <= Date.now()) return badSamlRequest(c, p.scope, "The sign-out request has expired.");
  const signedQuery = !post && params.has("Signature");
  if (sp.logoutRequestSignRequired || req.signed || signedQuery) {
    try {
      const keys = await spKeys(sp);
      if (post) await verifyLogoutSignature(req, keys);
      else await verifyRedirectQuery(rawQuery(c), keys);
    } catch (e) {
      if (e instanceof SignatureRejected || e instanceof XmlRejected) return badSamlRequest(c, p.scope, "The sign-out request's signature could not be verified.");
      throw e;
    }
  }

  const cookie = readCookie(c, SSO_COOKIE);
  const current = await readSsoSession(svc, p.scope, cookie);
  for (const sid of req.sessionIndexes) {
    await endSsoSession(svc, p.scope, { sid, uid: current && current.session.sid === sid ? current.user.uid : "" });
  }
  if (current) {
    await endSsoSession(svc, p.scope, { sid: current.session.sid, uid: current.user.uid, expiresAt: current.session.expiresAt }, cookie);
  }
  if (cookie) clearCookie(c, SSO_COOKIE);

  const target = spSingleLogout(sp, "response");
  if (!target) return signedOut(c, p);
  const cred = await samlSigningCredential(svc, p.scope, requestAddress(c));
  const model = { issuer: cred.entityId, destination: target.url, inResponseTo: req.id, status: STATUS.success };
  if (target.binding === "post") {
    const signer = sp.logoutResponseSignRequired ? { key: cred.key, alg: cred.alg, certB64: cred.certB64 } : undefined;
    const out = await buildLogoutResponse(model, signer);
    const fields: Record<string, string> = { SAMLResponse: toBase64(new TextEncoder().encode(out)) };
    if (relayState !== undefined) fields.RelayState = relayState;
    return autoPostPage(c, p.scope, { action: target.url, fields, title: "Signing you out" });
  }
  const query = await redirectQuery(
    { SAMLResponse: await buildLogoutResponse(model), ...(relayState !== undefined ? { RelayState: relayState } : {}) },
    sp.logoutResponseSignRequired ? { key: cred.key, alg: cred.alg } : undefined,
  );
  return redirectTo(c, `${target.url}${target.url.includes("?") ? "&" : "?"}${query}`);
});
