import type { User } from "../../storage/ports";
import type { ClaimMapping, OidcScopeDefinition } from "../../storage/ports-idp";
import { IDENTITY_ATTRIBUTES, SESSION_ATTRIBUTES, type SessionFacts as IdpSessionFacts } from "../idps/attributes";

/**
 * The claims of granted scopes (OIDC Core §5.4), from the community's IdP configuration
 * (seed 004 `PUT .../idp`, `oidc_config.scopes[].claims[]`). Pure: the caller loads the scope
 * definitions, the user and the session facts. The same function fills ID tokens and
 * userinfo, so both always answer the same claims.
 *
 * A claim mapping is one of:
 * - `value_type: static`: the claim is `value` as configured (a string);
 * - `value_type: dynamic`, `attribute_type: identity`: the user's attribute named by
 *   `attribute_name` (IDENTITY_ATTRIBUTES; secrets such as password hashes are not
 *   attributes and can never be mapped);
 * - `value_type: dynamic`, `attribute_type: session`: a fact of the authentication
 *   (SESSION_ATTRIBUTES: auth_time, amr, acr, sid, client_id, scope, ...);
 * - `attribute_type: ledger`: omitted. The document names a ledger this service does not
 *   keep; docs/api/oidc.md says so.
 * A mapping whose value is unknown or empty is left out rather than sent as null.
 */

/** Facts of the authentication a session-typed claim may read. */
export interface SessionFacts {
  authTime: number;
  amr: string[];
  acr: string;
  /** The SSO session (the ID token's sid). */
  sid: string;
  clientId: string;
  scopes: string[];
}

/** Claims a mapping may never set: the token's own (OIDC Core §2, §3.1.3.6; RFC 9068 §2.2). */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "nonce", "azp", "at_hash", "c_hash", "auth_time",
  "acr", "amr", "sid", "sso_sid", "token_use", "client_id", "scope", "cnf", "act", "tenant", "community",
]);

/** What a dynamic session claim reads, in core/idps' names (one allow-list: what a save accepts is what is filled). */
function factsOf(s: SessionFacts): IdpSessionFacts {
  return { auth_time: s.authTime, amr: s.amr, acr: s.acr, sid: s.sid };
}

const dyn = (claim_name: string, attribute_name = claim_name): ClaimMapping => ({ claim_name, attribute_name, attribute_type: "identity", value_type: "dynamic", value: null });

/**
 * The standard scopes' claims (OIDC Core §5.4), used for each of profile, email, phone and
 * address that the community has not defined itself.
 */
export const STANDARD_SCOPES: readonly OidcScopeDefinition[] = [
  { name: "profile", display_name: "Your profile", consent_required: false, claims: [dyn("name"), dyn("given_name"), dyn("family_name"), dyn("preferred_username"), dyn("updated_at")] },
  { name: "email", display_name: "Your email address", consent_required: false, claims: [dyn("email"), dyn("email_verified")] },
  { name: "phone", display_name: "Your phone number", consent_required: false, claims: [dyn("phone_number"), dyn("phone_number_verified")] },
  { name: "address", display_name: "Your postal address", consent_required: false, claims: [dyn("address")] },
];

/** The community's definitions, plus the standard scopes it has not defined. */
export function withStandardScopes(defs: readonly OidcScopeDefinition[]): OidcScopeDefinition[] {
  const named = new Set(defs.map((d) => d.name));
  return [...defs, ...STANDARD_SCOPES.filter((d) => !named.has(d.name))];
}

function present(v: unknown): boolean {
  if (v === null || v === undefined || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** The value of one mapping for this user and session; undefined when it has none. */
export function claimValue(m: ClaimMapping, user: User, session: SessionFacts): unknown {
  if (m.attribute_type === "ledger") return undefined;
  if (m.value_type === "static") return present(m.value) ? m.value : undefined;
  const name = m.attribute_name ?? "";
  // Own properties only: an attribute named "constructor" or "__proto__" reads nothing.
  const v =
    m.attribute_type === "identity"
      ? Object.hasOwn(IDENTITY_ATTRIBUTES, name) ? IDENTITY_ATTRIBUTES[name]!(user) : undefined
      : Object.hasOwn(SESSION_ATTRIBUTES, name) ? SESSION_ATTRIBUTES[name]!(factsOf(session)) : undefined;
  return present(v) ? v : undefined;
}

/**
 * The claims of the granted scopes: for each granted scope with a definition (the caller
 * passes the community's definitions with the standard defaults), each of its claims that has
 * a value. When two scopes map the same claim name, the first granted scope's mapping wins.
 */
export function claimsForScopes(defs: readonly OidcScopeDefinition[], granted: readonly string[], user: User, session: SessionFacts): Record<string, unknown> {
  const byName = new Map<string, OidcScopeDefinition>();
  for (const d of defs) if (!byName.has(d.name)) byName.set(d.name, d);
  // A Map, then fromEntries: every claim name becomes an own property, even `__proto__`.
  const out = new Map<string, unknown>();
  for (const s of granted) {
    const def = byName.get(s);
    if (!def) continue;
    for (const m of def.claims) {
      if (!m.claim_name || RESERVED_CLAIMS.has(m.claim_name) || out.has(m.claim_name)) continue;
      const v = claimValue(m, user, session);
      if (v !== undefined) out.set(m.claim_name, v);
    }
  }
  return Object.fromEntries(out);
}
