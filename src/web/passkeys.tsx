/** @jsxImportSource hono/jsx */
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { z } from "zod";
import { sha256Hex } from "../crypto/hash";
import { isAuthError } from "../core/errors";
import { saveTransaction } from "../core/oidc-provider/login-transaction";
import { hostedLoginSettings } from "../core/tenants/hosted-login-settings";
import { authenticationOptions, verifyAssertion } from "../core/webauthn/authentication";
import { challengeOfClientData } from "../core/webauthn/challenges";
import { registerCredential, registrationOptions } from "../core/webauthn/registration";
import { relyingParty, type RelyingParty } from "../core/webauthn/relying-party";
import { requestAddress } from "../http/request-address";
import type { User } from "../storage/ports";
import { formContext, handler, loginPage, messagePage, openTransaction, otpPage, readForm, signedIn, type Transaction, type WebContext } from "./flow";
import { startEmailCode } from "./login-codes";
import { PasskeyOfferPage } from "./pages/forms";
import { gateTransaction } from "./policy-gate";
import type { Provider } from "./provider";
import { page } from "./render";

/**
 * Passkeys in the hosted login (issue 11 "In the hosted login"; docs/api/oidc.md "Hosted login:
 * passkeys"). The WebAuthn ceremonies are core/webauthn's (the same as authenticate_with_fido
 * and the registration extension routes); this file binds them to the login transaction:
 *
 *  - POST /login/passkey/options: request options (discoverable: no username, so nothing about
 *    accounts is revealed; user verification required: this is passwordless). The challenge's
 *    SHA-256 is kept in the transaction, so an assertion is accepted only in the transaction
 *    (and so the browser, by its CSRF cookie) that asked for it.
 *  - POST /login/passkey: the assertion (JSON in a form field) through `verifyAssertion`
 *    (single-use challenge decided by the ReplayGuard DO, signature counter rule, login limiter),
 *    then exactly what a password sign-in does: the policy (policy-gate.ts) with the amr core
 *    gives (`fido`, `mfa`), an SSO session, the continuation.
 *  - After a password sign-in that the policy granted, a user without a WebAuthn credential is
 *    offered "Create a passkey" (tenant setting hostedLogin.offerPasskeys, default off);
 *    POST /login/passkey/register/options and POST /login/passkey/register run the registration;
 *    "Not now" (a plain form, works without script) goes on without one.
 *
 * Every POST checks the transaction's CSRF token and cookie first (flow.tsx openTransaction).
 * Every refusal of an assertion is the same page, whatever the reason (unknown credential,
 * another transaction's or a used challenge, bad signature, counter regression).
 */
const PASSKEY_REFUSED = "That passkey could not be used to sign in. Try again or sign in with your password.";
const DISABLED = "This account cannot sign in. Contact your administrator.";
const REGISTER_FAILED = "The passkey could not be created. Try again, or choose Not now.";
const EXPIRED = ["This sign-in has expired", "Go back to the application and sign in again."] as const;

const minutes = (seconds: number | undefined) => Math.max(1, Math.ceil((seconds ?? 60) / 60));
const lockedOut = (retryAfter: number | undefined) => `Too many failed attempts. Try again in ${minutes(retryAfter)} minute${minutes(retryAfter) === 1 ? "" : "s"}.`;
const field = (form: URLSearchParams, k: string) => (form.getAll(k).length === 1 ? form.get(k)! : "");

// The JSON forms of WebAuthn L3 §5.1.8/§5.1.9 (PublicKeyCredential.toJSON()), bounded.
const B64U = z.string().max(16_384).regex(/^[A-Za-z0-9_-]*={0,2}$/);
const Transports = z.array(z.enum(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"])).max(8);
const Common = {
  id: B64U.min(1).max(1366),
  rawId: B64U.min(1).max(1366),
  type: z.literal("public-key"),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};
const Assertion = z.object({ ...Common, response: z.object({ clientDataJSON: B64U, authenticatorData: B64U, signature: B64U, userHandle: B64U.max(128).optional() }) });
const Registration = z.object({ ...Common, response: z.object({ clientDataJSON: B64U, attestationObject: B64U, transports: Transports.optional() }) });

/** The JSON of a form field parsed by `schema`, or null (not JSON, wrong shape). */
function parsedField<T>(form: URLSearchParams, name: string, schema: z.ZodType<T>): T | null {
  const raw = field(form, name);
  if (!raw) return null;
  try {
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

async function formTransaction(c: WebContext, p: Provider): Promise<{ form: URLSearchParams; t: Transaction } | Response> {
  const form = await readForm(c);
  if (!form) return messagePage(c, p.scope, 415, "Invalid form", "The form must be sent as a URL-encoded form.");
  const t = await openTransaction(c, p, form);
  return t instanceof Response ? t : { form, t };
}

/** The tenant's relying party, or null when it has no bound hostname (passkeys unavailable). */
async function rpOf(c: WebContext, p: Provider): Promise<RelyingParty | null> {
  try {
    return await relyingParty(c.get("services"), p.scope, requestAddress(c));
  } catch (e) {
    if (isAuthError(e) && e.code === "invalid_request") return null;
    throw e;
  }
}

/** A JSON answer the page's script reads (never cached). */
function json(c: WebContext, body: unknown, status = 200): Response {
  c.header("cache-control", "no-store");
  return c.json(body as object, status as 200);
}

/** Remembers the challenge of options just issued in the transaction (the binding above). */
async function bindChallenge(c: WebContext, t: Transaction, challenge: string): Promise<void> {
  t.tx = { ...t.tx, passkeyChallenge: await sha256Hex(challenge) };
  await saveTransaction(c.get("services"), t.id, t.tx);
}

/** Is this response's challenge the one this transaction was last given? */
async function boundHere(t: Transaction, clientDataJSON: string): Promise<boolean> {
  if (!t.tx.passkeyChallenge) return false;
  try {
    return (await sha256Hex(challengeOfClientData(clientDataJSON))) === t.tx.passkeyChallenge;
  } catch {
    return false;
  }
}

/** POST /login/passkey/options: request options for this login transaction (JSON). */
export const passkeyOptionsRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { t } = r;
  if (t.tx.stage !== "login") return json(c, { error: "invalid_request", message: "this sign-in is not at its first step" }, 400);
  const rp = await rpOf(c, p);
  if (!rp) return json(c, { error: "not_available", message: "passkeys are not available on this host" }, 404);
  // No username: discoverable credentials only, so the answer is the same for every account.
  const options = await authenticationOptions(c.get("services"), p.scope, rp, { stepUp: false });
  await bindChallenge(c, t, options.challenge);
  return json(c, options);
});

/** POST /login/passkey: a passwordless sign-in with the assertion in `assertion`. */
export const passkeyRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  if (t.tx.stage !== "login") return messagePage(c, p.scope, 400, ...EXPIRED);
  const svc = c.get("services");
  const assertion = parsedField(form, "assertion", Assertion);
  const rp = await rpOf(c, p);
  if (!assertion || !rp || !(await boundHere(t, assertion.response.clientDataJSON))) return loginPage(c, p, t, { status: 401, error: PASSKEY_REFUSED, passkeyRefused: true });
  let signIn;
  try {
    signIn = await verifyAssertion(svc, p.scope, rp, { assertion: assertion as AuthenticationResponseJSON, prior: null });
  } catch (e) {
    if (!isAuthError(e)) throw e;
    if (e.code === "rate_limited") return loginPage(c, p, t, { status: 429, error: lockedOut(e.retryAfter), passkeyRefused: true });
    if (e.code === "user_disabled") return loginPage(c, p, t, { status: 403, error: DISABLED, passkeyRefused: true });
    return loginPage(c, p, t, { status: 401, error: PASSKEY_REFUSED, passkeyRefused: true });
  }
  const { user, amr, authenticatedAt } = signIn;
  // The challenge is used up (core decided it once); the transaction forgets it.
  const { passkeyChallenge: _used, ...rest } = t.tx;
  t.tx = rest;
  // The same questions as after a password: the policy may grant, want another factor, or refuse.
  const gate = await gateTransaction(c, p, t, user, amr);
  if (gate instanceof Response) return gate;
  if (gate === "otp") {
    t.tx = { ...t.tx, stage: "otp", uid: user.uid, passwordAt: authenticatedAt, otpFailures: 0, amr };
    await saveTransaction(svc, t.id, t.tx);
    return otpPage(c, p, t);
  }
  if (gate === "email_otp") return startEmailCode(c, p, t, user, amr, authenticatedAt);
  return signedIn(c, p, t, user, { authTime: Math.floor(authenticatedAt / 1000), amr });
});

/**
 * After a granted password sign-in: the "Create a passkey" page when the tenant offers it, the
 * host has a relying party and the user has no WebAuthn credential yet (a second one needs a
 * stronger proof, as on the Authn API: core/authn/factors.ts enrolmentUser); else signed in.
 */
export async function offerPasskeyOrSignIn(c: WebContext, p: Provider, t: Transaction, user: User, auth: { authenticatedAt: number; amr: string[] }): Promise<Response> {
  const svc = c.get("services");
  const offer = hostedLoginSettings(p.scope.settings).offerPasskeys === true && (await rpOf(c, p)) !== null && (await svc.webauthn.listForUser(p.scope.tenant.id, user.uid)).length === 0;
  if (!offer) return signedIn(c, p, t, user, { authTime: Math.floor(auth.authenticatedAt / 1000), amr: auth.amr });
  t.tx = { ...t.tx, stage: "passkey_offer", uid: user.uid, passwordAt: auth.authenticatedAt, amr: auth.amr };
  await saveTransaction(svc, t.id, t.tx);
  return offerPage(c, p, t);
}

function offerPage(c: WebContext, p: Provider, t: Transaction, opts: { status?: number; error?: string } = {}) {
  return page(c, p.scope, { status: opts.status ?? 200, title: "Create a passkey", formTargets: t.view.formTargets, script: true, connect: true }, (nonce) => (
    <PasskeyOfferPage f={formContext(p.scope, t)} nonce={nonce} error={opts.error} />
  ));
}

/** The transaction's user at the offer step, or null (expired, another stage, disabled). */
async function offerUser(c: WebContext, p: Provider, t: Transaction): Promise<User | null> {
  const user = t.tx.stage === "passkey_offer" && t.tx.uid ? await c.get("services").users.byUid(p.scope.tenant.id, t.tx.uid) : null;
  return user && !user.disabled ? user : null;
}

/** POST /login/passkey/register/options: creation options for the offer step's user (JSON). */
export const passkeyRegisterOptionsRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { t } = r;
  const user = await offerUser(c, p, t);
  if (!user) return json(c, { error: "invalid_request", message: "this sign-in is not at the passkey step" }, 400);
  const rp = await rpOf(c, p);
  if (!rp) return json(c, { error: "not_available", message: "passkeys are not available on this host" }, 404);
  let options;
  try {
    options = await registrationOptions(c.get("services"), p.scope, rp, user);
  } catch (e) {
    if (isAuthError(e) && e.code === "invalid_request") return json(c, { error: "invalid_request", message: e.message }, 400);
    throw e;
  }
  await bindChallenge(c, t, options.challenge);
  return json(c, options);
});

/** POST /login/passkey/register: the new credential in `credential`, or nothing ("Not now"); then signed in. */
export const passkeyRegisterRoute = handler(async (c, p) => {
  const r = await formTransaction(c, p);
  if (r instanceof Response) return r;
  const { form, t } = r;
  const user = await offerUser(c, p, t);
  if (!user) return messagePage(c, p.scope, 400, ...EXPIRED);
  const amr = t.tx.amr ?? ["pwd"];
  const authTime = Math.floor((t.tx.passwordAt ?? Date.now()) / 1000);
  if (field(form, "credential") === "") return signedIn(c, p, t, user, { authTime, amr });
  const credential = parsedField(form, "credential", Registration);
  const rp = await rpOf(c, p);
  if (!credential || !rp || !(await boundHere(t, credential.response.clientDataJSON))) return offerPage(c, p, t, { status: 400, error: REGISTER_FAILED });
  try {
    await registerCredential(c.get("services"), p.scope, rp, user, credential as RegistrationResponseJSON, "Passkey");
  } catch (e) {
    if (!isAuthError(e)) throw e;
    return offerPage(c, p, t, { status: 400, error: REGISTER_FAILED });
  }
  // Registering proves no sign-in factor beyond the password already in amr.
  return signedIn(c, p, t, user, { authTime, amr });
});
