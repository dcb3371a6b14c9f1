/**
 * Write-time checks of an authentication journey (seed 004 `PUT`/`PATCH authenticationJourney`,
 * v1 and `/v2`; issue 10). Everything the evaluator relies on is settled here, so that
 * compile.ts never meets a value it cannot read. A refusal is a FieldError("invalid_request")
 * whose field names the offending input (`ip.value`, `groups.operator`, `decision.action`) and
 * whose message starts with that name.
 *
 * The body (the document's write spelling):
 * - `name` (1..256 characters; `journeyName`, the fetch spelling, is accepted as an alias),
 *   `enabled` (boolean, default true), v2 only `category` (string or null; the category
 *   `adaptive_auth_fallback_policy_v2` marks fallback journeys), `priority` (an extension:
 *   integer in -1,000,000..1,000,000, default 0, higher first among journeys of one action),
 *   `decision` (required), and one optional condition `{value, operator}` per rule field.
 * - The fetch answer's own spellings `deviceId`, `application`, `username` are accepted as
 *   aliases of `deviceIds`, `applications`, `usernames` (a fetched journey can be sent back),
 *   and its read-only `id`, `tenantId`, `communityId` are ignored. Any other top-level name is a
 *   400 naming it: it catches v1/v2 confusion (`requestingAppId` in v1 is "not a v1 field") and
 *   typos that would otherwise silently widen a rule.
 * - A condition that is `null` is no condition.
 *
 * Rule fields, their values and operators (anything else is a 400 naming `<field>.operator` or
 * `<field>.value`):
 * - string sets groups, deviceIds, applications, usernames, domain, machineNames, machineIds,
 *   machineUsers: a non-empty string or a non-empty array of non-empty strings (a string is
 *   stored as a one-element array); in, nin, overlap, nooverlap.
 * - ip: a string or array of strings, each an address, an `a-b` range or a CIDR block, IPv4 or
 *   IPv6 (ip.ts); in, in_range, nin. The document's own example `192.136.456.200-192.136.456.300`
 *   is refused: 456 is no IPv4 octet.
 * - mobileLocation: a finite number; eq, neq, gt, gte, lt, lte.
 * - v2 only requestingAppId, relyingAppId, appConfigId: a string with eq or neq, or an array of
 *   strings with in or nin.
 * Strings are trimmed and at most 256 characters; at most 500 values per condition.
 *
 * decision: `{action, authenticationMethods}`; action mfa_required, grant_access or deny_access;
 * authenticationMethods an array (at most 50) of methods, each a known factor or factors joined
 * by `_and_` (factors.ts). mfa_required needs at least one method; the others may have none.
 */
import { FieldError } from "../field-error";
import { isFactor, splitMethod } from "./factors";
import { parseIpValue } from "./ip";
import { V1_FIELDS, V2_FIELDS, type Action, type Condition, type JourneyDecision, type JourneyRules, type JourneyVersion, type Operator, type RuleField } from "./model";

export interface JourneyInput {
  name: string;
  enabled: boolean;
  category: string | null;
  priority: number;
  rules: JourneyRules;
  decision: JourneyDecision;
}

export const MAX_NAME = 256;
export const MAX_STRING = 256;
export const MAX_VALUES = 500;
export const MAX_METHODS = 50;
export const MAX_PRIORITY = 1_000_000;

type Kind = "set" | "ip" | "number" | "app";

/** Each rule field's kind; the kind decides the value's type and the operators. */
export const FIELD_KIND: Readonly<Record<RuleField, Kind>> = {
  groups: "set",
  deviceIds: "set",
  applications: "set",
  usernames: "set",
  domain: "set",
  machineNames: "set",
  machineIds: "set",
  machineUsers: "set",
  ip: "ip",
  mobileLocation: "number",
  requestingAppId: "app",
  relyingAppId: "app",
  appConfigId: "app",
};

export const SET_OPERATORS: readonly Operator[] = ["in", "nin", "overlap", "nooverlap"];
export const IP_OPERATORS: readonly Operator[] = ["in", "in_range", "nin"];
export const NUMBER_OPERATORS: readonly Operator[] = ["eq", "neq", "gt", "gte", "lt", "lte"];
export const APP_STRING_OPERATORS: readonly Operator[] = ["eq", "neq"];
export const APP_LIST_OPERATORS: readonly Operator[] = ["in", "nin"];
const ACTIONS: readonly Action[] = ["mfa_required", "grant_access", "deny_access"];

/** The fetch spelling of a field -> its write spelling. */
const ALIASES: Readonly<Record<string, string>> = { journeyName: "name", deviceId: "deviceIds", application: "applications", username: "usernames" };
/** The fetch answer's read-only fields, ignored on write. */
const ECHOED = new Set(["id", "tenantId", "communityId"]);

function fail(field: string, message: string): never {
  throw new FieldError("invalid_request", field, `${field}: ${message}`);
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function oneString(field: string, x: unknown): string {
  if (typeof x !== "string") fail(field, "must be a string");
  const s = x.trim();
  if (s === "") fail(field, "must not be empty");
  if (s.length > MAX_STRING) fail(field, `must be at most ${MAX_STRING} characters`);
  return s;
}

function stringList(field: string, x: unknown): string[] {
  if (!Array.isArray(x)) fail(field, "must be a string or an array of strings");
  if (x.length === 0) fail(field, "must name at least one value");
  if (x.length > MAX_VALUES) fail(field, `must have at most ${MAX_VALUES} values`);
  return x.map((v) => oneString(field, v));
}

function operatorOf(field: string, x: unknown, allowed: readonly Operator[]): Operator {
  if (typeof x !== "string" || !(allowed as readonly string[]).includes(x)) fail(`${field}.operator`, `must be one of ${allowed.join(", ")}`);
  return x as Operator;
}

function checkCondition(field: RuleField, raw: unknown): Condition {
  if (!isObject(raw)) fail(field, "must be an object {value, operator}");
  for (const k of Object.keys(raw)) if (k !== "value" && k !== "operator") fail(`${field}.${k}`, "is not a field of a condition");
  if (raw.value === undefined || raw.value === null) fail(`${field}.value`, "is required");
  if (raw.operator === undefined || raw.operator === null) fail(`${field}.operator`, "is required");
  const vf = `${field}.value`;
  switch (FIELD_KIND[field]) {
    case "set": {
      const operator = operatorOf(field, raw.operator, SET_OPERATORS);
      const value = typeof raw.value === "string" ? [oneString(vf, raw.value)] : stringList(vf, raw.value);
      return { value, operator };
    }
    case "ip": {
      const operator = operatorOf(field, raw.operator, IP_OPERATORS);
      const value = typeof raw.value === "string" ? oneString(vf, raw.value) : stringList(vf, raw.value);
      for (const v of typeof value === "string" ? [value] : value) {
        const parsed = parseIpValue(v);
        if (typeof parsed === "string") fail(vf, parsed);
      }
      return { value, operator };
    }
    case "number": {
      const operator = operatorOf(field, raw.operator, NUMBER_OPERATORS);
      if (typeof raw.value !== "number" || !Number.isFinite(raw.value)) fail(vf, "must be a finite number");
      return { value: raw.value, operator };
    }
    case "app": {
      if (typeof raw.value === "string") return { value: oneString(vf, raw.value), operator: operatorOf(field, raw.operator, APP_STRING_OPERATORS) };
      if (Array.isArray(raw.value)) return { value: stringList(vf, raw.value), operator: operatorOf(field, raw.operator, APP_LIST_OPERATORS) };
      return fail(vf, "must be a string (eq, neq) or an array of strings (in, nin)");
    }
  }
}

function checkDecision(raw: unknown): JourneyDecision {
  if (!isObject(raw)) fail("decision", "is required: {action, authenticationMethods}");
  for (const k of Object.keys(raw)) if (k !== "action" && k !== "authenticationMethods") fail(`decision.${k}`, "is not a field of a decision");
  if (typeof raw.action !== "string" || !(ACTIONS as readonly string[]).includes(raw.action)) fail("decision.action", `must be one of ${ACTIONS.join(", ")}`);
  const action = raw.action as Action;
  const f = "decision.authenticationMethods";
  const m = raw.authenticationMethods ?? [];
  if (!Array.isArray(m)) fail(f, "must be an array of methods");
  if (m.length > MAX_METHODS) fail(f, `must have at most ${MAX_METHODS} methods`);
  const methods = m.map((x) => {
    const s = oneString(f, x);
    for (const factor of splitMethod(s)) if (!isFactor(factor)) fail(f, `"${s}" names an unknown factor "${factor}"`);
    return s;
  });
  if (action === "mfa_required" && methods.length === 0) fail(f, "mfa_required needs at least one method");
  return { action, authenticationMethods: methods };
}

/**
 * Checks a journey body written through `version`'s API and answers it normalised (see the top
 * of this file). Throws FieldError("invalid_request", field, message).
 */
export function checkJourney(version: JourneyVersion, input: unknown): JourneyInput {
  if (!isObject(input)) fail("data", "must be a journey object");
  const fields: readonly RuleField[] = version === 2 ? V2_FIELDS : V1_FIELDS;
  const seen = new Map<string, unknown>();
  for (const [k0, v] of Object.entries(input)) {
    if (ECHOED.has(k0)) continue;
    const k = ALIASES[k0] ?? k0;
    if (seen.has(k) && v !== undefined) fail(k0, `and ${k} are the same field; send one`);
    if (k === "name" || k === "enabled" || k === "decision" || k === "priority" || k === "category") {
      if (k === "category" && version === 1 && v !== null && v !== undefined) fail(k0, "is not a v1 field");
    } else if (!(fields as readonly string[]).includes(k)) {
      fail(k0, version === 1 && (V2_FIELDS as readonly string[]).includes(k) ? "is not a v1 field" : "is not a journey field");
    }
    if (v !== undefined) seen.set(k, v);
  }

  const rawName = seen.get("name");
  if (rawName === undefined || rawName === null) fail("name", "is required");
  if (typeof rawName !== "string") fail("name", "must be a string");
  const name = rawName.trim();
  if (name.length < 1 || name.length > MAX_NAME) fail("name", `must be 1..${MAX_NAME} characters`);

  const rawEnabled = seen.get("enabled") ?? true;
  if (typeof rawEnabled !== "boolean") fail("enabled", "must be a boolean");

  const rawCategory = seen.get("category") ?? null;
  const category = rawCategory === null ? null : oneString("category", rawCategory);

  const rawPriority = seen.get("priority") ?? 0;
  if (typeof rawPriority !== "number" || !Number.isInteger(rawPriority) || Math.abs(rawPriority) > MAX_PRIORITY) {
    fail("priority", `must be an integer in -${MAX_PRIORITY}..${MAX_PRIORITY}`);
  }

  const rules: JourneyRules = {};
  for (const field of fields) {
    const raw = seen.get(field);
    if (raw !== undefined && raw !== null) rules[field] = checkCondition(field, raw);
  }
  return { name, enabled: rawEnabled, category, priority: rawPriority, rules, decision: checkDecision(seen.get("decision")) };
}
