import type { User } from "../../storage/ports";
import type { ClaimMapping } from "../../storage/ports-idp";
import { AC_MOBILE_TWO_FACTOR, AC_PASSWORD_PROTECTED_TRANSPORT, type SamlAttribute } from "../../protocols/saml/assertion";
import { claimValue, type SessionFacts } from "../oidc-provider/claims";
import { AuthError } from "../errors";
import type { SamlSp } from "./service-provider";

/**
 * What the assertion says about the user: its NameID and attributes from the SP's
 * saml_config (seed 004 `nameid`, `attributes[]`), resolved by the same code as OIDC claims
 * (core/oidc-provider/claims.ts `claimValue`, over core/idps/attributes.ts' closed allow-lists):
 *
 * - static: the configured value;
 * - dynamic identity: a user field (uid, username, email, given_name, groups, roles, ...);
 * - dynamic session: a fact of this sign-in (auth_time, amr, acr, sid);
 * - ledger: read as identity. The document names a ledger this deployment does not keep; for
 *   SAML an admin writing `ledger` means "the user's attribute", so the same name is looked
 *   up in the user record (OIDC leaves such claims out: docs/api/oidc.md).
 *
 * Values become xs:string: lists one AttributeValue each, booleans and numbers as text, an
 * address its `formatted` text. An attribute without a value is left out.
 */

/** Facts of the sign-in the assertion reports. */
export interface SignInFacts {
  /** The SSO session id: the AuthnStatement's SessionIndex. */
  sid: string;
  /** Epoch seconds. */
  authTime: number;
  amr: string[];
  acr: string;
}

const NAMEID_URN: Record<string, string> = {
  unspecified: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
  emailAddress: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
  X509SubjectName: "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName",
  WindowsDomainQualifiedName: "urn:oasis:names:tc:SAML:1.1:nameid-format:WindowsDomainQualifiedName",
  kerberos: "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos",
  entity: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity",
  persistent: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
  transient: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
};
export const NAMEID_FORMATS = Object.values(NAMEID_URN);
const TRANSIENT = NAMEID_URN.transient!;
const PERSISTENT = NAMEID_URN.persistent!;

/** A NameID format's URN (SAML Core §8.3) from the document's short name or the URN itself. */
export function nameIdFormatUrn(format: string): string {
  return NAMEID_URN[format] ?? format;
}

function facts(sp: SamlSp, s: SignInFacts): SessionFacts {
  return { authTime: s.authTime, amr: s.amr, acr: s.acr, sid: s.sid, clientId: sp.entityId, scopes: [] };
}

/** An attribute value as xs:string values; [] when it has none. */
export function stringValues(v: unknown): string[] {
  if (v === undefined || v === null || v === "") return [];
  if (Array.isArray(v)) return v.flatMap((x) => stringValues(x));
  if (typeof v === "string") return [v];
  if (typeof v === "number" || typeof v === "boolean") return [String(v)];
  if (typeof v === "object") {
    const f = (v as Record<string, unknown>).formatted;
    return typeof f === "string" && f ? [f] : [JSON.stringify(v)];
  }
  return [];
}

const asIdentity = (m: ClaimMapping): ClaimMapping => (m.attribute_type === "ledger" ? { ...m, attribute_type: "identity" } : m);

/** The configured attributes' values for this user and sign-in (first mapping of a name wins). */
export function resolveAttributes(sp: SamlSp, user: User, signIn: SignInFacts): SamlAttribute[] {
  const out = new Map<string, string[]>();
  for (const a of sp.attributes) {
    if (out.has(a.claim_name)) continue;
    const values = stringValues(claimValue(asIdentity(a), user, facts(sp, signIn)));
    if (values.length) out.set(a.claim_name, values);
  }
  return [...out].map(([name, values]) => ({ name, values }));
}

/**
 * The Subject's NameID (SAML Core §2.2.3, §8.3). With saml_config.nameid: its format, and the
 * value of the attribute that `value` names, read like a dynamic attribute of its
 * attribute_type; a name with no value for this user refuses the sign-in rather than send an
 * empty or wrong subject. Transient formats get a fresh random value (§8.3.8). Without a
 * nameid: persistent with the user's uid (stable, opaque, never reassigned).
 */
export function resolveNameId(sp: SamlSp, user: User, signIn: SignInFacts): { value: string; format: string } {
  if (!sp.nameid) return { value: user.uid, format: PERSISTENT };
  const format = nameIdFormatUrn(sp.nameid.format);
  if (format === TRANSIENT) return { value: "_" + crypto.randomUUID().replace(/-/g, ""), format };
  const mapping: ClaimMapping = { claim_name: "NameID", attribute_name: sp.nameid.value, attribute_type: sp.nameid.attribute_type, value_type: "dynamic", value: null };
  const [value] = stringValues(claimValue(asIdentity(mapping), user, facts(sp, signIn)));
  if (!value) throw new AuthError("invalid_request", `this user has no value for the service provider's NameID (${sp.nameid.value})`);
  return { value, format };
}

/** The AuthnContextClassRef for the methods used: two factors (mfa, otp, hwk, ...) or one. */
export function authnContextClassRef(signIn: SignInFacts): string {
  const twoFactor = signIn.amr.includes("mfa") || signIn.amr.length >= 2;
  return twoFactor ? AC_MOBILE_TWO_FACTOR : AC_PASSWORD_PROTECTED_TRANSPORT;
}
