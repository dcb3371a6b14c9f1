import type { User } from "../../storage/ports";

/**
 * The Authn document's user object (seed 004, "Authenticate" 200 response), field for field
 * and type for type: the document shows strings and an address object, so a client written
 * for it reads `user.address.city` and `user.middlename.length` without null checks. What our
 * identity model does not hold is an empty string (`middlename`, absent names, phone, address
 * parts) and `address_verified` is false.
 */
export interface AuthnAddress {
  house: string;
  streetname: string;
  city: string;
  country: string;
  zip: string;
}

export interface AuthnUserObject {
  type: string;
  email_verified: boolean;
  disabled: boolean;
  username: string;
  status: string;
  firstname: string;
  middlename: string;
  lastname: string;
  email: string;
  phone: string;
  phone_verified: boolean;
  address: AuthnAddress;
  address_verified: boolean;
  uid: string;
  dguid: string;
  tenantId: string;
  communityId: string;
  roleValue: string;
}

const ADDRESS_FIELDS = ["house", "streetname", "city", "country", "zip"] as const;

/**
 * The document's address: its five fields, each a string. A stored number (a zip kept as
 * 75001) reads as its text; anything else (null, objects, unknown keys) is left out.
 */
export function authnAddress(stored: Record<string, unknown> | null): AuthnAddress {
  const out = { house: "", streetname: "", city: "", country: "", zip: "" };
  for (const f of ADDRESS_FIELDS) {
    const v = stored?.[f];
    if (typeof v === "string") out[f] = v;
    else if (typeof v === "number" && Number.isFinite(v)) out[f] = String(v);
  }
  return out;
}

/**
 * The document's vocabulary for `type` ("basic"): our default user type ("user") is what the
 * document calls a basic user; a type an operator stored deliberately is answered as stored.
 */
export function authnUserType(type: string): string {
  return type === "" || type === "user" ? "basic" : type;
}

export function authnUserObject(u: User): AuthnUserObject {
  return {
    type: authnUserType(u.type),
    email_verified: u.emailVerified,
    disabled: u.disabled,
    username: u.username,
    status: u.status,
    firstname: u.firstName ?? "",
    middlename: "",
    lastname: u.lastName ?? "",
    email: u.email ?? "",
    phone: u.phone ?? "",
    phone_verified: u.phoneVerified,
    address: authnAddress(u.address),
    address_verified: false,
    uid: u.uid,
    dguid: u.dguid,
    tenantId: u.tenantId,
    communityId: u.communityId,
    roleValue: u.roleValue ?? "none",
  };
}

/** Every attribute a caller may ask for by name: the user object plus groups and roles. */
export function userAttributes(u: User): Record<string, unknown> {
  return { ...authnUserObject(u), groups: u.groups, roles: u.roles };
}

/**
 * Only the requested attributes (authenticate_with_ktoken `attributes`); names we do not
 * know are left out rather than refused, so a client asking for more gets what exists.
 */
export function pickAttributes(u: User, names: readonly string[]): Record<string, unknown> {
  const all = userAttributes(u);
  const out: Record<string, unknown> = {};
  for (const n of names) if (Object.prototype.hasOwnProperty.call(all, n)) out[n] = all[n];
  return out;
}
