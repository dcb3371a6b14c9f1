import { signJwt } from "../../crypto/jwt";
import { uuid } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { tenantAudience, verifyTokenOfKind } from "../sessions/tokens";
import { tenantIssuer } from "../tenants/settings";

/**
 * The Authn API's `proof_of_authentication_jwt`: an ES256 JWT of kind `proof` (typ
 * `proof+jwt`) naming the user, the methods used (`amr`, RFC 8176 values) and the assurance
 * level they reach, plus the client IP it was issued to (`ip`), which /v2/jwt/verifyToken
 * compares with the caller's.
 *
 * Assurance (NIST SP 800-63B §4): one factor, or several of the same kind (password + PIN are
 * both "something you know"), is AAL1; a knowledge factor plus a possession factor (TOTP) is
 * AAL2. Claims: `aal` (1 | 2) and `acr` ("aal1" | "aal2").
 */
export const PROOF_TTL_SECONDS = 300;
export const MAX_PROOF_TTL_SECONDS = 3600;

/** RFC 8176 §2 method values used here; `ktoken` is this API's own. */
export type AuthMethod = "pwd" | "pin" | "otp" | "ktoken";
const KNOWLEDGE = new Set(["pwd", "pin"]);
/**
 * `sms` (a code sent to the user's verified phone) is possession: NIST SP 800-63B §5.1.3.3
 * allows the PSTN as a restricted out-of-band authenticator. `email_otp` is NOT: §5.1.3.1 says
 * methods that do not prove possession of a specific device, email among them, shall not be
 * used as out-of-band authenticators, so password + email code stays AAL1 (docs/security.md).
 * A recovery code carries `otp` (it stands in for TOTP; a look-up secret is something you have,
 * §5.1.2), so password + recovery code is AAL2 like password + TOTP.
 */
// uwl: the wallet's private key (core/uwl). Not here: face (LiveID) and behavior_auth (typing)
// are neither knowledge nor possession (a biometric is no authenticator alone, NIST SP 800-63B
// §5.2.3), so they never raise the AAL.
const POSSESSION = new Set(["otp", "hwk", "swk", "fido", "ktoken", "sms", "uwl"]);

/**
 * `mfa` (RFC 8176 §2) stands alone at AAL2: core/webauthn adds it when a FIDO authenticator
 * verified its user (a multi-factor cryptographic authenticator, NIST SP 800-63B §5.1.9).
 */
export function assuranceLevel(amr: readonly string[]): 1 | 2 {
  if (amr.includes("mfa")) return 2;
  const knows = amr.some((m) => KNOWLEDGE.has(m));
  const has = amr.some((m) => POSSESSION.has(m));
  return knows && has ? 2 : 1;
}

export interface ProofClaims {
  sub: string;
  sid: string;
  amr: string[];
  aal: 1 | 2;
  acr: string;
  ip: string;
  tenant: string;
  community: string;
  username: string;
  exp: number;
  iat: number;
}

export interface IssueProofOptions {
  amr: string[];
  /** The client IP the proof is bound to (the forwarded one for licensed service callers). */
  ip: string;
  ttlSeconds?: number;
  /** Scheme and module the caller named, recorded for the relying party. */
  schemeId?: string;
  moduleId?: string;
  /** When the credentials behind the proof were read: a proof checked before the user's
   * sessions were last ended (a racing reset) is born revoked. */
  authenticatedAt?: number;
}

/**
 * Signs a proof of authentication for `user`. Each proof opens its own session family (`sid`)
 * in the TokenAuthority, without refresh tokens, so revoking the user's sessions (password
 * change, disabling, logout everywhere) makes their proofs fail verification at once.
 */
export async function issueProof(svc: Services, scope: Scope, user: User, opts: IssueProofOptions): Promise<string> {
  const amr = [...new Set(opts.amr)];
  const aal = assuranceLevel(amr);
  const ttl = Math.min(opts.ttlSeconds ?? PROOF_TTL_SECONDS, MAX_PROOF_TTL_SECONDS);
  const sid = uuid();
  const expiresAt = Date.now() + ttl * 1000;
  const claims = {
    sid,
    amr,
    aal,
    acr: `aal${aal}`,
    ip: opts.ip,
    tenant: scope.tenant.id,
    community: user.communityId,
    username: user.username,
    auth_time: Math.floor(Date.now() / 1000),
    ...(opts.schemeId ? { scheme: opts.schemeId } : {}),
    ...(opts.moduleId ? { module: opts.moduleId } : {}),
  };
  const signing = {
    kind: "proof" as const,
    issuer: tenantIssuer(scope.tenant.id, scope.settings),
    audience: tenantAudience(scope.tenant.id),
    subject: user.uid,
    ttlSeconds: ttl,
  };
  // The family is opened while the token is signed; a failure to open it discards the token.
  const [, token] = await Promise.all([svc.authority.open(scope.tenant.id, user.uid, sid, null, expiresAt, expiresAt, opts.authenticatedAt, scope.locationHint), signJwt(svc.keyring, claims, signing)]);
  return token;
}

/**
 * Verifies a proof issued by this tenant for this community: signature, typ, iss, aud, exp.
 * Any failure is `invalid_token`.
 */
export async function verifyProof(svc: Services, scope: Scope, token: string): Promise<ProofClaims> {
  if (typeof token !== "string" || token.length === 0) throw new AuthError("invalid_token", "invalid proof of authentication");
  const c = await verifyTokenOfKind(svc, scope, token, "proof");
  if (c.community !== scope.community.id || !Array.isArray(c.amr) || !c.amr.every((m) => typeof m === "string")) {
    throw new AuthError("invalid_token", "proof of authentication is not for this community");
  }
  if (typeof c.sid !== "string" || !(await svc.authority.isActive(scope.tenant.id, c.sub, c.sid))) {
    throw new AuthError("token_revoked", "proof of authentication has been revoked");
  }
  return c as unknown as ProofClaims;
}

/** Merges earlier methods with new ones, earlier first, without repeats (step-up). */
export function accumulateAmr(earlier: readonly string[], now: readonly string[]): string[] {
  return [...new Set([...earlier, ...now])];
}
