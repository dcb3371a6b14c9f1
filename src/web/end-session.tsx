/** @jsxImportSource hono/jsx */
import { sha256Hex, timingSafeEqualString } from "../crypto/hash";
import { findOidcClient, type OidcClient } from "../core/oidc-provider/clients";
import { postLogoutRedirect, verifyIdTokenHint, type IdTokenHint } from "../core/oidc-provider/logout";
import { endSsoSession, readSsoSession } from "../core/oidc-provider/sso-session";
import { CSRF_COOKIE, SSO_COOKIE, clearCookie, readCookie } from "./cookies";
import { base, browserSecret, handler, messagePage, readForm, redirectTo } from "./flow";
import { LogoutConfirmPage } from "./pages/forms";
import { page } from "./render";

/**
 * GET and POST `/oidc/:communityId/end_session` (OpenID Connect RP-Initiated Logout 1.0).
 *
 * - A valid `id_token_hint` (signed by this issuer; expired accepted, §2) ends the session it
 *   names (`sid`), and the browser's own session when it is the same user's. A hint that is
 *   not ours is refused with a page: no logout, no redirect.
 * - Without a hint the user confirms on a page (§2: the OP SHOULD ask), whose form carries a
 *   CSRF token derived from the browser's `__Host-` CSRF cookie and the session: another site
 *   can make the browser reach this URL, but cannot log it out.
 * - `post_logout_redirect_uri` is followed only when registered for the client, exactly (§3);
 *   otherwise the "Signed out" page is shown. `client_id` must be an audience of the hint.
 */
const logoutToken = (browser: string, sid: string) => sha256Hex(`logout\u0000${browser}\u0000${sid}`);

export const endSessionRoute = handler(async (c, p) => {
  const svc = c.get("services");
  let params: URLSearchParams;
  if (c.req.method === "POST") {
    const form = await readForm(c);
    if (!form) return messagePage(c, p.scope, 415, "Invalid sign-out request", "The request must be sent as a URL-encoded form.");
    params = form;
  } else {
    params = new URL(c.req.url).searchParams;
  }
  for (const k of new Set(params.keys())) {
    if (params.getAll(k).length > 1 || params.get(k)!.length > 8192) return messagePage(c, p.scope, 400, "Invalid sign-out request", `The parameter ${k} is invalid.`);
  }
  const rawHint = params.get("id_token_hint");
  let hint: IdTokenHint | null = null;
  if (rawHint) {
    hint = await verifyIdTokenHint(svc, p.issuer, rawHint);
    if (!hint) return messagePage(c, p.scope, 400, "Invalid sign-out request", "The sign-out request names a token this service did not issue.");
  }
  const clientId = params.get("client_id") ?? (hint?.aud.length === 1 ? hint.aud[0]! : null);
  if (clientId && hint && !hint.aud.includes(clientId)) return messagePage(c, p.scope, 400, "Invalid sign-out request", "The application does not match the token.");
  const client: OidcClient | null = clientId ? await findOidcClient(svc, p.scope, clientId) : null;
  const redirect = postLogoutRedirect(client, params.get("post_logout_redirect_uri"), params.get("state"));

  const cookie = readCookie(c, SSO_COOKIE);
  const current = await readSsoSession(svc, p.scope, cookie);
  if (hint) {
    if (hint.sid) await endSsoSession(svc, p.scope, { sid: hint.sid, uid: hint.sub });
    if (current && current.user.uid === hint.sub) await endSsoSession(svc, p.scope, { sid: current.session.sid, uid: current.user.uid, expiresAt: current.session.expiresAt }, cookie);
    if (current && current.user.uid === hint.sub) clearCookie(c, SSO_COOKIE);
  } else if (current) {
    const expected = await logoutToken(browserSecret(c), current.session.sid);
    const given = params.get("csrf");
    const confirmed = c.req.method === "POST" && params.get("confirm") === "yes" && typeof given === "string" && readCookie(c, CSRF_COOKIE) !== undefined && (await timingSafeEqualString(given, expected));
    if (!confirmed) {
      if (c.req.method === "POST" && params.has("csrf")) return messagePage(c, p.scope, 403, "Request refused", "This form could not be verified. Try signing out again.");
      const fields: Record<string, string> = {};
      for (const k of ["client_id", "post_logout_redirect_uri", "state"]) if (params.get(k) !== null) fields[k] = params.get(k)!;
      return page(c, p.scope, { title: "Sign out", formTargets: [redirect] }, <LogoutConfirmPage base={base(p.scope)} csrf={expected} fields={fields} />);
    }
    await endSsoSession(svc, p.scope, { sid: current.session.sid, uid: current.user.uid, expiresAt: current.session.expiresAt }, cookie);
    clearCookie(c, SSO_COOKIE);
  } else if (cookie) {
    clearCookie(c, SSO_COOKIE);
  }
  if (redirect) return redirectTo(c, redirect);
  return messagePage(c, p.scope, 200, "Signed out", "You have been signed out. You can close this window.");
});
