/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Scope } from "../core/context";
import { AuthError, isAuthError } from "../core/errors";
import { recordAudit } from "../core/audit/audit";
import { recordConsent } from "../core/consents/consents";
import { completeAuthorization, errorRedirect, type AuthorizeContext, type AuthorizeOutcome } from "../core/oidc-provider/authorize";
import { findOidcClient, type OidcClient } from "../core/oidc-provider/clients";
import { checkTransaction, finishTransaction, newBrowserSecret, saveTransaction, type LoginTransaction } from "../core/oidc-provider/login-transaction";
import { endSsoSession, readSsoSession, startSsoSession } from "../core/oidc-provider/sso-session";
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

export interface Transaction {
  id: string;
  tx: LoginTransaction;
  client: OidcClient;
  ctx: AuthorizeContext;
  names: (scopes: string[]) => string[];
}

const expiredPage = (c: WebContext, scope: Scope) =>
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

async function loadedTransaction(c: WebContext, p: Provider, id: string, tx: LoginTransaction): Promise<Transaction | Response> {
  const svc = c.get("services");
  const [client, defs] = await Promise.all([findOidcClient(svc, p.scope, tx.clientId), communityScopeDefinitions(svc, p.scope)]);
  if (!client) return expiredPage(c, p.scope);
  return {
    id,
    tx,
    client,
    ctx: { request: tx.request, client, issuer: p.issuer, consentRequired: consentRequiredScopes(defs) },
    names: (scopes) => scopeDisplayNames(defs, scopes),
  };
}

const formContext = (scope: Scope, t: { id: string; tx: LoginTransaction }): FormContext => ({ base: base(scope), tx: t.id, csrf: t.tx.csrf });
const targets = (t: { tx: LoginTransaction }) => [t.tx.request.redirectUri];

export function loginPage(c: WebContext, p: Provider, t: { id: string; tx: LoginTransaction; client: OidcClient }, opts: { status?: number; error?: string; username?: string } = {}) {
  const username = opts.username ?? t.tx.request.loginHint;
  return page(
    c,
    p.scope,
    { status: opts.status ?? 200, title: "Sign in", formTargets: targets(t) },
    <LoginPage f={formContext(p.scope, t)} clientName={t.client.name} username={username} error={opts.error} />,
  );
}

export function otpPage(c: WebContext, p: Provider, t: { id: string; tx: LoginTransaction }, opts: { status?: number; error?: string } = {}) {
  return page(c, p.scope, { status: opts.status ?? 200, title: "One-time code", formTargets: targets(t) }, <OtpPage f={formContext(p.scope, t)} error={opts.error} />);
}

export function consentPage(c: WebContext, p: Provider, t: Transaction) {
  return page(c, p.scope, { title: "Allow access", formTargets: targets(t) }, <ConsentPage f={formContext(p.scope, t)} clientName={t.client.name} scopes={t.names(t.tx.consentScopes ?? [])} />);
}

/** Sends the browser back to the client (303: a POST's answer is followed with GET, RFC 9110 §15.4.4). */
export function redirectTo(c: WebContext, url: string): Response {
  c.header("cache-control", "no-store");
  return c.redirect(url, 303);
}

/**
 * After the user authenticated in this transaction: a new SSO session (the browser's previous
 * one, if any, ends: one browser, one session), then consent or the code.
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
  const outcome = await completeAuthorization(svc, p.scope, t.ctx, user, started.session);
  if (outcome.kind === "consent") {
    const tx: LoginTransaction = { ...t.tx, stage: "consent", uid: user.uid, sid: started.session.sid, consentScopes: outcome.scopes };
    await saveTransaction(svc, t.id, tx);
    return consentPage(c, p, { ...t, tx });
  }
  return finish(c, p, t, outcome);
}

/** Sends a final outcome back to the client, once per transaction. */
export async function finish(c: WebContext, p: Provider, t: Transaction, outcome: AuthorizeOutcome): Promise<Response> {
  if (outcome.kind !== "code" && outcome.kind !== "error") throw new AuthError("internal", `unexpected outcome ${outcome.kind}`);
  if (!(await finishTransaction(c.get("services"), t.id, t.tx))) return expiredPage(c, p.scope);
  return redirectTo(c, outcome.redirectUrl);
}

/** The consent decision: Allow records the receipt and issues the code; Deny sends access_denied. */
export async function decideConsent(c: WebContext, p: Provider, t: Transaction, user: User, decision: "allow" | "deny"): Promise<Response> {
  const svc = c.get("services");
  // The claim comes first: of racing or replayed decisions exactly one records and redirects.
  if (!(await finishTransaction(svc, t.id, t.tx))) return expiredPage(c, p.scope);
  if (decision === "deny") {
    recordAudit(svc, p.scope, "consent_denied", { userId: user.uid, detail: { clientId: t.client.clientId, scopes: t.tx.consentScopes ?? [] } });
    return redirectTo(c, errorRedirect(t.ctx, "access_denied", "the user refused access"));
  }
  const current = await readSsoSession(svc, p.scope, readCookie(c, SSO_COOKIE));
  if (!current || current.session.sid !== t.tx.sid) return expiredPage(c, p.scope);
  await recordConsent(svc, p.scope, {
    user,
    client: t.client,
    scopes: t.tx.consentScopes ?? [],
    collectionMethod: "hosted_login",
    requestId: t.tx.request.state ?? t.id.slice(0, 16),
    userAgent: p.scope.userAgent,
    ip: p.scope.ip,
  });
  const outcome = await completeAuthorization(svc, p.scope, t.ctx, user, current.session, { consentGiven: true });
  if (outcome.kind !== "code") throw new AuthError("internal", "consent given but no code");
  return redirectTo(c, outcome.redirectUrl);
}

