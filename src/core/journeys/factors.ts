/**
 * The authentication factors a journey's decision names (seed 004 "decision.authenticationMethods")
 * and their `amr` values in tokens (RFC 8176 §2 where it has one; our own names otherwise).
 *
 * A method is one factor or several joined by `_and_` (`password_and_otp`): all of them are
 * needed. A decision's methods are alternatives: any one satisfies it.
 */

export const FACTORS = ["password", "pin", "otp", "email_otp", "sms_otp", "fido", "ktoken", "uwl", "liveid", "behavior_auth", "idp_redirect"] as const;
export type Factor = (typeof FACTORS)[number];

const FACTOR_SET: ReadonlySet<string> = new Set(FACTORS);

/** Whether `f` is a known factor name. */
export function isFactor(f: string): f is Factor {
  return FACTOR_SET.has(f);
}

/** The factors of one method: `password_and_otp` -> [password, otp] (unchecked; see isFactor). */
export function splitMethod(m: string): string[] {
  return m.split("_and_");
}

/** factor -> amr (RFC 8176 §2: pwd, pin, otp, sms, fido... ; face for liveness, fed for a federated login). */
const AMR_OF: Readonly<Record<Factor, string>> = {
  password: "pwd",
  pin: "pin",
  otp: "otp",
  email_otp: "email_otp",
  sms_otp: "sms",
  fido: "fido",
  ktoken: "ktoken",
  uwl: "uwl",
  liveid: "face",
  behavior_auth: "behavior_auth",
  idp_redirect: "fed",
};

const FACTOR_OF: ReadonlyMap<string, Factor> = new Map<string, Factor>([
  ...(Object.entries(AMR_OF) as [Factor, string][]).map(([f, a]) => [a, f] as [string, Factor]),
  // A hardware or software key proves the same as a FIDO authenticator (RFC 8176 §2 hwk, swk).
  ["hwk", "fido"],
  ["swk", "fido"],
]);

/** The amr value a factor puts in a token; an unknown name is returned as it is. */
export function amrOfFactor(f: string): string {
  return isFactor(f) ? AMR_OF[f] : f;
}

/** The factors a token's amr proves, in order, de-duplicated; amr values that are no factor (`mfa`) are left out. */
export function factorsFromAmr(amr: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of amr) {
    const f = FACTOR_OF.get(a);
    if (f !== undefined && !out.includes(f)) out.push(f);
  }
  return out;
}
