import { AUTHENTICATOR_CURVES, normaliseAuthenticatorKey, verifyAuthenticatorSignature, type AuthenticatorCurve } from "../../crypto/authenticator-keys";
import { sha256Hex } from "../../crypto/hash";
import { randomToken, uuid } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { UwlAuthenticator } from "../../storage/ports-uwl-typing";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { verifyStepUp, type StepUpClaims } from "../authn/pending-login";
import { accumulateAmr } from "../authn/proofs";
import { stepUpEnrolmentUser } from "../authn/step-up-enrolment";

/**
 * UWL (seed 004 authenticate_with_uwl): the user's wallet app holds an ECDSA key pair whose
 * public key the user registered (extension route, with a proof of authentication); the
 * service issues a nonce for that key (extension route), the wallet signs it, and
 * authenticate_with_uwl checks the signature with the registered key. What it proves:
 * possession of the wallet's private key (amr `uwl`, a possession factor).
 *
 * The nonce: 256 random bits, for one (username, authenticator key) pair, 120 s, KV record
 * under its SHA-256, used once (OnceGuard Durable Object: of any number of racing logins with
 * one nonce exactly one wins). The message signed is the nonce string itself, UTF-8.
 *
 * No enumeration: issuing a nonce reads nothing about the user (everyone gets one), and at
 * login an unknown user, a user without that authenticator, a wrong key or a bad signature all
 * answer `invalid_credentials` after the same work (the signature is always verified).
 */
export const UWL_NONCE_TTL_SECONDS = 120;
export const UWL_NONCE_PREFIX = "uwl-nonce";
/** Nonces one IP may ask for per minute (they cost a KV write each). */
export const UWL_NONCES_PER_MINUTE = 120;
export const MAX_UWL_AUTHENTICATORS = 10;
const AMR = "uwl";

interface NonceRecord {
  tenantId: string;
  communityId: string;
  username: string;
  publicKey: string;
  curve: AuthenticatorCurve;
  expiresAt: number;
}

function curveOrNull(c: string | undefined): AuthenticatorCurve | null | undefined {
  if (c === undefined) return undefined;
  return (AUTHENTICATOR_CURVES as readonly string[]).includes(c) ? (c as AuthenticatorCurve) : null;
}

/** Normalises a key on the named curve, or on the first curve it lies on (secp256k1 first, the envelope's default). */
export function parseAuthenticatorKey(publicKey: string, curve?: string): { publicKey: string; curve: AuthenticatorCurve } | null {
  const named = curveOrNull(curve);
  if (named === null) return null;
  for (const c of named ? [named] : (["secp256k1", "P-256"] as const)) {
    const k = normaliseAuthenticatorKey(publicKey, c);
    if (k) return { publicKey: k, curve: c };
  }
  return null;
}

/** The public view of an authenticator (registration and list answers). */
export function authenticatorView(a: UwlAuthenticator) {
  return { id: a.id, name: a.name, curve: a.curve, publicKey: a.publicKey, created_at: a.createdAt, last_used_at: a.lastUsedAt };
}

/** Registers the wallet key of the user a proof names (extension). */
export async function registerUwlAuthenticator(svc: Services, scope: Scope, proof: string, input: { publicKey: string; curve?: string; name?: string }): Promise<UwlAuthenticator> {
  const key = parseAuthenticatorKey(input.publicKey, input.curve);
  if (!key) throw new AuthError("invalid_request", "publicKey is not a P-256 or secp256k1 public key in a supported encoding");
  const user = await stepUpEnrolmentUser(svc, scope, proof, AMR, async (u) => (await svc.uwlAuthenticators.listForUser(scope.tenant.id, u.uid)).length > 0);
  const existing = await svc.uwlAuthenticators.listForUser(scope.tenant.id, user.uid);
  if (existing.length >= MAX_UWL_AUTHENTICATORS) throw new AuthError("conflict", `at most ${MAX_UWL_AUTHENTICATORS} UWL authenticators per user`);
  const a: UwlAuthenticator = {
    id: uuid(),
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    userUid: user.uid,
    publicKey: key.publicKey,
    curve: key.curve,
    name: input.name?.trim() || "UWL authenticator",
    createdAt: Date.now(),
    lastUsedAt: null,
  };
  if (!(await svc.uwlAuthenticators.add(a))) throw new AuthError("conflict", "this authenticator is already registered");
  recordAudit(svc, scope, "uwl_authenticator_registered", { userId: user.uid, detail: { id: a.id, curve: a.curve } });
  return a;
}

/** Lists (with a proof) the user's authenticators (extension). */
export async function listUwlAuthenticators(svc: Services, scope: Scope, proof: string): Promise<UwlAuthenticator[]> {
  const user = await stepUpEnrolmentUser(svc, scope, proof, AMR, async () => false);
  return svc.uwlAuthenticators.listForUser(scope.tenant.id, user.uid);
}

/** Removes one of the user's authenticators; the same rule as adding one (extension). */
export async function removeUwlAuthenticator(svc: Services, scope: Scope, proof: string, id: string): Promise<void> {
  const user = await stepUpEnrolmentUser(svc, scope, proof, AMR, async () => true);
  if (!(await svc.uwlAuthenticators.remove(scope.tenant.id, user.uid, id))) throw new AuthError("not_found", "no such authenticator");
  recordAudit(svc, scope, "uwl_authenticator_removed", { userId: user.uid, detail: { id } });
}

/** Issues a nonce for (username, authenticator key). Reads nothing about the user (no enumeration). */
export async function issueUwlNonce(svc: Services, scope: Scope, input: { username: string; publicKey: string; curve?: string }): Promise<{ nonce: string; expires_in: number }> {
  const username = input.username.trim().toLowerCase();
  if (username.length === 0 || username.length > 256) throw new AuthError("invalid_request", "username is required");
  const key = parseAuthenticatorKey(input.publicKey, input.curve);
  if (!key) throw new AuthError("invalid_request", "authenticator_publickey is not a P-256 or secp256k1 public key in a supported encoding");
  await svc.limiter.limit(`uwl-nonce:${scope.tenant.id}:${scope.ip}`, UWL_NONCES_PER_MINUTE, 60, scope);
  const nonce = randomToken();
  const rec: NonceRecord = { tenantId: scope.tenant.id, communityId: scope.community.id, username, ...key, expiresAt: Date.now() + UWL_NONCE_TTL_SECONDS * 1000 };
  await svc.secrets.put(UWL_NONCE_PREFIX, await sha256Hex(nonce), rec, UWL_NONCE_TTL_SECONDS);
  return { nonce, expires_in: UWL_NONCE_TTL_SECONDS };
}

export interface UwlLogin {
  username: string;
  authenticatorDid: string;
  authenticatorPublicKey: string;
  nonce: string;
  nonceSignature: string;
  jwt?: string;
}

export interface UwlAuthenticated {
  user: User;
  amr: string[];
  authenticatedAt: number;
  prior: StepUpClaims | null;
}

/**
 * authenticate_with_uwl's check: the nonce was issued for this username and key, the key is
 * registered to the user, the signature over the nonce is the key's, and the nonce was not
 * used. Failures count on the user's and the IP's "uwl" counters (core/limits).
 */
export async function authenticateWithUwl(svc: Services, scope: Scope, q: UwlLogin): Promise<UwlAuthenticated> {
  // The step-up token is checked first: a bad one neither spends the nonce nor counts.
  const prior = q.jwt ? await verifyStepUp(svc, scope, q.jwt) : null;
  const name = q.username.trim().toLowerCase();
  const digest = await sha256Hex(q.nonce);
  const authenticatedAt = Date.now();
  const lookups = Promise.all([svc.secrets.get<NonceRecord>(UWL_NONCE_PREFIX, digest), svc.users.byUsername(scope.community.id, name)]);
  lookups.catch(() => undefined); // settled below
  await svc.limiter.attempt(scope, "uwl", name);
  let settled = false;
  try {
    const [rec, found] = await lookups;
    const live = rec && rec.tenantId === scope.tenant.id && rec.communityId === scope.community.id && rec.username === name && rec.expiresAt > Date.now() ? rec : null;
    // The same work whatever is missing: parse and verify with the key the caller sent.
    const key = parseAuthenticatorKey(q.authenticatorPublicKey, live?.curve);
    const signed = key !== null && verifyAuthenticatorSignature(key.publicKey, key.curve, q.nonce, q.nonceSignature);
    const user = found && found.tenantId === scope.tenant.id ? found : null;
    const registered = user && key ? await svc.uwlAuthenticators.findByKey(scope.tenant.id, user.uid, key.publicKey) : null;
    if (prior && (!user || prior.sub !== user.uid)) throw new AuthError("invalid_token", "the proof of authentication is for another user");
    const ok = live !== null && key !== null && key.publicKey === live.publicKey && signed && registered !== null;
    // Single use, decided once, only for a login that is otherwise right (a forged signature
    // does not burn the user's nonce).
    const won = ok && (await svc.once.claim(`${UWL_NONCE_PREFIX}:${scope.tenant.id}`, digest, live.expiresAt));
    if (!ok || !won || !user || !registered) {
      settled = true;
      await svc.limiter.attemptFailed(scope, "uwl", name);
      recordAudit(svc, scope, "login_failed", { userId: user?.uid ?? null, detail: { username: name, methods: [AMR], replay: ok && !won } });
      throw new AuthError("invalid_credentials", "invalid credentials");
    }
    svc.defer(svc.secrets.delete(UWL_NONCE_PREFIX, digest));
    if (user.disabled) {
      recordAudit(svc, scope, "login_refused_disabled", { userId: user.uid });
      throw new AuthError("user_disabled", "user is disabled");
    }
    settled = true;
    svc.defer(svc.limiter.attemptSucceeded(scope, "uwl", name));
    svc.defer(svc.uwlAuthenticators.touch(scope.tenant.id, registered.id, Date.now()));
    const amr = accumulateAmr(prior?.amr ?? [], [AMR]);
    recordAudit(svc, scope, "login", { userId: user.uid, detail: { methods: [AMR], amr, stepUp: prior !== null, authenticator: registered.id, did: q.authenticatorDid.slice(0, 256) } });
    return { user, amr, authenticatedAt, prior };
  } finally {
    if (!settled) svc.defer(svc.limiter.release(scope, "uwl", name));
  }
}
