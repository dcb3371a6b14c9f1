import type { User } from "../../storage/ports";
import type { ClaimMapping, OidcScopeDefinition } from "../../storage/ports-idp";

/**
 * What a dynamic claim may read (seed 004 `claims[].attribute_type` / `attribute_name`), and
 * how the provider fills claims from a user and their session. The allow-lists are closed:
 * an IdP definition naming anything else is refused when it is saved, so a typo cannot
 * silently release nothing, and no mapping can reach a field that is not meant to leave the
 * service (password hash, TOTP secret, PIN hash).
 *
 * - identity: the user record (names follow OIDC Core §5.1 where one exists);
 * - session: facts of the authentication behind the token;
 * - ledger: accepted and stored (the document names it), never filled by this deployment:
 *   there is no ledger behind it, so such claims are left out of tokens and userinfo.
 */
export const ATTRIBUTE_TYPES = ["session", "ledger", "identity"] as const;
export const VALUE_TYPES = ["static", "dynamic"] as const;

/** Ledger attribute names are only stored: a conservative name shape is all that is checked. */
export const LEDGER_ATTRIBUTE = /^[A-Za-z0-9._:-]+$/;

type ClaimValue = string | number | boolean | string[] | Record<string, string>;

function nonEmpty(s: string | null | undefined): string | undefined {
  return s === null || s === undefined || s === "" ? undefined : s;
}

/** OIDC Core §5.1.1 address from the stored address (the Authn user object's house, streetname, city, country, zip). */
function addressClaim(a: Record<string, unknown> | null): Record<string, string> | undefined {
  if (!a) return undefined;
  const s = (k: string) => (typeof a[k] === "string" || typeof a[k] === "number" ? String(a[k]).trim() : "");
  // An address already kept in OIDC Core §5.1.1's members (another surface wrote it) passes as it is.
  const oidc = ["formatted", "street_address", "locality", "region", "postal_code", "country"].filter((k) => s(k));
  if (oidc.some((k) => k !== "country")) return Object.fromEntries(oidc.map((k) => [k, s(k)]));
  const street = [s("house"), s("streetname")].filter(Boolean).join(" ");
  const parts: Record<string, string> = {};
  if (street) parts.street_address = street;
  if (s("city")) parts.locality = s("city");
  if (s("state")) parts.region = s("state");
  if (s("zip")) parts.postal_code = s("zip");
  if (s("country")) parts.country = s("country");
  if (!Object.keys(parts).length) return undefined;
  parts.formatted = [street, [s("zip"), s("city")].filter(Boolean).join(" "), s("state"), s("country")].filter(Boolean).join("\n");
  return parts;
}

/** identity attributes: name -> how it is read from the user (undefined: no value, claim left out). */
export const IDENTITY_ATTRIBUTES: Readonly<Record<string, (u: User) => ClaimValue | undefined>> = {
  uid: (u) => u.uid,
  dguid: (u) => u.dguid,
  username: (u) => u.username,
  // OIDC Core §5.1 (the standard profile scope releases it).
  preferred_username: (u) => u.username,
  email: (u) => nonEmpty(u.email),
  email_verified: (u) => (nonEmpty(u.email) ? u.emailVerified : undefined),
  phone_number: (u) => nonEmpty(u.phone),
  phone_number_verified: (u) => (nonEmpty(u.phone) ? u.phoneVerified : undefined),
  given_name: (u) => nonEmpty(u.firstName),
  family_name: (u) => nonEmpty(u.lastName),
  name: (u) => nonEmpty([u.firstName, u.lastName].filter((x) => x).join(" ")),
  address: (u) => addressClaim(u.address),
  groups: (u) => u.groups,
  roles: (u) => u.roles,
  role_value: (u) => nonEmpty(u.roleValue),
  status: (u) => u.status,
  // OIDC Core §5.1: seconds since the epoch.
  updated_at: (u) => Math.floor(u.updatedAt / 1000),
};

/** Facts of the authentication behind a token, as the provider knows them when it issues one. */
export interface SessionFacts {
  /** Epoch seconds of the user's authentication. */
  auth_time: number;
  /** RFC 8176 methods. */
  amr: string[];
  acr: string;
  /** The SSO session id (the ID token's `sid`). */
  sid: string;
  /** The client IP the user authenticated from, when known. */
  ip?: string | null;
}

/** session attributes: name -> how it is read from the session facts. */
export const SESSION_ATTRIBUTES: Readonly<Record<string, (s: SessionFacts) => ClaimValue | undefined>> = {
  auth_time: (s) => s.auth_time,
  amr: (s) => s.amr,
  acr: (s) => nonEmpty(s.acr),
  sid: (s) => nonEmpty(s.sid),
  ip: (s) => nonEmpty(s.ip),
};

/** Whether a dynamic claim of this type may read this attribute (ledger names are free-form). */
export function isKnownAttribute(type: ClaimMapping["attribute_type"], name: string): boolean {
  if (type === "identity") return Object.hasOwn(IDENTITY_ATTRIBUTES, name);
  if (type === "session") return Object.hasOwn(SESSION_ATTRIBUTES, name);
  return LEDGER_ATTRIBUTE.test(name);
}
