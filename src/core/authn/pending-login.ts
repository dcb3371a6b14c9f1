import { signJwt } from "../../crypto/jwt";
import { uuid } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { decideLogin } from "../journeys/login-policy";
import type { Facts } from "../journeys/model";
import { peekTokenAddress } from "../sessions/verify-issued";
import { tenantAudience, verifyTokenOfKind } from "../sessions/tokens";
import { tenantIssuer } from "../tenants/settings";
import { verifyProof } from "./proofs";

/**
 * The Authn API's answer when the authentication policy wants another factor (issue 10). The
 * document shows it for authenticate_with_liveid when a PIN is needed (seed 004, "Response
 * object If PIN needed"): `{ user_token, next: { step: "need_mfa", allowed_factors } }`; the
 * same shape is answered by authenticate and authenticate_with_ktoken, plus `next.idps` as
 * evaluate answers it.
 *
 * `user_token` is a pending login: an ES256 JWT of its own kind (typ `pending+jwt`,
 * `token_use: "pending"`), short-lived, naming the user and the methods already proven. It is
 * NOT a proof: every verifier of proofs (verifyProof: ktoken minting, factor enrolment,
 * evaluate's `jwt`, /jwt/verifyToken) and of access tokens demands its own typ and token_use
 * (crypto/jwt.ts), so it is refused everywhere by construction, including by a relying party
 * that verifies proofs against the JWKS. Only the step-up (`jwt` of authenticate and
 * authenticate_with_ktoken) opts in to it, through `verifyStepUp`. Like a proof it opens its
 * own session family in the TokenAuthority, so ending the user's sessions ends it too; a step
 * up that completes ends it (single use once it has served).
 */
export const PENDING_LOGIN_TTL_SECONDS = 300;

/** What a step-up starts from: the user and the methods already proven. */
export interface StepUpClaims {
  sub: string;
  sid: string;
  amr: string[];
  /** True for a pending login (user_token), false for a proof of authentication. */
  pending: boolean;
}

/** Signs a pending login for `user` after `amr`; opens its family like a proof does. */
export async function issuePendingLogin(svc: Services, scope: Scope, user: User, opts: { amr: string[]; ip: string; authenticatedAt?: number }): Promise<string> {
  const sid = uuid();
  const expiresAt = Date.now() + PENDING_LOGIN_TTL_SECONDS * 1000;
  const claims = { sid, amr: [...new Set(opts.amr)], ip: opts.ip, tenant: scope.tenant.id, community: user.communityId, username: user.username };
  const signing = { kind: "pending" as const, issuer: tenantIssuer(scope.tenant.id, scope.settings), audience: tenantAudience(scope.tenant.id), subject: user.uid, ttlSeconds: PENDING_LOGIN_TTL_SECONDS };
  const [, token] = await Promise.all([svc.authority.open(scope.tenant.id, user.uid, sid, null, expiresAt, expiresAt, opts.authenticatedAt, scope.locationHint), signJwt(svc.keyring, claims, signing)]);
  return token;
}

/** Verifies a pending login of this tenant and community (signature, typ, iss, aud, exp, family). */
export async function verifyPendingLogin(svc: Services, scope: Scope, token: string): Promise<StepUpClaims> {
  const c = await verifyTokenOfKind(svc, scope, token, "pending");
  if (c.community !== scope.community.id || c.tenant !== scope.tenant.id || !Array.isArray(c.amr) || !c.amr.every((m) => typeof m === "string")) {
    throw new AuthError("invalid_token", "the user_token is not for this community");
  }
  if (typeof c.sid !== "string" || !(await svc.authority.isActive(scope.tenant.id, c.sub, c.sid))) {
    throw new AuthError("token_revoked", "the user_token has been revoked or already used");
  }
  return { sub: c.sub, sid: c.sid, amr: c.amr as string[], pending: true };
}

/**
 * The `jwt` a step-up starts from: a proof of authentication, or (only here) a pending login.
 * The header's typ picks the verifier; each verifier then demands its own typ, so a token that
 * lies about its typ fails its signature-checked verification either way.
 */
export async function verifyStepUp(svc: Services, scope: Scope, token: string): Promise<StepUpClaims> {
  if (peekTokenAddress(token)?.typ === "pending+jwt") return verifyPendingLogin(svc, scope, token);
  const p = await verifyProof(svc, scope, token);
  return { sub: p.sub, sid: p.sid, amr: p.amr, pending: false };
}

/** Ends a pending login that has served (its step-up reached a decision). */
export async function endPendingLogin(svc: Services, scope: Scope, prior: StepUpClaims | null): Promise<void> {
  if (prior?.pending) await svc.authority.revokeFamily(scope.tenant.id, prior.sub, prior.sid, "pending_login_used");
}

/** The policy's word on an Authn login, shaped for the surface. */
export type AuthnLoginDecision =
  | { kind: "grant" }
  | { kind: "need_mfa"; userToken: string; allowedFactors: string[]; idps: string[] };

/**
 * Asks the policy about an Authn login whose credentials were right (core/journeys
 * login-policy.ts) and turns its answer into what authenticate answers:
 *  - grant_access: go on (the proof is the caller's to issue);
 *  - need_mfa: a pending login for the next step (no proof);
 *  - deny_access: AuthError "forbidden" (403), audited; no proof, no pending login.
 * `prior` (the step-up's starting token) is ended on grant and deny, and replaced on need_mfa.
 */
export async function authnLoginDecision(
  svc: Services,
  scope: Scope,
  q: { user: User; amr: string[]; application: string; device?: Partial<Facts>; ip: string; authenticatedAt?: number; prior: StepUpClaims | null },
): Promise<AuthnLoginDecision> {
  const outcome = await decideLogin(svc, scope, { user: q.user, amr: q.amr, ...(q.application ? { application: q.application } : {}), ...(q.device ? { device: q.device } : {}) });
  const journey = outcome.journey ? { journeyId: outcome.journey.id, journeyVersion: outcome.journey.version } : {};
  if (outcome.step === "deny_access") {
    await endPendingLogin(svc, scope, q.prior);
    recordAudit(svc, scope, "login_denied_by_policy", { userId: q.user.uid, detail: { surface: "authn", amr: q.amr, application: q.application, source: outcome.source, ...journey } });
    throw new AuthError("forbidden", "the authentication policy denied access");
  }
  if (outcome.step === "need_mfa") {
    const [userToken] = await Promise.all([
      issuePendingLogin(svc, scope, q.user, { amr: q.amr, ip: q.ip, ...(q.authenticatedAt !== undefined ? { authenticatedAt: q.authenticatedAt } : {}) }),
      endPendingLogin(svc, scope, q.prior),
    ]);
    recordAudit(svc, scope, "login_needs_mfa", { userId: q.user.uid, detail: { surface: "authn", amr: q.amr, allowedFactors: outcome.allowedFactors, source: outcome.source, ...journey } });
    return { kind: "need_mfa", userToken, allowedFactors: outcome.allowedFactors, idps: outcome.idps };
  }
  await endPendingLogin(svc, scope, q.prior);
  return { kind: "grant" };
}
