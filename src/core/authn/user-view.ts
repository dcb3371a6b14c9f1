import type { User } from "../../storage/ports";

/**
 * The Authn document's user object (seed 004, "Authenticate" 200 response). Our model has no
 * middle name or verified address: `middlename` is null and `address_verified` false.
 */
export interface AuthnUserObject {
  type: string;
  email_verified: boolean;
  disabled: boolean;
  username: string;
  status: string;
  firstname: string | null;
  middlename: string | null;
  lastname: string | null;
  email: string | null;
  phone: string | null;
  phone_verified: boolean;
  address: Record<string, unknown> | null;
  address_verified: boolean;
  uid: string;
  dguid: string;
  tenantId: string;
  communityId: string;
  roleValue: string;
}

export function authnUserObject(u: User): AuthnUserObject {
  return {
    type: u.type,
    email_verified: u.emailVerified,
    disabled: u.disabled,
    username: u.username,
    status: u.status,
    firstname: u.firstName,
    middlename: null,
    lastname: u.lastName,
    email: u.email,
    phone: u.phone,
    phone_verified: u.phoneVerified,
    address: u.address,
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
