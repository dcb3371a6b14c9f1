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
export async function enrolmentUser(svc: Services, scope: Scope, proof: string, factor: "otp" | "pin" | "fido" | null): Promise<User> {
  const claims = await verifyProof(svc, scope, proof);
  const user = await svc.users.byUid(scope.tenant.id, claims.sub);
  if (!user || user.communityId !== scope.community.id) throw new AuthError("invalid_token", "invalid proof of authentication");
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  if (factor === null) return user; // listing or renaming WebAuthn credentials: the proof alone suffices
  // WebAuthn (core/webauthn): adding or deleting a credential when the user already has one
  // follows the same rule, so a password alone cannot add an attacker's passkey to an account
  // that has one, nor remove the user's.
  const has =
    factor === "otp" ? user.totpSecretSealed !== null : factor === "pin" ? user.pinHash !== null : (await svc.webauthn.listForUser(scope.tenant.id, user.uid)).length > 0;
  if (has && !claims.amr.includes(factor) && assuranceLevel(claims.amr) < 2) {
    const label = factor === "otp" ? "TOTP" : factor === "pin" ? "PIN" : "WebAuthn credential";
    throw new AuthError("forbidden", `changing an existing ${label} needs a proof that used it or reached AAL2`);
  }
  return user;
}
