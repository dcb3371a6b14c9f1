import type { AuthSchemeStore } from "../../storage/ports-authn";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { decideLogin } from "../journeys/login-policy";
import { recordAudit } from "../audit/audit";
import { authenticateWithFactors } from "./authenticate";
import { redeemKtoken } from "./ktokens";
import { issueProof, MAX_PROOF_TTL_SECONDS } from "./proofs";

/**
 * POST request/proof_of_authentication (seed 004): a service asks for a proof that a user
 * authenticated, by the user's credentials or by a ktoken. The document's rules:
 *  1. with a ktoken, username, password, pin and otp are not allowed;
 *  2. without one, the username is required;
 *  3. without one, at least one of password, otp or pin is required.
 * `methods` names what the proof must attest: each must have been verified by this request
 * (password/pwd, pin, otp/totp; ktoken and the methods it was minted from). The proof's `amr`
 * is what was verified, and it is bound to the forwarded client IP (`ip`).
 *
 * The authentication policy is asked too (issue 10): this is a login by a service on a user's
 * behalf, so a journey that denies the user, or wants a factor this request did not verify,
 * refuses the proof (403). The document gives this operation no need_mfa answer; the service
 * names the methods itself and asks again with the factor the message names.
 */
export interface ProofRequest {
  username?: string;
  uid?: string;
  moduleId?: string;
  password?: string;
  pin?: string;
  otp?: string;
  ktoken?: string;
  methods: string[];
  ttl?: number;
}

const METHOD_ALIASES: Record<string, string> = { password: "pwd", pwd: "pwd", pin: "pin", otp: "otp", totp: "otp", ktoken: "ktoken" };

/** Rules 1 to 3 and the method names, checked before any credential is touched. */
export function checkProofRequest(r: ProofRequest): string[] {
  if (r.ktoken !== undefined) {
    if (r.username !== undefined || r.password !== undefined || r.pin !== undefined || r.otp !== undefined) {
      throw new AuthError("invalid_request", "with ktoken, username, password, pin and otp are not allowed");
    }
  } else {
    if (!r.username) throw new AuthError("invalid_request", "username is required when ktoken is not provided");
    if (!r.password && !r.otp && !r.pin) throw new AuthError("invalid_request", "at least one of password, otp or pin is required when ktoken is not provided");
  }
  if (r.ttl !== undefined && (!Number.isInteger(r.ttl) || r.ttl < 1 || r.ttl > MAX_PROOF_TTL_SECONDS)) {
    throw new AuthError("invalid_request", `ttl must be an integer from 1 to ${MAX_PROOF_TTL_SECONDS} seconds`);
  }
  return r.methods.map((m) => {
    const a = METHOD_ALIASES[m.toLowerCase()];
    if (!a) throw new AuthError("invalid_request", `unknown method "${m}" (password, pin, otp, ktoken)`);
    return a;
  });
}

export async function requestProof(svc: Services, scope: Scope, schemes: AuthSchemeStore, r: ProofRequest, ip: string, policy: { application?: string } = {}): Promise<string> {
  const wanted = checkProofRequest(r);
  let verified: string[];
  let amr: string[];
  let user;
  let authenticatedAt: number | undefined;
  if (r.ktoken !== undefined) {
    const redeemed = await redeemKtoken(svc, scope, r.ktoken);
    user = redeemed.user;
    amr = redeemed.amr;
    verified = [...amr, "ktoken"];
  } else {
    const a = await authenticateWithFactors(
      svc,
      scope,
      { username: r.username!, ...(r.password ? { password: r.password } : {}), ...(r.pin ? { pin: r.pin } : {}), ...(r.otp ? { otp: r.otp } : {}) },
      { ...(r.moduleId ? { moduleId: r.moduleId, schemes } : {}), ...(r.uid !== undefined ? { expectUid: r.uid } : {}) },
    );
    user = a.user;
    amr = a.amr;
    verified = a.methods;
    authenticatedAt = a.authenticatedAt;
  }
  const missing = wanted.filter((m) => !verified.includes(m));
  if (missing.length) throw new AuthError("invalid_request", `methods not verified by this request: ${missing.join(", ")}`);
  const outcome = await decideLogin(svc, scope, { user, amr: verified, ...(policy.application ? { application: policy.application } : {}) });
  if (outcome.step !== "grant_access") {
    recordAudit(svc, scope, "login_denied_by_policy", { userId: user.uid, detail: { surface: "authn_proof", amr: verified, step: outcome.step, allowedFactors: outcome.allowedFactors } });
    throw new AuthError(
      "forbidden",
      outcome.step === "deny_access" ? "the authentication policy denied access" : `the authentication policy requires another factor: ${outcome.allowedFactors.join(" or ")}`,
    );
  }
  return issueProof(svc, scope, user, { amr, ip, ...(authenticatedAt !== undefined ? { authenticatedAt } : {}), ...(r.ttl !== undefined ? { ttlSeconds: r.ttl } : {}), ...(r.moduleId ? { moduleId: r.moduleId } : {}) });
}
