/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Scope } from "../core/context";
import { AuthError, isAuthError } from "../core/errors";
import { recordAudit } from "../core/audit/audit";
import { recordConsent } from "../core/consents/consents";
import { completeAuthorization, errorRedirect, type AuthorizeContext, type AuthorizeOutcome } from "../core/oidc-provider/authorize";
import { findOidcClient, type OidcClient } from "../core/oidc-provider/clients";
import {
  checkTransaction,
  finishTransaction,
  newBrowserSecret,
  saveTransaction,
  startTransaction,
  type Continuation,
  type ContinuationKind,
  type LoginTransaction,
  type OidcContinuation,
} from "../core/oidc-provider/login-transaction";
import { endSsoSession, readSsoSession, startSsoSession, type SsoSession } from "../core/oidc-provider/sso-session";
import type { User } from "../storage/ports";
import type { AppEnv } from "../http/types";
import { CSRF_COOKIE, SSO_COOKIE, readCookie, writeCookie } from "./cookies";
import { ConsentPage, LoginPage, MessagePage, OtpPage, type FormContext } from "./pages/forms";
import { communityScopeDefinitions, consentRequiredScopes, providerFor, scopeDisplayNames, type Provider } from "./provider";
import { page } from "./render";

/**
 * The steps of the hosted login shared by its routes (src/web/index.ts): pages for each stage,
 * the transaction and CSRF check every POST starts with, and what happens once the user is
 * authenticated. Behaviour is core's (core/oidc-provider, core/auth, core/consents); this only
 * turns outcomes into pages and redirects.
 */

export type WebContext = Context<AppEnv>;

/** Largest form the hosted login reads (credentials and two ids are far smaller). */
export const MAX_FORM_BYTES = 16 * 1024;

export const base = (scope: Scope) => `/oidc/${encodeURIComponent(scope.community.id)}`;

export function messagePage(c: WebContext, scope: Scope | null, status: number, title: string, description: string, formTargets: (string | null)[] = []) {
  return page(c, scope, { status, title, formTargets }, <MessagePage title={title} description={description} />);
}

/** 413 as a page, before the body is read. */
export const limitForm = bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => messagePage(c as WebContext, null, 413, "Request too large", "The form sent was too large.") });

/** The form's fields, or null when the body is not a URL-encoded form (415). */
export async function readForm(c: WebContext): Promise<URLSearchParams | null> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return null;
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > MAX_FORM_BYTES) return null;
  return new URLSearchParams(new TextDecoder().decode(bytes));
}

/**
 * Runs a page handler for `/oidc/:communityId/...`: resolves the provider, and turns anything
 * thrown into an error page (an unknown community is a 404 page; nothing is a bare 5xx).
 */
export function handler(run: (c: WebContext, p: Provider) => Promise<Response>) {
  return async (c: WebContext): Promise<Response> => {
    let p: Provider | null = null;
    try {
      p = await providerFor(c, c.req.param("communityId") ?? "");
      return await run(c, p);
    } catch (e) {
      if (isAuthError(e) && e.code === "tenant_not_found") return messagePage(c, null, 404, "Unknown sign-in service", "There is no sign-in service at this address.");
      if (isAuthError(e) && e.code === "not_configured") return messagePage(c, null, 404, "Sign-in is not available", "This sign-in service is not configured.");
      console.error("hosted login error", e instanceof Error ? `${e.name}: ${e.message}` : e);
      return messagePage(c, p?.scope ?? null, 500, "Something went wrong", "The sign-in could not be completed. Please try again later.");
    }
  };
}

/** The browser's CSRF cookie, set now when it has none. */
export function browserSecret(c: WebContext): string {
  const have = readCookie(c, CSRF_COOKIE);
  if (have) return have;
  const fresh = newBrowserSecret();
  writeCookie(c, CSRF_COOKIE, fresh);
  return fresh;
}

/** What the pages of a transaction show and allow, whatever its continuation. */
export interface TransactionView {
  /** The application's name ("to continue to ..."). */
  appName: string;
  /** Where the pages' forms may lead (CSP form-action; render.tsx `pageCsp`). */
  formTargets: string[];
  /** A username to prefill. */
  loginHint?: string | undefined;
  /**
   * The application the login is for, as the authentication policy knows it (policy-gate.ts):
   * the OIDC client_id, the SAML SP's entityID, the WS-Fed realm.
   */
  application?: string | undefined;
}

/** The OIDC parts of a transaction (consent needs them). */
export interface OidcTransactionPart {
  client: OidcClient;
  ctx: AuthorizeContext;
  names: (scopes: string[]) => string[];
}

export interface Transaction {
  id: string;
  tx: LoginTransaction;
  view: TransactionView;
  /** Present exactly when the continuation is `oidc`. */
  oidc: OidcTransactionPart | null;
}

/** The user once signed in, in the session that `completeContinuation` answers for. */
export interface SignedInUser {
  user: User;
  session: SsoSession;
}

/**
 * A non-OIDC continuation's handler (SAML in web/saml/, WS-Fed in web/wsfed.tsx), registered
 * once at module load with `registerContinuation`. `describe` answers what the login pages
 * need (null: the service provider is gone, and the transaction shows as expired). `complete`
 * answers the browser once the user is signed in; it must first claim the transaction with
 * `finishTransaction` (single use: a replayed final POST gets `expiredPage`).
 */
export interface ContinuationHandler<C extends Continuation> {
  describe(c: WebContext, p: Provider, continuation: C): Promise<TransactionView | null>;
  complete(c: WebContext, p: Provider, t: Transaction & { tx: LoginTransaction & { continuation: C } }, signedIn: SignedInUser): Promise<Response>;
}

type Registry = { [K in Exclude<ContinuationKind, "oidc">]?: ContinuationHandler<Extract<Continuation, { kind: K }>> };
const registry: Registry = {};

export function registerContinuation<K extends Exclude<ContinuationKind, "oidc">>(kind: K, h: ContinuationHandler<Extract<Continuation, { kind: K }>>): void {
  (registry as Record<string, unknown>)[kind] = h;
}

function handlerOf<C extends Continuation>(continuation: C): ContinuationHandler<C> | null {
  if (continuation.kind === "oidc") return null;
  return (registry[continuation.kind] as ContinuationHandler<C> | undefined) ?? null;
}

export const expiredPage = (c: WebContext, scope: Scope) =>
  messagePage(c, scope, 400, "This sign-in has expired", "This sign-in page is no longer valid: it expired or was already used. Go back to the application and sign in again.");

/**
 * Every POST begins here: the form's transaction and CSRF token against the browser's cookie
 * (core/oidc-provider/login-transaction.ts). A failure answers a page and nothing else happens.
 */
export async function openTransaction(c: WebContext, p: Provider, form: URLSearchParams): Promise<Transaction | Response> {
  const one = (k: string) => (form.getAll(k).length === 1 ? form.get(k) : undefined);
  const id = one("tx");
  const check = await checkTransaction(c.get("services"), p.scope, id, one("csrf") ?? "", readCookie(c, CSRF_COOKIE));
  if (!check.ok && check.problem === "expired") return expiredPage(c, p.scope);
  if (!check.ok) return messagePage(c, p.scope, 403, "Request refused", "This form could not be verified. Go back to the application and sign in again.");
  return loadedTransaction(c, p, id!, check.tx);
}

/** A GET that shows a page of an existing transaction: only in the browser it was started in. */
export async function viewTransaction(c: WebContext, p: Provider, id: string | undefined): Promise<Transaction | Response> {
  const check = await checkTransaction(c.get("services"), p.scope, id, null, readCookie(c, CSRF_COOKIE));
  if (!check.ok) return expiredPage(c, p.scope);
  return loadedTransaction(c, p, id!, check.tx);
}

async function oidcPart(c: WebContext, p: Provider, continuation: OidcContinuation): Promise<OidcTransactionPart | null> {
  const svc = c.get("services");
  const [client, defs] = await Promise.all([findOidcClient(svc, p.scope, continuation.clientId), communityScopeDefinitions(svc, p.scope)]);
  if (!client) return null;
  return {
    client,
    ctx: { request: continuation.request, client, issuer: p.issuer, consentRequired: consentRequiredScopes(defs) },
    names: (scopes) => scopeDisplayNames(defs, scopes),
  };
}

const oidcView = (continuation: OidcContinuation, part: OidcTransactionPart): TransactionView => ({
  appName: part.client.name,
  formTargets: [continuation.request.redirectUri],
  loginHint: continuation.request.loginHint,
  application: continuation.clientId,
});

async function loadedTransaction(c: WebContext, p: Provider, id: string, tx: LoginTransaction): Promise<Transaction | Response> {
  const cont = tx.continuation;
  if (cont.kind === "oidc") {
    const part = await oidcPart(c, p, cont);
    if (!part) return expiredPage(c, p.scope);
    return { id, tx, view: oidcView(cont, part), oidc: part };
  }
  const h = handlerOf(cont);
  const view = h ? await h.describe(c, p, cont) : null;
  if (!view) return expiredPage(c, p.scope);
  return { id, tx, view, oidc: null };
}

/**
 * Starts the hosted login for a validated non-OIDC request (a SAML AuthnRequest, a WS-Fed
 * sign-in): a transaction bound to the browser's CSRF cookie, answered with the login page
 * itself (its forms post to `/oidc/<communityId>/login`, where the transaction continues).
 */
export async function beginLogin(c: WebContext, p: Provider, continuation: Exclude<Continuation, OidcContinuation>): Promise<Response> {
  const h = handlerOf(continuation);
  const view = h ? await h.describe(c, p, continuation) : null;
  if (!view) return messagePage(c, p.scope, 400, "Unknown application", "This sign-in request names an application this service does not know.");
  const started = await startTransaction(c.get("services"), p.scope, continuation, browserSecret(c));
  return loginPage(c, p, { ...started, view });
}

/** The transaction as one the OIDC path may use (consent, the code), or null. */
export function oidcTransaction(t: Transaction): (Transaction & { oidc: OidcTransactionPart; tx: LoginTransaction & { continuation: OidcContinuation } }) | null {
  return t.oidc && t.tx.continuation.kind === "oidc" ? (t as Transaction & { oidc: OidcTransactionPart; tx: LoginTransaction & { continuation: OidcContinuation } }) : null;
}

export const formContext = (scope: Scope, t: { id: string; tx: LoginTransaction }): FormContext => ({ base: base(scope), tx: t.id, csrf: t.tx.csrf });

export function loginPage(c: WebContext, p: Provider, t: { id: string; tx: LoginTransaction; view: TransactionView }, opts: { status?: number; error?: string; username?: string; passkeyRefused?: boolean } = {}) {
  const username = opts.username ?? t.view.loginHint;
  return page(
    c,
    p.scope,
    // The passkey script (web/passkeys.tsx) by nonce; it fetches its options from this origin.
    { status: opts.status ?? 200, title: "Sign in", formTargets: t.view.formTargets, script: true, connect: true },
    (nonce) => <LoginPage f={formContext(p.scope, t)} clientName={t.view.appName} username={username} error={opts.error} nonce={nonce} passkeyRefused={opts.passkeyRefused} />,
  );
}

export function otpPage(c: WebContext, p: Provider, t: { id: string; tx: LoginTransaction; view: TransactionView }, opts: { status?: number; error?: string } = {}) {
  return page(c, p.scope, { status: opts.status ?? 200, title: "One-time code", formTargets: t.view.formTargets }, <OtpPage f={formContext(p.scope, t)} error={opts.error} />);
}

export function consentPage(c: WebContext, p: Provider, t: Transaction & { oidc: OidcTransactionPart }) {
  return page(c, p.scope, { title: "Allow access", formTargets: t.view.formTargets }, <ConsentPage f={formContext(p.scope, t)} clientName={t.view.appName} scopes={t.oidc.names(t.tx.consentScopes ?? [])} />);
}

/** Sends the browser back to the client (303: a POST's answer is followed with GET, RFC 9110 §15.4.4). */
export function redirectTo(c: WebContext, url: string): Response {
  c.header("cache-control", "no-store");
  return c.redirect(url, 303);
}

/**
 * After the user authenticated in this transaction: a new SSO session (the browser's previous
 * one, if any, ends: one browser, one session), then the continuation.
 */
export async function signedIn(c: WebContext, p: Provider, t: Transaction, user: User, auth: { authTime: number; amr: string[] }): Promise<Response> {
  const svc = c.get("services");
  const oldCookie = readCookie(c, SSO_COOKIE);
  if (oldCookie) {
    const old = await readSsoSession(svc, p.scope, oldCookie);
    if (old) await endSsoSession(svc, p.scope, { sid: old.session.sid, uid: old.session.uid, expiresAt: old.session.expiresAt }, oldCookie);
  }
  const started = await startSsoSession(svc, p.scope, user, auth);
  writeCookie(c, SSO_COOKIE, started.cookie, started.maxAgeSeconds);
  return completeContinuation(c, p, t, { user, session: started.session });
}

/**
 * Answers the transaction's continuation for a signed-in user. OIDC: consent when needed, else
 * the redirect with the code. Other kinds: their registered handler.
 */
export async function completeContinuation(c: WebContext, p: Provider, t: Transaction, s: SignedInUser): Promise<Response> {
  const o = oidcTransaction(t);
  if (o) {
    const svc = c.get("services");
    const outcome = await completeAuthorization(svc, p.scope, o.oidc.ctx, s.user, s.session);
    if (outcome.kind === "consent") {
      const tx: LoginTransaction = { ...o.tx, stage: "consent", uid: s.user.uid, sid: s.session.sid, consentScopes: outcome.scopes };
      await saveTransaction(svc, t.id, tx);
      return consentPage(c, p, { ...o, tx });
    }
    return finish(c, p, t, outcome);
  }
  const h = handlerOf(t.tx.continuation);
  if (!h) throw new AuthError("internal", `no handler for continuation ${t.tx.continuation.kind}`);
  return h.complete(c, p, t as Transaction & { tx: LoginTransaction & { continuation: Continuation } }, s);
}

/** Sends a final outcome back to the client, once per transaction. */
export async function finish(c: WebContext, p: Provider, t: Transaction, outcome: AuthorizeOutcome): Promise<Response> {
  if (outcome.kind !== "code" && outcome.kind !== "error") throw new AuthError("internal", `unexpected outcome ${outcome.kind}`);
  if (!(await finishTransaction(c.get("services"), t.id, t.tx))) return expiredPage(c, p.scope);
  return redirectTo(c, outcome.redirectUrl);
}

/** The consent decision: Allow records the receipt and issues the code; Deny sends access_denied. */
export async function decideConsent(c: WebContext, p: Provider, tAny: Transaction, user: User, decision: "allow" | "deny"): Promise<Response> {
  const svc = c.get("services");
  const t = oidcTransaction(tAny);
  if (!t) return expiredPage(c, p.scope);
  // The claim comes first: of racing or replayed decisions exactly one records and redirects.
  if (!(await finishTransaction(svc, t.id, t.tx))) return expiredPage(c, p.scope);
  if (decision === "deny") {
    recordAudit(svc, p.scope, "consent_denied", { userId: user.uid, detail: { clientId: t.oidc.client.clientId, scopes: t.tx.consentScopes ?? [] } });
    return redirectTo(c, errorRedirect(t.oidc.ctx, "access_denied", "the user refused access"));
  }
  const current = await readSsoSession(svc, p.scope, readCookie(c, SSO_COOKIE));
  if (!current || current.session.sid !== t.tx.sid) return expiredPage(c, p.scope);
  await recordConsent(svc, p.scope, {
    user,
    client: t.oidc.client,
    scopes: t.tx.consentScopes ?? [],
    collectionMethod: "hosted_login",
    requestId: t.tx.continuation.request.state ?? t.id.slice(0, 16),
    userAgent: p.scope.userAgent,
    ip: p.scope.ip,
  });
  const outcome = await completeAuthorization(svc, p.scope, t.oidc.ctx, user, current.session, { consentGiven: true });
  if (outcome.kind !== "code") throw new AuthError("internal", "consent given but no code");
  return redirectTo(c, outcome.redirectUrl);
}

