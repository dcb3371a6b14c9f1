import type { ClaimMapping, OidcScopeDefinition } from "../../storage/ports-idp";
import { ATTRIBUTE_TYPES, isKnownAttribute, LEDGER_ATTRIBUTE, VALUE_TYPES } from "./attributes";

/**
 * The rules of an OIDC IdP definition (seed 004 `PUT .../idp`, `oidc_config`): its scopes and
 * the claims each scope releases. One function checks a whole config and answers either the
 * typed definitions or the first broken rule, named by its field path
 * (`oidc_config.scopes.0.claims.1.value`), so the Authn surface can answer a clear 400 and
 * communityScopes can re-check what it reads back from D1 with the same code.
 */

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (printable ASCII but space, `"` and `\`). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/**
 * Claim names: printable ASCII without spaces, so URIs (RFC 7519 §4.2 collision-resistant
 * names) fit; a claim name travels as a JSON member name of ID tokens and userinfo.
 */
const CLAIM_NAME = /^[\x21-\x7E]+$/;

/**
 * Scopes the protocol owns: `openid` makes the request an OIDC one (OIDC Core §3.1.2.1) and
 * `offline_access` asks for a refresh token (§11). A community cannot redefine either.
 */
export const RESERVED_SCOPES: ReadonlySet<string> = new Set(["openid", "offline_access"]);

/**
 * Claims the provider sets itself in ID tokens, access tokens and userinfo: the JWT registered
 * claims (RFC 7519 §4.1), the ID token's (OIDC Core §2, §3.1.3.6, §3.3.2.11; Front/Back-Channel
 * Logout `sid`), the aggregated/distributed claims members (§5.6.2), and our own token claims.
 * A mapping may not name them: a static `sub` would make every user the same user at the RP.
 * `__proto__` too: relying parties parse these objects with JSON.parse into plain objects.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  "iss", "sub", "aud", "exp", "nbf", "iat", "jti",
  "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "s_hash", "sid",
  "_claim_names", "_claim_sources",
  "scope", "client_id", "cnf", "act", "may_act", "typ", "token_use", "tenant", "community",
  "__proto__",
]);

export const LIMITS = {
  name: 256,
  description: 2048,
  scopes: 100,
  scopeName: 128,
  displayName: 256,
  claims: 50,
  claimName: 256,
  attributeName: 128,
  value: 2048,
} as const;

export interface OidcConfig {
  name: string;
  description: string;
  scopes: OidcScopeDefinition[];
}

export type RuleResult<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

class RuleBroken extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function fail(field: string, message: string): never {
  throw new RuleBroken(field, message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What the value is, for messages: "null", "a number", "an array"... */
function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function text(v: unknown, field: string, max: number, opts: { allowEmpty?: boolean; multiline?: boolean } = {}): string {
  if (typeof v !== "string") fail(field, v === undefined ? "is required" : v === null ? "must not be null" : `must be a string, not ${kind(v)}`);
  if (!opts.allowEmpty && v.trim() === "") fail(field, "must not be empty");
  if (v.length > max) fail(field, `must be at most ${max} characters`);
  // Control characters would end up in consent pages and tokens; nothing legitimate needs them.
  if ((opts.multiline ? /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/ : /[\u0000-\u001f\u007f]/).test(v)) fail(field, "must not contain control characters");
  return v;
}

/** An optional field that, when present, must be null (the mapping's inapplicable half). */
function absentOrNull(v: unknown, field: string, why: string): void {
  if (v !== undefined && v !== null) fail(field, why);
}

function claim(v: unknown, at: string): ClaimMapping {
  if (!isRecord(v)) fail(at, `must be an object, not ${kind(v)}`);
  const claimName = text(v.claim_name, `${at}.claim_name`, LIMITS.claimName);
  if (!CLAIM_NAME.test(claimName)) fail(`${at}.claim_name`, "must be printable ASCII without spaces");
  if (RESERVED_CLAIMS.has(claimName)) fail(`${at}.claim_name`, `"${claimName}" is set by the provider itself and cannot be mapped`);
  const attributeType = v.attribute_type;
  if (typeof attributeType !== "string" || !(ATTRIBUTE_TYPES as readonly string[]).includes(attributeType)) {
    fail(`${at}.attribute_type`, typeof attributeType === "string" ? `must be one of ${ATTRIBUTE_TYPES.join(", ")}` : `must be one of ${ATTRIBUTE_TYPES.join(", ")}, not ${v.attribute_type === undefined ? "missing" : kind(attributeType)}`);
  }
  const valueType = v.value_type;
  if (typeof valueType !== "string" || !(VALUE_TYPES as readonly string[]).includes(valueType)) {
    fail(`${at}.value_type`, `must be one of ${VALUE_TYPES.join(", ")}${typeof valueType === "string" ? "" : `, not ${valueType === undefined ? "missing" : kind(valueType)}`}`);
  }
  const type = attributeType as ClaimMapping["attribute_type"];
  if (valueType === "static") {
    const value = text(v.value, `${at}.value`, LIMITS.value, { allowEmpty: true });
    absentOrNull(v.attribute_name, `${at}.attribute_name`, "must be null for a static claim (its value is `value`)");
    return { claim_name: claimName, attribute_name: null, attribute_type: type, value_type: "static", value };
  }
  const attributeName = text(v.attribute_name, `${at}.attribute_name`, LIMITS.attributeName);
  if (type === "ledger") {
    if (!LEDGER_ATTRIBUTE.test(attributeName)) fail(`${at}.attribute_name`, "a ledger attribute name is letters, digits, `.`, `_`, `:`, `-`");
  } else if (!isKnownAttribute(type, attributeName)) {
    fail(`${at}.attribute_name`, `"${attributeName}" is not a known ${type} attribute (docs/api/oidc.md "Scopes and claims" lists them)`);
  }
  absentOrNull(v.value, `${at}.value`, "must be null for a dynamic claim (its value is read from attribute_name)");
  return { claim_name: claimName, attribute_name: attributeName, attribute_type: type, value_type: "dynamic", value: null };
}

function scopeDefinition(v: unknown, at: string): OidcScopeDefinition {
  if (!isRecord(v)) fail(at, `must be an object, not ${kind(v)}`);
  const name = text(v.name, `${at}.name`, LIMITS.scopeName);
  if (!SCOPE_TOKEN.test(name)) fail(`${at}.name`, "must be a scope-token (RFC 6749 §3.3): printable ASCII without spaces, quotes or backslashes");
  if (RESERVED_SCOPES.has(name)) fail(`${at}.name`, `"${name}" is reserved by the protocol and cannot be defined`);
  const displayName = text(v.display_name, `${at}.display_name`, LIMITS.displayName);
  if (typeof v.consent_required !== "boolean") {
    fail(`${at}.consent_required`, v.consent_required === undefined ? "is required (true or false)" : `must be true or false, not ${kind(v.consent_required)}`);
  }
  const rawClaims = v.claims === undefined ? [] : v.claims;
  if (!Array.isArray(rawClaims)) fail(`${at}.claims`, `must be an array, not ${kind(rawClaims)}`);
  if (rawClaims.length > LIMITS.claims) fail(`${at}.claims`, `at most ${LIMITS.claims} claims per scope`);
  const seen = new Set<string>();
  const claims = rawClaims.map((c, i) => {
    const m = claim(c, `${at}.claims.${i}`);
    if (seen.has(m.claim_name)) fail(`${at}.claims.${i}.claim_name`, `"${m.claim_name}" is already mapped in this scope`);
    seen.add(m.claim_name);
    return m;
  });
  return { name, display_name: displayName, consent_required: v.consent_required, claims };
}

/** The scopes array: each definition valid, names unique within the IdP. */
function scopeList(v: unknown, at: string): OidcScopeDefinition[] {
  if (!Array.isArray(v)) fail(at, v === undefined ? "is required" : `must be an array, not ${kind(v)}`);
  if (v.length > LIMITS.scopes) fail(at, `at most ${LIMITS.scopes} scopes`);
  const seen = new Set<string>();
  return v.map((s, i) => {
    const d = scopeDefinition(s, `${at}.${i}`);
    if (seen.has(d.name)) fail(`${at}.${i}.name`, `scope "${d.name}" is defined twice`);
    seen.add(d.name);
    return d;
  });
}

function run<T>(f: () => T): RuleResult<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (e instanceof RuleBroken) return { ok: false, field: e.field, message: e.message };
    throw e;
  }
}

/** A whole `oidc_config` (create, or the stored config on read): name, description, scopes. */
export function checkOidcConfig(v: unknown, at = "oidc_config"): RuleResult<OidcConfig> {
  return run(() => {
    if (!isRecord(v)) fail(at, v === undefined ? "is required" : `must be an object, not ${kind(v)}`);
    return {
      name: text(v.name, `${at}.name`, LIMITS.name),
      description: v.description === undefined ? "" : text(v.description, `${at}.description`, LIMITS.description, { allowEmpty: true, multiline: true }),
      scopes: scopeList(v.scopes, `${at}.scopes`),
    };
  });
}

/** A PATCH's `oidc_config`: each given field is checked as on create and replaces the stored one. */
export function checkOidcConfigPatch(v: unknown, at = "oidc_config"): RuleResult<Partial<OidcConfig>> {
  return run(() => {
    if (!isRecord(v)) fail(at, v === undefined ? "is required" : `must be an object, not ${kind(v)}`);
    const out: Partial<OidcConfig> = {};
    if (v.name !== undefined) out.name = text(v.name, `${at}.name`, LIMITS.name);
    if (v.description !== undefined) out.description = text(v.description, `${at}.description`, LIMITS.description, { allowEmpty: true, multiline: true });
    if (v.scopes !== undefined) out.scopes = scopeList(v.scopes, `${at}.scopes`);
    if (!Object.keys(out).length) fail(at, "names nothing to update (name, description or scopes)");
    return out;
  });
}

/** One stored scope definition, re-checked on read (a row written under older rules is skipped). */
export function checkScopeDefinition(v: unknown): RuleResult<OidcScopeDefinition> {
  return run(() => scopeDefinition(v, "scope"));
}

/** What an admin sets on the community's SAML IdP; the rest of its view is derived (saml-idp.ts). */
export interface SamlIdpSettings {
  name: string;
  description: string;
}

/**
 * Fields of `saml_config` that the view shows but nobody writes here: they follow from the
 * community's idp_config (PUT idp_config replaces the certificate and may set the entity ID)
 * and from the front-channel routes. Naming them in a write is refused rather than ignored,
 * so a caller who thinks it set the entity ID learns where it is set.
 */
const SAML_DERIVED = ["entityId", "ssoUrl", "sloUrl", "metadataUrl", "signingCert"] as const;

function samlFields(v: Record<string, unknown>, at: string, partial: boolean): Partial<SamlIdpSettings> {
  for (const k of SAML_DERIVED) if (v[k] !== undefined) fail(`${at}.${k}`, "is read-only (derived from the community's idp_config and front-channel URLs; set the certificate and entity ID with PUT idp_config)");
  const out: Partial<SamlIdpSettings> = {};
  if (!partial || v.name !== undefined) out.name = text(v.name, `${at}.name`, LIMITS.name);
  if (v.description !== undefined) out.description = text(v.description, `${at}.description`, LIMITS.description, { allowEmpty: true, multiline: true });
  return out;
}

/** A whole `saml_config` (create, or the stored one on read): name, description (default ""). */
export function checkSamlConfig(v: unknown, at = "saml_config"): RuleResult<SamlIdpSettings> {
  return run(() => {
    if (!isRecord(v)) fail(at, v === undefined ? "is required" : `must be an object, not ${kind(v)}`);
    const f = samlFields(v, at, false);
    return { name: f.name!, description: f.description ?? "" };
  });
}

/** A PATCH's `saml_config`: name and/or description. */
export function checkSamlConfigPatch(v: unknown, at = "saml_config"): RuleResult<Partial<SamlIdpSettings>> {
  return run(() => {
    if (!isRecord(v)) fail(at, v === undefined ? "is required" : `must be an object, not ${kind(v)}`);
    const out = samlFields(v, at, true);
    if (!Object.keys(out).length) fail(at, "names nothing to update (name or description)");
    return out;
  });
}
