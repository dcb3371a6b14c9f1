import { sha256Hex, timingSafeEqualString } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { AuthorizationRequest } from "../../protocols/oidc/authorization-request";
import type { Scope, Services } from "../context";

/**
 * A pending authorization in the hosted login: what the authorize endpoint validated, carried
 * from page to page (login, one-time code, consent) by an opaque id in a hidden form field.
 * KV holds it under SHA-256 of the id for TTL_SECONDS; nothing in the browser can change it.
 *
 * CSRF (OWASP "synchronizer token", bound twice): the transaction stores a random form token
 * and the SHA-256 of the browser's `__Host-edge-auth-csrf` cookie. A POST is accepted only when
 * its form token equals the transaction's AND its cookie hashes to the transaction's binding,
 * both compared in constant time. Another site can neither read the page (no framing, no CORS)
 * nor set a `__Host-` cookie, so it cannot forge either; a token of another transaction fails
 * the first comparison, another browser's cookie the second. The check runs before anything
 * else, so a refused POST counts no attempt and changes nothing.
 *
 * Completing a transaction (a code issued, or the user's refusal sent back) is single use,
 * decided by the ReplayGuard (DESIGN.md: never by KV): a replayed or racing final POST loses.
 */
export const TRANSACTION_TTL_SECONDS = 600;
/** Wrong one-time codes accepted in one transaction before it is void. */
export const MAX_OTP_FAILURES = 5;
const PREFIX = "webtx";

/** `email_otp`: a code was sent to the user's verified email (issue 11; web/login-codes.tsx). */
export type TransactionStage = "login" | "otp" | "email_otp" | "consent" | "passkey_offer";

/**
 * What the browser came for and gets once the user is signed in: the protocol request the
 * front channel validated before starting the transaction (never re-read from the browser).
 * src/web/flow.tsx `completeContinuation` dispatches on `kind` (contract:
 * /tmp/briefs9/E-transaction.md, docs/architecture.md).
 */
export interface OidcContinuation {
  kind: "oidc";
  clientId: string;
  request: AuthorizationRequest;
}

/** An SP-initiated SAML AuthnRequest (SAML Core §3.4.1), already checked against the SP's configuration. */
export interface SamlContinuation {
  kind: "saml";
  /** The service provider's id (`_id`) in this community. */
  spId: string;
  request: {
    /** The AuthnRequest's ID: the Response's InResponseTo. */
    id: string;
    /** The registered ACS URL the Response is posted to (never one taken unchecked from the request). */
    acsUrl: string;
    forceAuthn: boolean;
    isPassive: boolean;
    relayState?: string;
    /**
     * The message as it arrived, so core answers it after the login with every check of
     * `samlSso` (signature, IssueInstant, single use) on the very request: the binding, the
     * SAMLRequest value and, for HTTP-Redirect, the raw query its signature covers.
     */
    message?: { binding: "redirect" | "post"; SAMLRequest: string; rawQuery?: string };
  };
}

/** A WS-Federation sign-in request (wa=wsignin1.0) of a relying party. */
export interface WsfedContinuation {
  kind: "wsfed";
  spId: string;
  /** The checked reply address the RSTR is posted to. */
  wreply: string;
  wctx?: string;
}

/** An IdP-initiated SAML sign-in (`/saml/<communityId>/idp-init/<spId>`): an unsolicited Response. */
export interface SamlIdpInitContinuation {
  kind: "saml-idp-init";
  spId: string;
  relayState?: string;
}

export type Continuation = OidcContinuation | SamlContinuation | WsfedContinuation | SamlIdpInitContinuation;
export type ContinuationKind = Continuation["kind"];

export interface LoginTransaction {
  tenantId: string;
  communityId: string;
  continuation: Continuation;
  /** The form's CSRF token. */
  csrf: string;
  /** SHA-256 of the browser's CSRF cookie. */
  browser: string;
  stage: TransactionStage;
  /** After the password (stage otp) or for consent: the user. */
  uid?: string;
  /** Stage otp: when the password was checked (epoch ms). */
  passwordAt?: number;
  /** Stage consent: the SSO session the consent is asked in, and the scopes asked. */
  sid?: string;
  consentScopes?: string[];
  otpFailures: number;
  /** Stage email_otp: the request id the code was sent under, and the methods proven before it. */
  otpRequestId?: string;
  amr?: string[];
  /**
   * SHA-256 (hex) of the last WebAuthn challenge this transaction was given (web/passkeys.tsx):
   * an assertion or registration answering any other challenge is refused here, so a challenge
   * serves only the login transaction (and browser) that asked for it.
   */
  passkeyChallenge?: string;
  /** Epoch ms. */
  expiresAt: number;
}

export type TransactionCheck = { ok: true; tx: LoginTransaction } | { ok: false; problem: "expired" | "csrf" };

const onceScope = (tenantId: string) => `webtx:${tenantId}`;
const validId = (id: unknown): id is string => typeof id === "string" && /^[A-Za-z0-9_-]{43}$/.test(id);

/** A new CSRF cookie value (set when the browser has none). */
export function newBrowserSecret(): string {
  return randomToken();
}

/** Starts a transaction for a validated request, bound to the browser's CSRF cookie. */
export async function startTransaction(
  svc: Services,
  scope: Scope,
  continuation: Continuation,
  browserSecret: string,
  /** A transaction that starts at consent (OIDC only: the user has a live session): whose, in which session. */
  consent?: { uid: string; sid: string; scopes: string[] },
): Promise<{ id: string; tx: LoginTransaction }> {
  const id = randomToken();
  const tx: LoginTransaction = {
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    continuation,
    csrf: randomToken(),
    browser: await sha256Hex(browserSecret),
    stage: consent ? "consent" : "login",
    ...(consent ? { uid: consent.uid, sid: consent.sid, consentScopes: consent.scopes } : {}),
    otpFailures: 0,
    expiresAt: Date.now() + TRANSACTION_TTL_SECONDS * 1000,
  };
  await svc.secrets.put<LoginTransaction>(PREFIX, await sha256Hex(id), tx, TRANSACTION_TTL_SECONDS);
  return { id, tx };
}

/**
 * Loads the transaction a form names and checks its CSRF token and cookie. `expired`: no such
 * transaction here (unknown, expired, another community's); `csrf`: the token or the cookie
 * does not match. `csrf: null` is a page view by GET (a link such as "Back to sign in"): no form
 * token travels in a link, so only the browser binding is checked, and a GET changes nothing.
 */
export async function checkTransaction(svc: Services, scope: Scope, id: unknown, csrf: unknown, browserSecret: string | undefined): Promise<TransactionCheck> {
  if (!validId(id)) return { ok: false, problem: "expired" };
  const tx = await svc.secrets.get<LoginTransaction>(PREFIX, await sha256Hex(id));
  if (!tx || tx.tenantId !== scope.tenant.id || tx.communityId !== scope.community.id || tx.expiresAt <= Date.now() || !tx.continuation) return { ok: false, problem: "expired" };
  const tokenOk = csrf === null || (typeof csrf === "string" && csrf.length <= 128 && (await timingSafeEqualString(csrf, tx.csrf)));
  const cookieOk = typeof browserSecret === "string" && browserSecret.length <= 128 && (await timingSafeEqualString(await sha256Hex(browserSecret), tx.browser));
  if (!tokenOk || !cookieOk) return { ok: false, problem: "csrf" };
  return { ok: true, tx };
}

/** Stores the transaction's new stage (same id, same expiry). */
export async function saveTransaction(svc: Services, id: string, tx: LoginTransaction): Promise<void> {
  const ttl = Math.max(60, Math.ceil((tx.expiresAt - Date.now()) / 1000));
  await svc.secrets.put<LoginTransaction>(PREFIX, await sha256Hex(id), tx, ttl);
}

/** Claims the transaction's completion: true for exactly one caller. */
export async function finishTransaction(svc: Services, id: string, tx: LoginTransaction): Promise<boolean> {
  const digest = await sha256Hex(id);
  const first = await svc.once.claim(onceScope(tx.tenantId), digest, tx.expiresAt + 60_000);
  if (first) await svc.secrets.delete(PREFIX, digest);
  return first;
}
