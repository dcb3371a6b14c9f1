import { sha256Hex } from "../../crypto/hash";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { verifyStepUp, type StepUpClaims } from "../authn/pending-login";
import { accumulateAmr } from "../authn/proofs";
import { stepUpEnrolmentUser } from "../authn/step-up-enrolment";
import { accepts, canonicalPattern, MAX_ENROL_SAMPLES, MIN_ENROL_SAMPLES, parsePattern, train, type TypingModel } from "./detector";

/**
 * The typing-pattern factor (seed 004 authenticate_with_behavior_auth; issue 11). What it
 * proves is weak: that whoever typed the phrase types it with timings like the enrolled
 * user's (detector.ts; docs/security.md "Typing pattern" has the measured error rates). Timings
 * can be recorded and replayed by anyone who captured them, so:
 *  - it never stands alone: authenticate_with_behavior_auth requires `jwt` (a proof or a
 *    pending `user_token` of the same user) and only adds `behavior_auth` to its amr;
 *  - an exact repeat of a pattern already seen for the user (enrolment or an accepted login)
 *    is refused as a replay: the profile keeps the SHA-256 of the last REPLAY_MEMORY canonical
 *    patterns, and the OnceGuard decides concurrent repeats (of 20 racing identical patterns,
 *    at most one is accepted);
 *  - it is not knowledge nor possession, so it never raises the proof's AAL (proofs.ts).
 */
export const REPLAY_MEMORY = 500;
const AMR = "behavior_auth";
/** How long the OnceGuard remembers a pattern digest (the profile's list keeps the rest). */
const ONCE_TTL_MS = 30 * 24 * 3600 * 1000;

interface ProfileBody {
  model: TypingModel;
  /** SHA-256 (hex) of canonical patterns seen, oldest first. */
  seen: string[];
}

function parseBody(body: string): ProfileBody | null {
  try {
    const b = JSON.parse(body) as ProfileBody;
    if (!b || typeof b !== "object" || !b.model || !Array.isArray(b.model.mean) || !Array.isArray(b.seen)) return null;
    return b;
  } catch {
    return null;
  }
}

const digestOf = (tenantId: string, uid: string, v: readonly number[]) => sha256Hex(`${tenantId}:${uid}:${canonicalPattern(v)}`);

/** Enrols (or replaces) the typing profile of the user a proof names, from `patterns` (extension). */
export async function enrolTypingProfile(svc: Services, scope: Scope, proof: string, patterns: readonly string[]): Promise<{ samples: number; features: number }> {
  if (patterns.length < MIN_ENROL_SAMPLES || patterns.length > MAX_ENROL_SAMPLES) {
    throw new AuthError("invalid_request", `patterns must hold ${MIN_ENROL_SAMPLES} to ${MAX_ENROL_SAMPLES} typings`);
  }
  const vectors: number[][] = [];
  for (const [i, p] of patterns.entries()) {
    const v = parsePattern(p);
    if (!v) throw new AuthError("invalid_request", `patterns[${i}] is not a typing pattern (comma-separated milliseconds, 5 to 64 numbers)`);
    if (vectors.length > 0 && v.length !== vectors[0]!.length) throw new AuthError("invalid_request", `patterns[${i}] has ${v.length} features, patterns[0] has ${vectors[0]!.length}`);
    vectors.push(v);
  }
  const user = await stepUpEnrolmentUser(svc, scope, proof, AMR, async (u) => (await svc.typingProfiles.get(scope.tenant.id, u.uid)) !== null);
  const seen = [...new Set(await Promise.all(vectors.map((v) => digestOf(scope.tenant.id, user.uid, v))))];
  const body: ProfileBody = { model: train(vectors), seen };
  await svc.typingProfiles.put(scope.tenant.id, user.uid, JSON.stringify(body), vectors.length, Date.now());
  recordAudit(svc, scope, "typing_profile_enrolled", { userId: user.uid, detail: { samples: vectors.length, features: vectors[0]!.length } });
  return { samples: vectors.length, features: vectors[0]!.length };
}

export interface TypingAuthenticated {
  user: User;
  amr: string[];
  authenticatedAt: number;
  prior: StepUpClaims;
}

/**
 * authenticate_with_behavior_auth's check. Requires the step-up `jwt`; the pattern must parse,
 * match the user's profile and not repeat one already seen. Unknown users, users without a
 * profile, rejected and replayed patterns all answer `invalid_credentials` after the same
 * work, and count on the "behavior_auth" counters.
 */
export async function authenticateWithTyping(svc: Services, scope: Scope, q: { username: string; pattern: string; jwt?: string }): Promise<TypingAuthenticated> {
  if (!q.jwt) throw new AuthError("invalid_request", "jwt is required: a typing pattern only steps up an earlier factor (docs/api/authn.md)");
  const vector = parsePattern(q.pattern);
  if (!vector) throw new AuthError("invalid_request", "pattern is not a typing pattern (comma-separated milliseconds, 5 to 64 numbers)");
  const prior = await verifyStepUp(svc, scope, q.jwt);
  const name = q.username.trim().toLowerCase();
  const authenticatedAt = Date.now();
  const lookup = svc.users.byUsername(scope.community.id, name);
  lookup.catch(() => undefined);
  await svc.limiter.attempt(scope, AMR, name);
  let settled = false;
  try {
    const user = await lookup;
    if (!user || prior.sub !== user.uid) throw new AuthError("invalid_token", "the proof of authentication is for another user");
    const row = await svc.typingProfiles.get(scope.tenant.id, user.uid);
    const body = row ? parseBody(row.body) : null;
    const digest = await digestOf(scope.tenant.id, user.uid, vector);
    const matches = body !== null && accepts(body.model, vector);
    const repeat = body !== null && body.seen.includes(digest);
    const won = matches && !repeat && (await svc.once.claim(`typing:${scope.tenant.id}:${user.uid}`, digest, Date.now() + ONCE_TTL_MS, scope.locationHint));
    if (!won || !row || !body) {
      settled = true;
      await svc.limiter.attemptFailed(scope, AMR, name);
      recordAudit(svc, scope, "login_failed", { userId: user.uid, detail: { username: name, methods: [AMR], replay: repeat || (matches && !won) } });
      throw new AuthError("invalid_credentials", "invalid credentials");
    }
    if (user.disabled) {
      recordAudit(svc, scope, "login_refused_disabled", { userId: user.uid });
      throw new AuthError("user_disabled", "user is disabled");
    }
    settled = true;
    svc.defer(svc.limiter.attemptSucceeded(scope, AMR, name));
    // Remember the accepted pattern (a lost revision race is harmless: the OnceGuard has it).
    const next: ProfileBody = { model: body.model, seen: [...body.seen, digest].slice(-REPLAY_MEMORY) };
    svc.defer(svc.typingProfiles.update(scope.tenant.id, user.uid, row.revision, JSON.stringify(next), Date.now()));
    const amr = accumulateAmr(prior.amr, [AMR]);
    recordAudit(svc, scope, "login", { userId: user.uid, detail: { methods: [AMR], amr, stepUp: true } });
    return { user, amr, authenticatedAt, prior };
  } finally {
    if (!settled) svc.defer(svc.limiter.release(scope, AMR, name));
  }
}
