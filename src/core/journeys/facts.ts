/**
 * The document's `facts` object (seed 004 "Auth Policy" and "Auth Policy V2" evaluate and
 * auth_schemes) -> Facts keyed by rule field, plus the factors already done.
 *
 * Names (either spelling where two are listed; both given are merged):
 *   groups -> groups; applicationId, application -> applications; IP, ip -> ip;
 *   machine_domain, domain -> domain; username -> usernames; deviceId, deviceIds -> deviceIds;
 *   machine_name -> machineNames; machine_id -> machineIds; machine_user -> machineUsers;
 *   mobileLocation -> mobileLocation; requestingAppId, relyingAppId, appConfigId (v2);
 *   authenticationMethods -> done (factor names, or methods joined by `_and_`).
 * A list fact takes a string or an array of strings (a string is a list of one). IP is one
 * string; a malformed IP is kept as written and compares as unknown (compile.ts).
 * mobileLocation is a finite number. `null` is the same as leaving the fact out (unknown).
 * Unknown names are ignored (clients send more than the policy reads); a known name with the
 * wrong type is a FieldError naming `facts.<name>`; an unknown factor in authenticationMethods
 * too (it would otherwise be silently not done).
 */
import { FieldError } from "../field-error";
import { isFactor, splitMethod } from "./factors";
import type { Facts } from "./model";

type ListFact = "groups" | "deviceIds" | "applications" | "usernames" | "domain" | "machineNames" | "machineIds" | "machineUsers" | "requestingAppId" | "relyingAppId" | "appConfigId";

const LIST_NAMES: readonly (readonly [string, ListFact])[] = [
  ["groups", "groups"],
  ["applicationId", "applications"],
  ["application", "applications"],
  ["machine_domain", "domain"],
  ["domain", "domain"],
  ["username", "usernames"],
  ["deviceId", "deviceIds"],
  ["deviceIds", "deviceIds"],
  ["machine_name", "machineNames"],
  ["machine_id", "machineIds"],
  ["machine_user", "machineUsers"],
  ["requestingAppId", "requestingAppId"],
  ["relyingAppId", "relyingAppId"],
  ["appConfigId", "appConfigId"],
];

/** Bounds on what one request may make the evaluator look at. */
const MAX_LIST = 1000;
const MAX_STRING = 1024;

function fail(name: string, message: string): never {
  const field = `facts.${name}`;
  throw new FieldError("invalid_request", field, `${field}: ${message}`);
}

function strings(name: string, x: unknown): string[] {
  const list = typeof x === "string" ? [x] : x;
  if (!Array.isArray(list)) fail(name, "must be a string or an array of strings");
  if (list.length > MAX_LIST) fail(name, `must have at most ${MAX_LIST} values`);
  const out: string[] = [];
  for (const v of list) {
    if (typeof v !== "string") fail(name, "must be a string or an array of strings");
    if (v.length > MAX_STRING) fail(name, `values must be at most ${MAX_STRING} characters`);
    const s = v.trim();
    if (s !== "") out.push(s);
  }
  return out;
}

/** Maps the document's facts (see the top of this file); throws FieldError on a wrong type. */
export function factsFromDocument(raw: unknown): { facts: Facts; done: string[] } {
  const facts: Facts = {};
  const done: string[] = [];
  if (raw === undefined || raw === null) return { facts, done };
  if (typeof raw !== "object" || Array.isArray(raw)) throw new FieldError("invalid_request", "facts", "facts: must be an object");
  const o = raw as Record<string, unknown>;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined && o[k] !== null;

  for (const [name, field] of LIST_NAMES) {
    if (!has(name)) continue;
    const values = strings(name, o[name]);
    const prior = facts[field];
    facts[field] = prior ? [...prior, ...values.filter((v) => !prior.includes(v))] : values;
  }

  for (const name of ["IP", "ip"]) {
    if (!has(name) || facts.ip !== undefined) continue;
    const v = o[name];
    if (typeof v !== "string") fail(name, "must be a string");
    if (v.length > MAX_STRING) fail(name, `must be at most ${MAX_STRING} characters`);
    facts.ip = v.trim();
  }

  if (has("mobileLocation")) {
    const v = o.mobileLocation;
    if (typeof v !== "number" || !Number.isFinite(v)) fail("mobileLocation", "must be a finite number");
    facts.mobileLocation = v;
  }

  if (has("authenticationMethods")) {
    for (const m of strings("authenticationMethods", o.authenticationMethods)) {
      for (const f of splitMethod(m)) {
        if (!isFactor(f)) fail("authenticationMethods", `"${f}" is not a known factor`);
        if (!done.includes(f)) done.push(f);
      }
    }
  }
  return { facts, done };
}
