import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { assuranceLevel, verifyProof } from "./proofs";

/**
 * Who may enrol a factor (extension routes TOTP enrol/confirm and PIN set): the user named by
 * a valid proof of authentication of this community. Replacing a factor the user already has
 * needs a proof that used that factor or reached AAL2; otherwise someone holding only the
 * password could swap the second factor for their own and pass "password + TOTP".
 */
export async function enrolmentUser(svc: Services, scope: Scope, proof: string, factor: "otp" | "pin"): Promise<User> {
  const claims = await verifyProof(svc, scope, proof);
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.communityId !== scope.community.id) throw new AuthError("invalid_token", "invalid proof of authentication");
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  const has = factor === "otp" ? user.totpSecretSealed !== null : user.pinHash !== null;
  if (has && !claims.amr.includes(factor) && assuranceLevel(claims.amr) < 2) {
    throw new AuthError("forbidden", `replacing an existing ${factor === "otp" ? "TOTP" : "PIN"} needs a proof that used it or reached AAL2`);
  }
  return user;
}
