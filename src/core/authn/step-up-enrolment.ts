import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { assuranceLevel, verifyProof } from "./proofs";

/**
 * Who may enrol a UWL authenticator or a typing profile (extension routes): the user named by
 * a valid proof_of_authentication_jwt of this community, as for TOTP and the PIN
 * (core/authn/factors.ts enrolmentUser). A user who already has the factor adds to or replaces
 * it only with a proof that used that factor (`amr`) or reached AAL2: otherwise whoever holds
 * the password alone could enrol their own wallet or their own typing and pass a step-up.
 */
export async function stepUpEnrolmentUser(svc: Services, scope: Scope, proof: string, amr: string, has: (user: User) => Promise<boolean>): Promise<User> {
  const claims = await verifyProof(svc, scope, proof);
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.communityId !== scope.community.id) throw new AuthError("invalid_token", "invalid proof of authentication");
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  if (!claims.amr.includes(amr) && assuranceLevel(claims.amr) < 2 && (await has(user))) {
    throw new AuthError("forbidden", `changing an enrolled ${amr} factor needs a proof that used it or reached AAL2`);
  }
  return user;
}
