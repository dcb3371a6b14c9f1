import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { endSsoSession, readSsoSession, startSsoSession } from "../core/oidc-provider/sso-session";
import { isAuthError } from "../core/errors";
import { consumeSamlResponse, externalIdpForResponse, parseAcsResponse } from "../core/saml-sp/acs";
import { communitySpEndpoints } from "../core/saml-sp/seams";
import { publicOrigin } from "../core/tenants/public-origin";
import { requestAddress } from "../http/request-address";
import type { AppEnv } from "../http/types";
import { readCookie, SSO_COOKIE, writeCookie } from "./cookies";
import { handler, messagePage, redirectTo, type WebContext } from "./flow";
import type { Provider } from "./provider";

/**
 * The community's SAML SP Assertion Consumer Service: POST /saml/<communityId>/sp/acs
 * (HTTP-POST binding, Bindings §3.5). The browser brings the external IdP's Response; a
 * verified one (core/saml-sp/acs.ts) signs the user in on the hosted login, an SSO session
 * like a password login's, so the apps' OIDC flows on /oidc/<communityId> find it.
 *
 * Where the browser goes next: the RelayState, when it is a relative path into this
 * community's hosted login (`/oidc/<communityId>/...`, no `//`, no backslash: never an open
 * redirect); otherwise a "signed in" page. Only responses to a request we sent
 * (samlRequest/generate) are accepted here: no IdP-initiated login at this ACS.
 */
export const samlSp = new Hono<AppEnv>();

/**
 * A POSTed SAMLResponse is base64 of up to MAX_XML_CHARS of XML (signed responses with
 * certificates run to tens of KiB), far past the hosted login's 16 KiB forms.
 */
const MAX_ACS_FORM_BYTES = 512 * 1024;
const limitAcsForm = bodyLimit({ maxSize: MAX_ACS_FORM_BYTES, onError: (c) => messagePage(c as WebContext, null, 413, "Request too large", "The form sent was too large.") });

async function readAcsForm(c: WebContext): Promise<URLSearchParams | null> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return null;
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > MAX_ACS_FORM_BYTES) return null;
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

const acsRoute = handler(async (c: WebContext, p: Provider) => {
  const svc = c.get("services");
  const form = await readAcsForm(c);
  if (!form) return messagePage(c, p.scope, 415, "Unsupported request", "The identity provider's answer must be a form post.");
  const origin = await publicOrigin(svc, p.scope.tenant.id, requestAddress(c));
  if (!origin) return messagePage(c, null, 404, "Sign-in is not available", "This sign-in service is not configured.");
  const { acsUrl } = communitySpEndpoints(origin, p.scope.community.id);
  const SAMLResponse = form.get("SAMLResponse");
  const RelayState = form.get("RelayState");
  let login;
  try {
    // Parsed once: its Issuer picks the IdP, and the same document is then verified and read.
    const parsed = parseAcsResponse(SAMLResponse);
    const idp = await externalIdpForResponse(svc, p.scope, SAMLResponse, parsed);
    login = await consumeSamlResponse(svc, p.scope, idp, { SAMLResponse, RelayState, parsed }, { acsUrl });
  } catch (e) {
    if (isAuthError(e) && (e.code === "invalid_token" || e.code === "not_configured")) {
      return messagePage(c, p.scope, 400, "Sign-in failed", "The identity provider's answer was not accepted. Please start again.");
    }
    throw e;
  }
  // One browser, one session: a previous session of this browser ends (as web/flow signedIn does).
  const oldCookie = readCookie(c, SSO_COOKIE);
  if (oldCookie) {
    const old = await readSsoSession(svc, p.scope, oldCookie);
    if (old) await endSsoSession(svc, p.scope, { sid: old.session.sid, uid: old.session.uid, expiresAt: old.session.expiresAt }, oldCookie);
  }
  const started = await startSsoSession(svc, p.scope, login.user, { authTime: Math.floor(login.identity.authnInstant / 1000), amr: ["saml"] });
  writeCookie(c, SSO_COOKIE, started.cookie, started.maxAgeSeconds);
  const next = hostedLoginPath(login.relayState, p.scope.community.id);
  if (next) return redirectTo(c, next);
  return messagePage(c, p.scope, 200, "Signed in", "You are signed in. You can close this window or return to the application.");
});

/** A RelayState that is a path into this community's hosted login, else null. */
export function hostedLoginPath(relayState: string | null, communityId: string): string | null {
  if (!relayState) return null;
  const prefix = `/oidc/${encodeURIComponent(communityId)}/`;
  if (!relayState.startsWith(prefix) || /[\\\s]|\/\/|%2f|%5c/i.test(relayState) || relayState.includes("..")) return null;
  return relayState;
}

samlSp.post("/:communityId/sp/acs", limitAcsForm, acsRoute);
