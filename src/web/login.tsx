/** @jsxImportSource hono/jsx */
import { passwordLogin } from "../core/auth/login";
import { requestResetLink } from "../core/auth/reset-link";
import { isAuthError } from "../core/errors";
import { finishTransaction, MAX_OTP_FAILURES, saveTransaction } from "../core/oidc-provider/login-transaction";
import { verifyTotp } from "../core/mfa/totp";
import { publicOrigin } from "../core/tenants/public-origin";
import { requestAddress } from "../http/request-address";
import { ForgotPage, ForgotSentPage } from "./pages/forms";
import { base, decideConsent, handler, loginPage, messagePage, openTransaction, otpPage, readForm, signedIn, viewTransaction, type Transaction, type WebContext } from "./flow";
import { startEmailCode } from "./login-codes";
import { offerPasskeyOrSignIn } from "./passkeys";
import { gateTransaction } from "./policy-gate";
import type { Provider } from "./provider";
import { page } from "./render";

/**
 * The hosted login's form routes: password, one-time code, consent, forgot password. Every POST
 * starts with the transaction and CSRF check (flow.tsx `openTransaction`).
 *
 * No enumeration: an unknown username, a user without a password and a wrong password get the
 * same page after the same work (core/auth/login.ts does the hashing either way); a lockout is
 * keyed by what was typed, so it shows alike for existing and missing accounts.
 *
 * The authentication policy (policy-gate.ts) is asked after the password and after the code:
 * it may end the login (deny, or a factor these pages cannot offer) or want the code.
 */
const WRONG_PASSWORD = "Incorrect username or password.";
const PASSWORD_EXPIRED = "Your password has expired and must be changed before you can sign in. Use “Forgot password?” below to choose a new one.";
const DISABLED = "This account cannot sign in. Contact your administrator.";
const WRONG_CODE = "That code is not correct. Enter the current code from your authenticator app.";

const minutes = (seconds: number | undefined) => Math.max(1, Math.ceil((seconds ?? 60) / 60));
const lockedOut = (retryAfter: number | undefined) => `Too many failed attempts. Try again in ${minutes(retryAfter)} minute${minutes(retryAfter) === 1 ? "" : "s"}.`;

async function formTransaction(c: WebContext, p: Provider): Promise<{ form: URLSearchParams; t: Transaction } | Response> {
  const form = await readForm(c);
  if (!form) return messagePage(c, p.scope, 415, "Invalid form", "The form must be sent as a URL-encoded form.");
  const t = await openTransaction(c, p, form);
  return t instanceof Response ? t : { form, t };
}

const field = (form: URLSearchParams, k: string) => (form.getAll(k).length === 1 ? form.get(k)! : "");

/** GET /login?tx=: the login page of a transaction again ("Back to sign in"). */
export const loginPageRoute = handler(async (c, p) => {
  const t = await viewTransaction(c, p, c.req.query("tx"));
  return t instanceof Response ? t : loginPage(c, p, t);
});

/** POST /login: username and password through core/auth/login.ts. */
export const loginRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  const svc = c.get("services");
  const username = field(form, "username").slice(0, 256);
  let outcome;
  try {
    outcome = await passwordLogin(svc, p.scope, username, field(form, "password"));
  } catch (e) {
    if (!isAuthError(e)) throw e;
    if (e.code === "rate_limited") return loginPage(c, p, t, { status: 429, error: lockedOut(e.retryAfter), username });
    if (e.code === "user_disabled") return loginPage(c, p, t, { status: 403, error: DISABLED, username });
    return loginPage(c, p, t, { status: 401, error: WRONG_PASSWORD, username });
  }
  // NEW_PASSWORD_REQUIRED: no session before the password is changed (as every surface does).
  if (outcome.kind === "new_password_required") return loginPage(c, p, t, { status: 403, error: PASSWORD_EXPIRED, username });
  const user = outcome.user;
  // Asked before the code page: a login the policy refuses whatever else is done ends here.
  const gate = await gateTransaction(c, p, t, user, ["pwd"]);
  if (gate instanceof Response) return gate;
  // Users with TOTP are always asked for the code (so a need_mfa allowing otp is met here too).
  // Without TOTP, a need_mfa allowing email_otp sends a code to the verified email (issue 11).
  if (!user.totpSecretSealed && gate === "email_otp") return startEmailCode(c, p, t, user, ["pwd"], outcome.authenticatedAt);
  if (user.totpSecretSealed) {
    t.tx = { ...t.tx, stage: "otp", uid: user.uid, passwordAt: outcome.authenticatedAt, otpFailures: 0 };
    await saveTransaction(svc, t.id, t.tx);
    return otpPage(c, p, t);
  }
  // Granted: a user without a passkey may create one now (web/passkeys.tsx), then signed in.
  return offerPasskeyOrSignIn(c, p, t, user, { authenticatedAt: outcome.authenticatedAt, amr: ["pwd"] });
});

/**
 * POST /login/otp: the second factor (core/mfa/totp.ts, single use per time step). Failures
 * count on the user's own "totp" counter, which a correct password does not reset (so knowing
 * the password buys no fresh guesses), and void the transaction after MAX_OTP_FAILURES.
 */
export const otpRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  const svc = c.get("services");
  const user = t.tx.stage === "otp" && t.tx.uid ? await svc.users.byUid(p.scope.tenant.id, t.tx.uid) : null;
  if (!user || user.disabled || !user.totpSecretSealed) return messagePage(c, p.scope, 400, "This sign-in has expired", "Go back to the application and sign in again.");
  try {
    await svc.limiter.attempt(p.scope, "totp", user.username);
  } catch (e) {
    if (isAuthError(e) && e.code === "rate_limited") return otpPage(c, p, t, { status: 429, error: lockedOut(e.retryAfter) });
    throw e;
  }
  const ok = await verifyTotp(svc, p.scope, user, field(form, "otp").trim());
  if (!ok) {
    await svc.limiter.attemptFailed(p.scope, "totp", user.username);
    t.tx = { ...t.tx, otpFailures: t.tx.otpFailures + 1 };
    if (t.tx.otpFailures >= MAX_OTP_FAILURES) {
      await finishTransaction(svc, t.id, t.tx);
      return messagePage(c, p.scope, 401, "Too many wrong codes", "This sign-in has been stopped. Go back to the application and sign in again.");
    }
    await saveTransaction(svc, t.id, t.tx);
    return otpPage(c, p, t, { status: 401, error: WRONG_CODE });
  }
  await svc.limiter.attemptSucceeded(p.scope, "totp", user.username);
  // Factors proven earlier in this transaction (an email code) stay in amr.
  const amr = [...new Set([...(t.tx.amr ?? ["pwd"]), "otp"])];
  const gate = await gateTransaction(c, p, t, user, amr);
  if (gate instanceof Response) return gate;
  if (gate === "email_otp") return startEmailCode(c, p, t, user, amr, t.tx.passwordAt ?? Date.now());
  return signedIn(c, p, t, user, { authTime: Math.floor(Date.now() / 1000), amr });
});

/** POST /login/consent: Allow records a receipt and issues the code; Deny answers access_denied. */
export const consentRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  const decision = field(form, "decision");
  const user = t.tx.stage === "consent" && t.tx.uid ? await c.get("services").users.byUid(p.scope.tenant.id, t.tx.uid) : null;
  if (!user || user.disabled) return messagePage(c, p.scope, 400, "This sign-in has expired", "Go back to the application and sign in again.");
  if (decision !== "allow" && decision !== "deny") return messagePage(c, p.scope, 400, "Invalid form", "Choose Allow or Deny.");
  return decideConsent(c, p, t, user, decision);
});

/** GET /login/forgot?tx=: the username form of the reset flow. */
export const forgotFormRoute = handler(async (c, p) => {
  const t = await viewTransaction(c, p, c.req.query("tx"));
  if (t instanceof Response) return t;
  return page(c, p.scope, { title: "Reset your password" }, <ForgotPage f={{ base: base(p.scope), tx: t.id, csrf: t.tx.csrf }} />);
});

/**
 * POST /login/forgot: the Sentinel reset-link flow (core/auth/reset-link.ts: by username, rate
 * limited per username and per IP, the look-up and the mail in the queue consumer). The page
 * says the same whatever the username, including when the mail limit was reached.
 */
export const forgotRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  const svc = c.get("services");
  const username = field(form, "username").trim();
  if (username && username.length <= 256) {
    try {
      await requestResetLink(svc, p.scope, { username, linkOrigin: await publicOrigin(svc, p.scope.tenant.id, requestAddress(c)) });
    } catch (e) {
      if (!isAuthError(e) || e.code !== "rate_limited") throw e;
    }
  }
  return page(c, p.scope, { title: "Check your email" }, <ForgotSentPage f={{ base: base(p.scope), tx: t.id, csrf: t.tx.csrf }} />);
});
