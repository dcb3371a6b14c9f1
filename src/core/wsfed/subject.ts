import type { User } from "../../storage/ports";
import type { ClaimMapping } from "../../storage/ports-idp";
import { claimValue, type SessionFacts } from "../oidc-provider/claims";
import type { Saml11Attribute } from "../../protocols/wsfed/saml11-assertion";
import type { RelyingParty } from "./relying-party";

/**
 * Who the token names and what it carries, from the relying party's `saml_config.nameid` and
 * `saml_config.attributes`, read with the OIDC claims' resolution (core/oidc-provider/claims.ts
 * `claimValue`: static values, identity attributes of the user, session facts; ledger
 * omitted). A local, minimal resolution until core/saml-idp's (engineer B) is on main; the
 * rules are the same, so switching is a swap of this module.
 */

/** SAML 1.1 Core §7.3 formats under their 1.1 URN; the rest (persistent, transient, ...) are 2.0's. */
const SAML11_FORMATS = new Set(["unspecified", "emailAddress", "X509SubjectName", "WindowsDomainQualifiedName"]);

export function nameIdFormatUrn(format: string | undefined): string {
  if (!format) return "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
  if (format.startsWith("urn:")) return format;
  return SAML11_FORMATS.has(format) ? `urn:oasis:names:tc:SAML:1.1:nameid-format:${format}` : `urn:oasis:names:tc:SAML:2.0:nameid-format:${format}`;
}

function asStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.flatMap(asStrings);
  if (typeof v === "object") return [JSON.stringify(v)];
  return [String(v)];
}

export interface Subject {
  nameId: { value: string; format: string };
  attributes: Saml11Attribute[];
}

export function resolveSubject(rp: RelyingParty, user: User, facts: SessionFacts): Subject {
  let nameId = { value: user.uid, format: nameIdFormatUrn(undefined) };
  if (rp.nameid) {
    const mapping: ClaimMapping = { claim_name: "nameid", attribute_name: rp.nameid.value, attribute_type: rp.nameid.attribute_type as ClaimMapping["attribute_type"], value_type: "dynamic", value: null };
    const v = asStrings(claimValue(mapping, user, facts))[0];
    // No value for the configured attribute (say, no email): the uid, under the configured format's name.
    nameId = { value: v ?? user.uid, format: nameIdFormatUrn(rp.nameid.format) };
  }
  const attributes = rp.attributes
    .map((m) => ({ name: m.claim_name, values: asStrings(claimValue(m, user, facts)) }))
    .filter((a) => a.values.length > 0);
  return { nameId, attributes };
}
