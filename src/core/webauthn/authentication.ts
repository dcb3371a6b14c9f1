import { generateAuthenticationOptions, verifyAuthenticationResponse, type AuthenticationResponseJSON, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { fromBase64Url, fromUtf8, toBase64Url } from "../../crypto/encoding";
import { hmacSha256 } from "../../crypto/hash";
import type { User } from "../../storage/ports";
import type { WebAuthnCredentialRecord } from "../../storage/ports-webauthn";
import { recordAudit } from "../audit/audit";
import type { StepUpClaims } from "../authn/pending-login";
import { accumulateAmr } from "../authn/proofs";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { challengeOfClientData, consumeChallenge, findChallenge, issueChallenge } from "./challenges";
import type { RelyingParty } from "./relying-party";

/**
 * Sign-in with a WebAuthn credential (W3C WebAuthn L3 §7.2 "Verifying an Authentication
 * Assertion"), the core of `authenticate_with_fido` (seed 004).
 *
 * - Options: a challenge (single use, 5 minutes) and, for a username, the user's credentials
 *   as allowCredentials; without one, an empty list (discoverable credentials: the
 *   authenticator picks the account and returns its user handle).
 * - User verification (§6.2.3) is required for passwordless use (no earlier proof) and only
 *   preferred for a second factor (step-up from a proof or pending login).
 * - The signature counter (§6.1.1, §7.2 step 21): a counter that does not increase, when either
 *   the stored or the received one is non-zero, means the credential may have been cloned: the
 *   sign-in is refused and the audit log says so (`webauthn_counter_regressed`). Both zero is an
 *   authenticator without a counter (most passkeys) and is allowed.
 * - amr: `fido`; with user verification also `mfa` (RFC 8176 §2): an authenticator that
 *   verified its user is a multi-factor cryptographic authenticator, AAL2 on its own
 *   (NIST SP 800-63B §5.1.9).
 */
const FAKE_PURPOSE = "webauthn-unknown-user";

export interface AuthenticationOptionsInput {
  username?: string;
  /** A step-up (the caller will send a jwt): user verification is preferred, not required. */
  stepUp: boolean;
}

/**
 * Request options for `navigator.credentials.get()`. For a username that has no credential
 * (or does not exist), allowCredentials holds one made-up ID derived from the username by a
 * keyed hash, stable across calls, so the answer does not tell which usernames have passkeys
 * (WebAuthn L3 §14.6.2 "Username Enumeration").
 */
export async function authenticationOptions(svc: Services, scope: Scope, rp: RelyingParty, q: AuthenticationOptionsInput): Promise<PublicKeyCredentialRequestOptionsJSON> {
  let allow: { id: string; transports?: string[] }[] = [];
  const name = q.username?.toLowerCase();
  if (name !== undefined) {
    const user = await svc.users.byUsername(scope.community.id, name);
    const creds = user && !user.disabled ? await svc.webauthn.listForUser(scope.tenant.id, user.uid) : [];
    allow = creds.filter((c) => c.communityId === scope.community.id).map((c) => ({ id: c.credentialId, ...(c.transports ? { transports: c.transports } : {}) }));
    if (allow.length === 0) {
      const fake = await hmacSha256(svc.config.keyEncryptionSecret, `${FAKE_PURPOSE}\u0000${scope.tenant.id}\u0000${scope.community.id}\u0000${name}`);
      allow = [{ id: toBase64Url(fake) }];
    }
  }
  // The challenge is bound to the username asked for: it serves no other user's credential.
  const { bytes, ttlMs } = await issueChallenge(svc, scope, "authentication", name !== undefined ? { username: name } : {});
  return generateAuthenticationOptions({
    rpID: rp.rpID,
    allowCredentials: allow,
    challenge: new Uint8Array(bytes),
    timeout: ttlMs,
    userVerification: q.stepUp ? "preferred" : "required",
  });
}

export interface AssertionInput {
  username?: string;
  assertion: AuthenticationResponseJSON;
  /** The verified step-up token (jwt), or null for passwordless use. */
  prior: StepUpClaims | null;
}

export interface FidoSignIn {
  user: User;
  credential: WebAuthnCredentialRecord;
  amr: string[];
  userVerified: boolean;
  authenticatedAt: number;
}

const REFUSED = "invalid WebAuthn assertion";

/**
 * Verifies an assertion and uses its challenge up. Every refusal about the credential (unknown,
 * another user's, another community's or tenant's, wrong signature, origin or RP ID) is the same
 * `invalid_credentials`, counted on the login limiter like a wrong password.
 */
export async function verifyAssertion(svc: Services, scope: Scope, rp: RelyingParty, q: AssertionInput): Promise<FidoSignIn> {
  // Input that is not an assertion at all is refused before anything is looked up or counted.
  const challenge = challengeOfClientData(q.assertion.response.clientDataJSON);
  const rec = await findChallenge(svc, scope, challenge, "authentication");
  const authenticatedAt = Date.now();
  const stored = await svc.webauthn.byCredentialId(scope.tenant.id, q.assertion.id);
  const owner = stored && stored.communityId === scope.community.id ? await svc.users.byUid(scope.tenant.id, stored.userUid) : null;
  const named = q.username?.toLowerCase();
  // The limiter's subject: the username named, else the credential's owner, else the credential.
  const subject = named ?? owner?.username.toLowerCase() ?? `fido:${q.assertion.id.slice(0, 128)}`;
  await svc.limiter.attempt(scope, "login", subject);
  let settled = false;
  try {
    const user =
      owner &&
      owner.communityId === scope.community.id &&
      (named === undefined || owner.username.toLowerCase() === named) &&
      (rec.username === null || rec.username === owner.username.toLowerCase()) &&
      // A discoverable credential's user handle is the uid it was registered with (§7.2 step 6).
      (!q.assertion.response.userHandle || userHandleIs(q.assertion.response.userHandle, owner.uid))
        ? owner
        : null;
    if (user && q.prior && q.prior.sub !== user.uid) throw new AuthError("invalid_token", "the proof of authentication is for another user");
    let info: Awaited<ReturnType<typeof verifyAuthenticationResponse>>["authenticationInfo"] | null = null;
    if (user && stored) {
      try {
        const v = await verifyAuthenticationResponse({
          response: q.assertion,
          expectedChallenge: challenge,
          expectedOrigin: rp.origins,
          expectedRPID: rp.rpIDs,
          // The counter is judged below, after the signature: an unsigned counter proves nothing.
          credential: { id: stored.credentialId, publicKey: new Uint8Array(fromBase64Url(stored.publicKey)), counter: 0, ...(stored.transports ? { transports: stored.transports } : {}) },
          requireUserVerification: false,
        });
        info = v.verified ? v.authenticationInfo : null;
      } catch {
        info = null;
      }
    }
    if (!user || !stored || !info) {
      settled = true;
      await svc.limiter.attemptFailed(scope, "login", subject);
      recordAudit(svc, scope, "login_failed", { userId: user?.uid ?? null, detail: { methods: ["fido"], ...(named ? { username: named } : {}) } });
      throw new AuthError("invalid_credentials", REFUSED);
    }
    if (!q.prior && !info.userVerified) {
      settled = true;
      await svc.limiter.attemptFailed(scope, "login", subject);
      recordAudit(svc, scope, "login_failed", { userId: user.uid, detail: { methods: ["fido"], reason: "user_verification_missing" } });
      throw new AuthError("invalid_credentials", "user verification is required for passwordless sign-in with a passkey");
    }
    // Single use: of any number of identical or racing responses exactly one gets past here.
    await consumeChallenge(svc, scope, rec);
    if (!(await svc.webauthn.recordUse(scope.tenant.id, stored.id, info.newCounter, info.credentialBackedUp, Date.now()))) {
      settled = true;
      await svc.limiter.attemptFailed(scope, "login", subject);
      recordAudit(svc, scope, "webauthn_counter_regressed", {
        userId: user.uid,
        detail: { credential: stored.id, stored: stored.counter, received: info.newCounter, note: "signature counter did not increase: possible cloned authenticator (WebAuthn L3 §6.1.1)" },
      });
      throw new AuthError("invalid_credentials", "the authenticator's signature counter went backwards: possible cloned authenticator; sign-in refused");
    }
    if (user.disabled) {
      recordAudit(svc, scope, "login_refused_disabled", { userId: user.uid });
      throw new AuthError("user_disabled", "user is disabled");
    }
    settled = true;
    svc.defer(svc.limiter.attemptSucceeded(scope, "login", subject));
    const methods = info.userVerified ? ["fido", "mfa"] : ["fido"];
    const amr = accumulateAmr(q.prior?.amr ?? [], methods);
    recordAudit(svc, scope, "login", { userId: user.uid, detail: { methods, amr, stepUp: q.prior !== null, credential: stored.id } });
    return { user, credential: stored, amr, userVerified: info.userVerified, authenticatedAt };
  } finally {
    if (!settled) svc.defer(svc.limiter.release(scope, "login", subject));
  }
}

function userHandleIs(handle: string, uid: string): boolean {
  try {
    return fromUtf8(fromBase64Url(handle)) === uid;
  } catch {
    return false;
  }
}
