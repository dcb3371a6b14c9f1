import { endpointProblem } from "../service-providers/urls";
import { certificateProblem } from "../service-providers/x509";

/**
 * The rules of an external IdP object (seed 004 "External Idp": `connection` and
 * `routingPolicy`). Hand-written rather than zod so that core holds them whole (the surface's
 * zod schema documents the shape and checks types; this decides). One verdict per call, naming
 * the field (`connection.samlLoginUrl`).
 */

export type Binding = "HTTP-Redirect" | "HTTP-POST";
export type Operator = "overlap" | "nooverlap";

export interface ExternalIdpConnection {
  idpName: string;
  idpEntityId: string;
  samlLoginUrl: string;
  samlLogoutUrl: string;
  ssoBinding: Binding;
  sloBinding: Binding;
  forceAuthn: boolean;
  spEntityId: string;
  /** PEM; "" when AuthnRequests are not signed. */
  spSigningCertificate: string;
  idpSigningCertificate: string;
}

export interface RoutingRule {
  value: string[];
  operator: Operator;
}

export interface RoutingPolicy {
  enabled: boolean;
  groups?: RoutingRule;
  usernames?: RoutingRule;
  usersInIdpStore: boolean;
}

/** What the API stores and shows: the document's object without `connection.spPrivateKey`. */
export interface ExternalIdpBody {
  connection: ExternalIdpConnection;
  routingPolicy?: RoutingPolicy;
}

export type Verdict<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

export const LIMITS = { text: 256, url: 2048, ruleValues: 200, ruleValue: 256 } as const;

/**
 * Bindings by the SAML 2.0 Bindings URNs (§3.4, §3.5) or their short names; stored short.
 * Accepted: `HTTP-Redirect`, `HTTP-POST`, `redirect`, `post` (any case), and the full URNs.
 */
const BINDINGS: Record<string, Binding> = {
  "http-redirect": "HTTP-Redirect",
  redirect: "HTTP-Redirect",
  "urn:oasis:names:tc:saml:2.0:bindings:http-redirect": "HTTP-Redirect",
  "http-post": "HTTP-POST",
  post: "HTTP-POST",
  "urn:oasis:names:tc:saml:2.0:bindings:http-post": "HTTP-POST",
};

export function bindingOf(v: unknown): Binding | null {
  return typeof v === "string" ? (BINDINGS[v.trim().toLowerCase()] ?? null) : null;
}

class Refused extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function text(o: Record<string, unknown>, key: string, path: string, opts: { max?: number; allowEmpty?: boolean } = {}): string {
  const v = o[key];
  if (v === undefined || v === null) throw new Refused(`${path}.${key}`, "is required");
  if (typeof v !== "string") throw new Refused(`${path}.${key}`, "must be a string");
  const s = v.trim();
  if (!s && !opts.allowEmpty) throw new Refused(`${path}.${key}`, "must not be empty");
  if (s.length > (opts.max ?? LIMITS.text)) throw new Refused(`${path}.${key}`, `is longer than ${opts.max ?? LIMITS.text} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s)) throw new Refused(`${path}.${key}`, "contains control characters");
  return s;
}

function url(o: Record<string, unknown>, key: string): string {
  const s = text(o, key, "connection", { max: LIMITS.url });
  const problem = endpointProblem(s);
  if (problem) throw new Refused(`connection.${key}`, problem);
  return s;
}

function binding(o: Record<string, unknown>, key: string): Binding {
  const b = bindingOf(o[key]);
  if (!b) throw new Refused(`connection.${key}`, "must be HTTP-Redirect or HTTP-POST");
  return b;
}

function rule(v: unknown, path: string): RoutingRule | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new Refused(path, "must be an object");
  if (!Array.isArray(v.value)) throw new Refused(`${path}.value`, "must be an array of strings");
  if (v.value.length > LIMITS.ruleValues) throw new Refused(`${path}.value`, `has more than ${LIMITS.ruleValues} entries`);
  const value = v.value.map((x, i) => {
    if (typeof x !== "string" || !x.trim()) throw new Refused(`${path}.value.${i}`, "must be a non-empty string");
    if (x.length > LIMITS.ruleValue) throw new Refused(`${path}.value.${i}`, `is longer than ${LIMITS.ruleValue} characters`);
    return x.trim();
  });
  if (v.operator !== "overlap" && v.operator !== "nooverlap") throw new Refused(`${path}.operator`, "must be one of overlap, nooverlap");
  return { value, operator: v.operator };
}

function routingPolicy(v: unknown): RoutingPolicy | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new Refused("routingPolicy", "must be an object");
  if (typeof v.enabled !== "boolean") throw new Refused("routingPolicy.enabled", "must be true or false");
  if (v.usersInIdpStore !== undefined && typeof v.usersInIdpStore !== "boolean") throw new Refused("routingPolicy.usersInIdpStore", "must be true or false");
  const out: RoutingPolicy = { enabled: v.enabled, usersInIdpStore: v.usersInIdpStore === true };
  const groups = rule(v.groups, "routingPolicy.groups");
  const usernames = rule(v.usernames, "routingPolicy.usernames");
  if (groups) out.groups = groups;
  if (usernames) out.usernames = usernames;
  return out;
}

/**
 * The payload checked: the body to store and the SP private key given (or null). `spPrivateKey`
 * and `spSigningCertificate` go together: both set (AuthnRequests are signed), or both empty or
 * absent (they are not). The key pair itself is checked by keys.ts (async).
 */
export function checkExternalIdp(input: unknown): Verdict<{ body: ExternalIdpBody; spPrivateKey: string | null }> {
  try {
    if (!isObject(input)) throw new Refused("data", "must be an object");
    const c = input.connection;
    if (!isObject(c)) throw new Refused("connection", c === undefined ? "is required" : "must be an object");
    if (typeof c.forceAuthn !== "boolean") throw new Refused("connection.forceAuthn", "must be true or false");
    const idpSigningCertificate = text(c, "idpSigningCertificate", "connection", { max: 16_384 });
    const idpCert = certificateProblem(idpSigningCertificate);
    if (idpCert) throw new Refused("connection.idpSigningCertificate", idpCert);
    const spSigningCertificate = c.spSigningCertificate === undefined ? "" : text(c, "spSigningCertificate", "connection", { max: 16_384, allowEmpty: true });
    if (spSigningCertificate) {
      const spCert = certificateProblem(spSigningCertificate);
      if (spCert) throw new Refused("connection.spSigningCertificate", spCert);
    }
    const key = c.spPrivateKey === undefined ? "" : text(c, "spPrivateKey", "connection", { max: 16_384, allowEmpty: true });
    if (key && !spSigningCertificate) throw new Refused("connection.spSigningCertificate", "is required with spPrivateKey");
    const connection: ExternalIdpConnection = {
      idpName: text(c, "idpName", "connection"),
      idpEntityId: text(c, "idpEntityId", "connection", { max: 1024 }),
      samlLoginUrl: url(c, "samlLoginUrl"),
      samlLogoutUrl: url(c, "samlLogoutUrl"),
      ssoBinding: binding(c, "ssoBinding"),
      sloBinding: binding(c, "sloBinding"),
      forceAuthn: c.forceAuthn,
      spEntityId: text(c, "spEntityId", "connection", { max: 1024 }),
      spSigningCertificate,
      idpSigningCertificate,
    };
    const policy = routingPolicy(input.routingPolicy);
    const body: ExternalIdpBody = policy ? { connection, routingPolicy: policy } : { connection };
    return { ok: true, value: { body, spPrivateKey: key || null } };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, field: e.field, message: e.message };
    throw e;
  }
}
