import type { User } from "../../storage/ports";
import type { AuthSchemeStore } from "../../storage/ports-authn";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { passwordMatches } from "../users/passwords";
import { pinMatches } from "../mfa/pin";
import { verifyTotp } from "../mfa/totp";
import { verifyStepUp, type StepUpClaims } from "./pending-login";
import { accumulateAmr } from "./proofs";
import { resolveSchemeModule } from "./schemes";

/**
 * Username plus one or more factors (password, PIN, TOTP), optionally stepping up from an
 * earlier proof of authentication (seed 004 "authenticate" and "request/proof_of_authentication").
 * Every factor given must be right. Failures count per user and per IP (core/limits) on the
 * same "login" counters as every other surface's password login, so factors and surfaces
 * cannot be alternated to multiply an attacker's guesses; unknown users, users without the
 * factor, and wrong values all answer the same `invalid_credentials` after the same hashing.
 */
export interface FactorCredentials {
  username: string;
  password?: string;
  pin?: string;
  otp?: string;
}

export interface AuthenticateOptions {
  /**
   * An earlier proof, or the `user_token` of a login the policy stopped at need_mfa, to step
   * up from: same user, same community, methods accumulate (pending-login.ts verifyStepUp).
   */
  priorProof?: string;
  schemeId?: string;
  moduleId?: string;
  /** Needed only when schemeId/moduleId are given. */
  schemes?: AuthSchemeStore;
  /** The uid the caller names for the user (proof_of_authentication `user.uid`). */
  expectUid?: string;
}

export interface AuthenticatedUser {
  user: User;
  /** Methods proven, earlier proof's first (RFC 8176 values). */
  amr: string[];
  /** Methods proven by this call alone. */
  methods: string[];
  schemeId?: string;
  moduleId?: string;
  /** Epoch ms just before the credentials were read: pass it to issueProof (see TokenAuthority.openFamily). */
  authenticatedAt: number;
  /** The verified step-up token, if any (a pending login is ended once the policy decided). */
  prior: StepUpClaims | null;
}

const LIMITS = { username: 256, password: 1024, pin: 64, otp: 16 };

/** The document's validation: 1. username is required 2. at least one of password, pin, otp. */
export function checkFactorInput(c: Partial<FactorCredentials>): asserts c is FactorCredentials {
  if (typeof c.username !== "string" || c.username.trim().length === 0) throw new AuthError("invalid_request", "username is required");
  if (!c.password && !c.pin && !c.otp) throw new AuthError("invalid_request", "at least one of password, pin or otp is required");
  for (const k of ["username", "password", "pin", "otp"] as const) {
    const v = c[k];
    if (v !== undefined && (typeof v !== "string" || v.length > LIMITS[k])) throw new AuthError("invalid_request", `${k} is too long`);
  }
}

export async function authenticateWithFactors(svc: Services, scope: Scope, creds: FactorCredentials, opts: AuthenticateOptions = {}): Promise<AuthenticatedUser> {
  checkFactorInput(creds);
  // Everything that can be refused without touching a credential is checked first, so bad
  // input neither consumes a TOTP code nor counts as a failed attempt.
  const prior: StepUpClaims | null = opts.priorProof ? await verifyStepUp(svc, scope, opts.priorProof) : null;
  const scheme = opts.schemes ? await resolveSchemeModule(opts.schemes, scope, opts.schemeId, opts.moduleId) : {};
  const name = creds.username.toLowerCase();
  // `attempt` reserves this check on the user's counter, so parallel guesses cannot slip past
  // the threshold between the check and the failure being counted; every path settles it.
  // A failure is counted before the answer (the answer is the guesser's cue to try again, and
  // the lock and its Retry-After must already hold then); a success or a refusal that is not a
  // wrong credential settles after the answer (svc.defer, waitUntil), as passwordLogin does:
  // the reservation already counted, an unsettled one expires after the RateLimiter's
  // reservation timeout, and the answer no longer waits for a round trip to the counters.
  // The user is looked up while the attempt is reserved (one round trip instead of two).
  const authenticatedAt = Date.now();
  const lookup = svc.users.byUsername(scope.community.id, name);
  lookup.catch(() => undefined); // settled below; never an unhandled rejection when refused
  await svc.limiter.attempt(scope, "login", name);
  let settled = false;
  try {
    const found = await lookup;
    // A uid that is not the user's is answered like an unknown user: the same 401 after the
    // same work, so it cannot tell which usernames exist.
    const user = found && (opts.expectUid === undefined || opts.expectUid === found.uid) ? found : null;
    if (prior && (!user || prior.sub !== user.uid)) throw new AuthError("invalid_token", "the proof of authentication is for another user");

    const methods: string[] = [];
    const checks: Promise<boolean>[] = [];
    if (creds.password) {
      methods.push("pwd");
      checks.push(passwordMatches(svc, scope, user, creds.password));
    }
    if (creds.pin) {
      methods.push("pin");
      checks.push(pinMatches(svc, user, creds.pin));
    }
    const knowledgeOk = (await Promise.all(checks)).every(Boolean);
    // The OTP is checked (and so consumed) only when the other factors were right: a guessed
    // password must not burn the user's current code.
    let otpOk = true;
    if (creds.otp) {
      methods.push("otp");
      otpOk = knowledgeOk && (await verifyTotp(svc, scope, user, creds.otp));
    }
    if (!user || !knowledgeOk || !otpOk) {
      settled = true;
      await svc.limiter.attemptFailed(scope, "login", name);
      recordAudit(svc, scope, "login_failed", { userId: user?.uid ?? null, detail: { username: name, methods } });
      throw new AuthError("invalid_credentials", "invalid credentials");
    }
    if (user.disabled) {
      recordAudit(svc, scope, "login_refused_disabled", { userId: user.uid });
      throw new AuthError("user_disabled", "user is disabled");
    }
    settled = true;
    svc.defer(svc.limiter.attemptSucceeded(scope, "login", name));
    const amr = accumulateAmr(prior?.amr ?? [], methods);
    recordAudit(svc, scope, "login", { userId: user.uid, detail: { methods, amr, stepUp: prior !== null } });
    return { user, amr, methods, ...scheme, authenticatedAt, prior };
  } finally {
    if (!settled) svc.defer(svc.limiter.release(scope, "login", name));
  }
}
