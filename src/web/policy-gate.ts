import { recordAudit } from "../core/audit/audit";
import { decideLogin } from "../core/journeys/login-policy";
import type { PolicyOutcome } from "../core/journeys/model";
import { finishTransaction } from "../core/oidc-provider/login-transaction";
import type { SsoSession } from "../core/oidc-provider/sso-session";
import type { User } from "../storage/ports";
import { messagePage, type Transaction, type WebContext } from "./flow";
import type { Provider } from "./provider";

/**
 * The hosted login asks the authentication policy (issue 10; core/journeys/login-policy.ts)
 * after the password, after the one-time code, and whenever an existing SSO session is about
 * to answer for another application. The facts are the user's (username, groups), the
 * connecting IP (`scope.ip`, CF-Connecting-IP) and the application: the OIDC client_id, the
 * SAML SP's entityID or the WS-Fed realm (TransactionView.application). The hosted login has
 * no device facts.
 *
 * What the answers become here:
 *  - grant_access: the login goes on as before;
 *  - deny_access: a 403 page; the transaction ends and no SSO session is started or extended;
 *  - need_mfa: the one-time code page when `otp` is allowed and the user has TOTP (users with
 *    TOTP are always asked for it anyway; a recovery code may stand in for it), else the email
 *    code page when `email_otp` is allowed and the user has a verified email (issue 11);
 *    otherwise a 403 page naming what is missing, since no other factor can be completed here.
 */
export const POLICY_DENIED_TITLE = "Sign-in not allowed";
export const POLICY_DENIED = "Your organisation's sign-in policy does not allow this sign-in. Contact your administrator if you think this is wrong.";
export const FACTOR_MISSING_TITLE = "Another sign-in method is needed";

/** How each factor is named to the user (core/journeys/factors.ts names). */
const FACTOR_NAMES: Record<string, string> = {
  password: "your password",
  pin: "a PIN",
  otp: "a code from an authenticator app",
  email_otp: "a code sent by email",
  sms_otp: "a code sent by text message",
  fido: "a security key or passkey",
  ktoken: "a sign-in token from your organisation's app",
  uwl: "your organisation's wallet app",
  liveid: "a LiveID selfie",
  behavior_auth: "a typing-pattern check",
  idp_redirect: "your organisation's identity provider",
};

export function factorsText(factors: readonly string[]): string {
  const names = [...new Set(factors.map((f) => FACTOR_NAMES[f] ?? f))];
  if (names.length <= 1) return names[0] ?? "another sign-in method";
  return `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

/** Asks the policy about this user signing in to `application` after `amr`. */
export function askPolicy(c: WebContext, p: Provider, user: User, amr: readonly string[], application: string | undefined): Promise<PolicyOutcome> {
  return decideLogin(c.get("services"), p.scope, { user, amr, ...(application ? { application } : {}) });
}

/** The policy refused (deny, or a factor these pages cannot offer): audit, then the page. */
function refusedPage(c: WebContext, p: Provider, user: User, amr: readonly string[], application: string | undefined, outcome: PolicyOutcome): Response | Promise<Response> {
  const svc = c.get("services");
  const journey = outcome.journey ? { journeyId: outcome.journey.id, journeyVersion: outcome.journey.version } : {};
  recordAudit(svc, p.scope, "login_denied_by_policy", {
    userId: user.uid,
    detail: { surface: "hosted_login", amr: [...amr], application: application ?? null, step: outcome.step, allowedFactors: outcome.allowedFactors, source: outcome.source, ...journey },
  });
  if (outcome.step === "deny_access") return messagePage(c, p.scope, 403, POLICY_DENIED_TITLE, POLICY_DENIED);
  return messagePage(
    c,
    p.scope,
    403,
    FACTOR_MISSING_TITLE,
    `Your organisation's sign-in policy requires ${factorsText(outcome.allowedFactors)} for this sign-in, which cannot be used on this page. Contact your administrator.`,
  );
}

/** Can the user complete this need_mfa here with the TOTP page? Only if enrolled. */
export const otpCompletes = (outcome: PolicyOutcome, user: User): boolean => outcome.step === "need_mfa" && outcome.allowedFactors.includes("otp") && user.totpSecretSealed !== null;

/** ... or with a code sent to the user's verified email (issue 11; web/login-codes.tsx)? */
export const emailOtpCompletes = (outcome: PolicyOutcome, user: User): boolean =>
  outcome.step === "need_mfa" && outcome.allowedFactors.includes("email_otp") && !!user.email && user.emailVerified;

/**
 * In a login transaction, after the factors in `amr` are proven: "grant" to go on, "otp" when
 * the code page may still complete it, or the refusal page (the transaction ended first, so
 * nothing can be completed with it).
 */
export async function gateTransaction(c: WebContext, p: Provider, t: Transaction, user: User, amr: readonly string[]): Promise<"grant" | "otp" | "email_otp" | Response> {
  const outcome = await askPolicy(c, p, user, amr, t.view.application);
  if (outcome.step === "grant_access") return "grant";
  if (otpCompletes(outcome, user) && !amr.includes("otp")) return "otp";
  if (emailOtpCompletes(outcome, user) && !amr.includes("email_otp")) return "email_otp";
  await finishTransaction(c.get("services"), t.id, t.tx);
  return refusedPage(c, p, user, amr, t.view.application, outcome);
}

/**
 * An SSO session about to answer for `application`: "reuse" it, "login" again (the policy
 * wants the one-time code and the session was made without it: the full login asks for it),
 * or the refusal page. The session itself is left as it is: it still serves the applications
 * the policy allows.
 */
export async function gateSession(c: WebContext, p: Provider, current: { user: User; session: SsoSession }, application: string): Promise<"reuse" | "login" | { refused: Response | Promise<Response> }> {
  const outcome = await askPolicy(c, p, current.user, current.session.amr, application);
  if (outcome.step === "grant_access") return "reuse";
  if (otpCompletes(outcome, current.user) || emailOtpCompletes(outcome, current.user)) return "login";
  return { refused: refusedPage(c, p, current.user, current.session.amr, application, outcome) };
}
