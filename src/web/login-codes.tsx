/** @jsxImportSource hono/jsx */
import { isAuthError } from "../core/errors";
import { requestDeliveredOtp, verifyDeliveredOtp } from "../core/mfa/delivered-otp";
import { useRecoveryCode } from "../core/mfa/recovery-codes";
import { finishTransaction, MAX_OTP_FAILURES, saveTransaction } from "../core/oidc-provider/login-transaction";
import type { User } from "../storage/ports";
import { handler, messagePage, otpPage, readForm, openTransaction, signedIn, viewTransaction, type Transaction, type WebContext } from "./flow";
import { EmailCodePage, RecoveryCodePage } from "./pages/codes";
import { gateTransaction } from "./policy-gate";
import type { Provider } from "./provider";
import { page } from "./render";

/**
 * The hosted login's code steps of issue 11 (no script; every POST checks the transaction and
 * its CSRF token through flow.tsx `openTransaction`):
 *  - the email code: when the policy wants `email_otp` and the user has a verified email, a code
 *    is sent through the job queue (core/mfa/delivered-otp.ts) and asked for here;
 *  - the recovery code: from the TOTP page ("Use a recovery code"), one of the user's recovery
 *    codes stands in for the TOTP code (core/mfa/recovery-codes.ts; amr otp + recovery).
 * Every factor used accumulates in amr, and the policy is asked again after each one.
 */
const WRONG_CODE = "That code is not correct. Check the code and try again.";
const WRONG_RECOVERY = "That recovery code is not correct or has already been used.";
const EXPIRED = ["This sign-in has expired", "Go back to the application and sign in again."] as const;
const TOO_MANY = ["Too many wrong codes", "This sign-in has been stopped. Go back to the application and sign in again."] as const;

const minutes = (seconds: number | undefined) => Math.max(1, Math.ceil((seconds ?? 60) / 60));
const lockedOut = (retryAfter: number | undefined) => `Too many failed attempts. Try again in ${minutes(retryAfter)} minute${minutes(retryAfter) === 1 ? "" : "s"}.`;
const field = (form: URLSearchParams, k: string) => (form.getAll(k).length === 1 ? form.get(k)! : "");
const formContext = (p: Provider, t: Transaction) => ({ base: `/oidc/${encodeURIComponent(p.scope.community.id)}`, tx: t.id, csrf: t.tx.csrf });

function emailCodePage(c: WebContext, p: Provider, t: Transaction, opts: { status?: number; error?: string } = {}) {
  return page(c, p.scope, { status: opts.status ?? 200, title: "Email code", formTargets: t.view.formTargets }, <EmailCodePage f={formContext(p, t)} error={opts.error} />);
}

function recoveryPage(c: WebContext, p: Provider, t: Transaction, opts: { status?: number; error?: string } = {}) {
  return page(c, p.scope, { status: opts.status ?? 200, title: "Recovery code", formTargets: t.view.formTargets }, <RecoveryCodePage f={formContext(p, t)} error={opts.error} />);
}

async function formTransaction(c: WebContext, p: Provider): Promise<{ form: URLSearchParams; t: Transaction } | Response> {
  const form = await readForm(c);
  if (!form) return messagePage(c, p.scope, 415, "Invalid form", "The form must be sent as a URL-encoded form.");
  const t = await openTransaction(c, p, form);
  return t instanceof Response ? t : { form, t };
}

/** The transaction's user at `stage`, or null (expired, another stage, disabled). */
async function stageUser(c: WebContext, p: Provider, t: Transaction, stage: "otp" | "email_otp"): Promise<User | null> {
  const user = t.tx.stage === stage && t.tx.uid ? await c.get("services").users.byUid(p.scope.tenant.id, t.tx.uid) : null;
  return user && !user.disabled ? user : null;
}

/**
 * Sends an email code for this transaction's user after `amr` and shows the code page. The
 * send is rate limited per username like otp/send (a refusal is a 429 page).
 */
export async function startEmailCode(c: WebContext, p: Provider, t: Transaction, user: User, amr: string[], passwordAt: number): Promise<Response> {
  const svc = c.get("services");
  let sent;
  try {
    sent = await requestDeliveredOtp(svc, p.scope, user.username, "email");
  } catch (e) {
    if (isAuthError(e) && e.code === "rate_limited") {
      await finishTransaction(svc, t.id, t.tx);
      return messagePage(c, p.scope, 429, "Too many codes requested", `${lockedOut(e.retryAfter)} Then go back to the application and sign in again.`);
    }
    throw e;
  }
  t.tx = { ...t.tx, stage: "email_otp", uid: user.uid, passwordAt, otpFailures: 0, otpRequestId: sent.requestId, amr };
  await saveTransaction(svc, t.id, t.tx);
  return emailCodePage(c, p, t);
}

/** After a factor of this step: the policy again; it may still want TOTP or the email code. */
async function afterFactor(c: WebContext, p: Provider, t: Transaction, user: User, amr: string[]): Promise<Response> {
  const gate = await gateTransaction(c, p, t, user, amr);
  if (gate instanceof Response) return gate;
  const passwordAt = t.tx.passwordAt ?? Date.now();
  if (gate === "otp") {
    t.tx = { ...t.tx, stage: "otp", uid: user.uid, passwordAt, otpFailures: 0, amr };
    await saveTransaction(c.get("services"), t.id, t.tx);
    return otpPage(c, p, t);
  }
  if (gate === "email_otp") return startEmailCode(c, p, t, user, amr, passwordAt);
  return signedIn(c, p, t, user, { authTime: Math.floor(Date.now() / 1000), amr });
}

/** A wrong code: counted in the transaction, which ends after MAX_OTP_FAILURES. */
async function wrongCode(c: WebContext, p: Provider, t: Transaction, again: (opts: { status: number; error: string }) => Response | Promise<Response>, error: string): Promise<Response> {
  const svc = c.get("services");
  t.tx = { ...t.tx, otpFailures: t.tx.otpFailures + 1 };
  if (t.tx.otpFailures >= MAX_OTP_FAILURES) {
    await finishTransaction(svc, t.id, t.tx);
    return messagePage(c, p.scope, 401, ...TOO_MANY);
  }
  await saveTransaction(svc, t.id, t.tx);
  return again({ status: 401, error });
}

/** POST /login/email-code: the code sent for this transaction's request id, for its user only. */
export const emailCodeRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  const user = await stageUser(c, p, t, "email_otp");
  if (!user || !t.tx.otpRequestId) return messagePage(c, p.scope, 400, ...EXPIRED);
  const code = field(form, "code").trim();
  // A malformed code is a wrong one here (the page asks for 6 digits); it is not sent to core.
  if (!/^\d{6}$/.test(code)) return wrongCode(c, p, t, (o) => emailCodePage(c, p, t, o), WRONG_CODE);
  try {
    await verifyDeliveredOtp(c.get("services"), p.scope, { requestId: t.tx.otpRequestId, code, forUid: user.uid });
  } catch (e) {
    if (!isAuthError(e)) throw e;
    if (e.code === "rate_limited") return emailCodePage(c, p, t, { status: 429, error: lockedOut(e.retryAfter) });
    if (e.code !== "invalid_credentials") return messagePage(c, p.scope, 400, ...EXPIRED);
    return wrongCode(c, p, t, (o) => emailCodePage(c, p, t, o), WRONG_CODE);
  }
  return afterFactor(c, p, t, user, [...new Set([...(t.tx.amr ?? ["pwd"]), "email_otp"])]);
});

/** GET /login/otp?tx=: the TOTP page again (the recovery page's way back). */
export const otpPageRoute = handler(async (c, p) => {
  const t = await viewTransaction(c, p, c.req.query("tx"));
  if (t instanceof Response) return t;
  if (t.tx.stage !== "otp") return messagePage(c, p.scope, 400, ...EXPIRED);
  return otpPage(c, p, t);
});

/** GET /login/recovery?tx=: the recovery code page, at the TOTP step only. */
export const recoveryPageRoute = handler(async (c, p) => {
  const t = await viewTransaction(c, p, c.req.query("tx"));
  if (t instanceof Response) return t;
  if (t.tx.stage !== "otp") return messagePage(c, p.scope, 400, ...EXPIRED);
  return recoveryPage(c, p, t);
});

/**
 * POST /login/recovery: a recovery code in place of the TOTP code. Failures count on the same
 * per-user "totp" counter as the TOTP page and in the same transaction count, so switching
 * between the two pages buys no extra guesses.
 */
export const recoveryRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  const svc = c.get("services");
  const user = await stageUser(c, p, t, "otp");
  if (!user || !user.totpSecretSealed) return messagePage(c, p.scope, 400, ...EXPIRED);
  try {
    await svc.limiter.attempt(p.scope, "totp", user.username);
  } catch (e) {
    if (isAuthError(e) && e.code === "rate_limited") return recoveryPage(c, p, t, { status: 429, error: lockedOut(e.retryAfter) });
    throw e;
  }
  const code = field(form, "recovery_code").trim();
  const ok = code.length > 0 && code.length <= 64 && (await useRecoveryCode(svc, p.scope, user, code));
  if (!ok) {
    await svc.limiter.attemptFailed(p.scope, "totp", user.username);
    return wrongCode(c, p, t, (o) => recoveryPage(c, p, t, o), WRONG_RECOVERY);
  }
  await svc.limiter.attemptSucceeded(p.scope, "totp", user.username);
  return afterFactor(c, p, t, user, [...new Set([...(t.tx.amr ?? ["pwd"]), "otp", "recovery"])]);
});
