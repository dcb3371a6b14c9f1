/** @jsxImportSource hono/jsx */
import { Hono } from "hono";
import { isAuthError } from "../core/errors";
import { endSsoSession, readSsoSession } from "../core/oidc-provider/sso-session";
import { samlSigningCredential } from "../core/saml-idp/credential";
import { findRelyingParty, replyTarget } from "../core/wsfed/relying-party";
import { checkSignIn, wsfedSignIn } from "../core/wsfed/sign-in";
import { requestAddress } from "../http/request-address";
import type { AppEnv } from "../http/types";
import { parseSignOutRequest, WA_SIGNIN } from "../protocols/wsfed/passive-request";
import type { User } from "../storage/ports";
import type { SsoSession } from "../core/oidc-provider/sso-session";
import { SSO_COOKIE, clearCookie, readCookie } from "./cookies";
import { beginLogin, expiredPage, handler, messagePage, redirectTo, registerContinuation, type WebContext } from "./flow";
import { finishTransaction, type WsfedContinuation } from "../core/oidc-provider/login-transaction";
import { autoPostPage } from "./saml/autopost";
import { frontSp } from "./saml/sp";
import type { Provider } from "./provider";
import { gateSession } from "./policy-gate";

/**
 * The WS-Federation passive requestor endpoint of a community (WS-Federation 1.2 §13):
 * `GET /wsfed/<communityId>?wa=...`.
 *
 * - `wa=wsignin1.0`: the relying party is found by `wtrealm` and its reply address checked
 *   (core/wsfed) BEFORE anything else, so an unregistered `wreply` is a page here, never a
 *   redirect. A user with a live SSO session of the hosted login (and fresh enough for
 *   `wfresh`, in minutes; 0 = sign in again) gets a form posting `wa`, `wresult` and `wctx` to
 *   the registered reply address; otherwise the hosted login first.
 * - `wa=wsignout1.0` (and `wsignoutcleanup1.0`): ends the browser's SSO session, then goes to
 *   `wreply` when it is the registered reply address of the realm named by `wtrealm`, else
 *   shows "Signed out". §13.2.4 makes sign-out a plain GET from the relying party; like every
 *   WS-Fed IdP, another site can therefore sign the user out (never in).
 */
export const wsfedEndpoint = new Hono<AppEnv>();

/** Freshness (§13.2.1 wfresh, minutes) of an SSO session's authentication. */
function freshEnough(session: SsoSession, wfresh: number | undefined): boolean {
  if (wfresh === undefined) return true;
  return Date.now() - session.authTime * 1000 < wfresh * 60_000;
}

/** Answers the sign-in for a signed-in user: the token posted to the checked reply address. */
export async function answerSignIn(c: WebContext, p: Provider, params: URLSearchParams | Record<string, unknown>, signed: { user: User; session: SsoSession }): Promise<Response> {
  const svc = c.get("services");
  const out = await wsfedSignIn(svc, p.scope, { request: params, user: signed.user, session: { authTime: signed.session.authTime, amr: signed.session.amr, sid: signed.session.sid } }, () =>
    samlSigningCredential(svc, p.scope, requestAddress(c)),
  );
  // §13.2.3: an HTTP POST of wa, wresult and wctx to the checked reply address, submitted by
  // the hosted login's one nonce'd script (with a Continue button for browsers without it).
  return autoPostPage(c, p.scope, { action: out.sp.assertionConsumerServiceURL, fields: { wa: WA_SIGNIN, wresult: out.wresult, wctx: out.wctx } });
}

const refused = (c: WebContext, p: Provider, e: unknown): Promise<Response> | null => {
  if (!isAuthError(e)) return null;
  if (e.code === "invalid_request") return messagePage(c, p.scope, 400, "Invalid sign-in request", "The application sent a sign-in request this service cannot answer.");
  if (e.code === "not_found") return messagePage(c, p.scope, 400, "Unknown application", "The application is not registered for sign-in here.");
  return null;
};

async function signIn(c: WebContext, p: Provider, params: URLSearchParams): Promise<Response> {
  const svc = c.get("services");
  let checked: Awaited<ReturnType<typeof checkSignIn>>;
  try {
    checked = await checkSignIn(svc, p.scope, params);
  } catch (e) {
    const r = refused(c, p, e);
    if (r) return r;
    throw e;
  }
  const current = await readSsoSession(svc, p.scope, readCookie(c, SSO_COOKIE));
  if (current && freshEnough(current.session, checked.request.wfresh)) {
    // The session answers for this realm only if the authentication policy allows it.
    const gate = await gateSession(c, p, current, checked.rp.realm);
    if (gate === "login") return loginFirst(c, p, { spId: checked.rp.id, wreply: checked.reply, ...(checked.request.wctx ? { wctx: checked.request.wctx } : {}) });
    if (gate !== "reuse") return gate.refused;
    try {
      return await answerSignIn(c, p, params, current);
    } catch (e) {
      const r = refused(c, p, e);
      if (r) return r;
      throw e;
    }
  }
  return loginFirst(c, p, { spId: checked.rp.id, wreply: checked.reply, ...(checked.request.wctx ? { wctx: checked.request.wctx } : {}) });
}

/**
 * No usable session: the hosted login first, carrying the checked relying party and reply
 * address as the transaction's continuation (nothing is re-read from the browser after it).
 */
function loginFirst(c: WebContext, p: Provider, continuation: { spId: string; wreply: string; wctx?: string }): Promise<Response> {
  return beginLogin(c, p, { kind: "wsfed", ...continuation });
}

/** The relying party a continuation names, if it is still a WS-Fed relying party of this community. */
async function continuationRp(c: WebContext, p: Provider, cont: WsfedContinuation) {
  const sp = await frontSp(c.get("services"), p.scope, cont.spId);
  return sp && sp.acsUrl ? sp : null;
}

registerContinuation("wsfed", {
  async describe(c, p, cont) {
    const sp = await continuationRp(c, p, cont);
    return sp ? { appName: sp.name, formTargets: [cont.wreply], application: sp.entityId } : null;
  },
  async complete(c, p, t, s) {
    const cont = t.tx.continuation;
    const sp = await continuationRp(c, p, cont);
    if (!sp || !(await finishTransaction(c.get("services"), t.id, t.tx))) return expiredPage(c, p.scope);
    // The request is rebuilt from what was checked before the login; core checks it again
    // (the relying party may have changed while the user signed in).
    const request: Record<string, string> = { wa: WA_SIGNIN, wtrealm: sp.entityId, wreply: cont.wreply, ...(cont.wctx !== undefined ? { wctx: cont.wctx } : {}) };
    try {
      return await answerSignIn(c, p, request, s);
    } catch (e) {
      const r = refused(c, p, e);
      if (r) return r;
      throw e;
    }
  },
});

async function signOut(c: WebContext, p: Provider, params: URLSearchParams): Promise<Response> {
  const svc = c.get("services");
  const parsed = parseSignOutRequest(params);
  if (!parsed.ok) return messagePage(c, p.scope, 400, "Invalid sign-out request", "The application sent a sign-out request this service cannot answer.");
  const cookie = readCookie(c, SSO_COOKIE);
  const current = await readSsoSession(svc, p.scope, cookie);
  if (current) await endSsoSession(svc, p.scope, { sid: current.session.sid, uid: current.user.uid, expiresAt: current.session.expiresAt }, cookie);
  if (cookie) clearCookie(c, SSO_COOKIE);
  // Follow wreply only to the registered reply address of the realm it names (never open).
  const { wtrealm, wreply } = parsed.request;
  if (wtrealm && wreply) {
    try {
      return redirectTo(c, replyTarget(await findRelyingParty(svc, p.scope, wtrealm), wreply));
    } catch (e) {
      if (!isAuthError(e)) throw e;
    }
  }
  return messagePage(c, p.scope, 200, "Signed out", "You have been signed out. You can close this window.");
}

wsfedEndpoint.get(
  "/:communityId",
  handler(async (c, p) => {
    const params = new URL(c.req.url).searchParams;
    for (const k of new Set(params.keys())) {
      if (params.getAll(k).length > 1 || params.get(k)!.length > 8192) return messagePage(c, p.scope, 400, "Invalid request", `The parameter ${k} is invalid.`);
    }
    const wa = params.get("wa");
    if (wa === WA_SIGNIN) return signIn(c, p, params);
    if (wa === "wsignout1.0" || wa === "wsignoutcleanup1.0") return signOut(c, p, params);
    return messagePage(c, p.scope, 400, "Invalid request", "The request names no WS-Federation action this service answers (wa).");
  }),
);
