/**
 * The adaptive policy's vocabulary (issue 10; seed 004 "Authentication Journey", "Authentication
 * Journey V2", "Auth Policy", "Auth Policy V2"). These types are the contract between the journey
 * store, the evaluator (core/journeys), the Authn routes and the logins that ask the policy.
 */

/** Which API version wrote a journey; v1 and v2 stay apart as the document keeps them. */
export type JourneyVersion = 1 | 2;

/** The document's operators. Each rule field accepts only those that fit its type (validate.ts). */
export type Operator = "in" | "nin" | "overlap" | "nooverlap" | "in_range" | "eq" | "neq" | "gt" | "gte" | "lt" | "lte";

export const OPERATORS: readonly Operator[] = ["in", "nin", "overlap", "nooverlap", "in_range", "eq", "neq", "gt", "gte", "lt", "lte"];

/** The rule fields of a journey, with the write spelling of the document's PUT/PATCH. */
export type RuleField =
  | "groups"
  | "deviceIds"
  | "applications"
  | "usernames"
  | "ip"
  | "domain"
  | "machineNames"
  | "machineIds"
  | "machineUsers"
  | "mobileLocation"
  // v2 only
  | "requestingAppId"
  | "relyingAppId"
  | "appConfigId";

export const V1_FIELDS: readonly RuleField[] = ["groups", "deviceIds", "applications", "usernames", "ip", "domain", "machineNames", "machineIds", "machineUsers", "mobileLocation"];
export const V2_FIELDS: readonly RuleField[] = [...V1_FIELDS, "requestingAppId", "relyingAppId", "appConfigId"];

/** One condition, normalised at write time: strings trimmed, IP values as written (checked). */
export interface Condition {
  value: string | string[] | number;
  operator: Operator;
}

export type JourneyRules = Partial<Record<RuleField, Condition>>;

export type Action = "mfa_required" | "grant_access" | "deny_access";

export interface JourneyDecision {
  action: Action;
  /**
   * Alternatives, any one of which satisfies the journey: a factor (`otp`, `fido`, ...) or
   * factors joined by `_and_` (`password_and_otp`). Factor names: core/journeys/factors.ts.
   */
  authenticationMethods: string[];
}

/** A stored journey, as core sees it. */
export interface Journey {
  id: string;
  tenantId: string;
  communityId: string;
  version: JourneyVersion;
  name: string;
  enabled: boolean;
  /** v2 only; `adaptive_auth_fallback_policy_v2` marks the community's fallback policy. */
  category: string | null;
  /** Extension: higher first among journeys of the same action (default 0). */
  priority: number;
  rules: JourneyRules;
  decision: JourneyDecision;
  createdAt: number;
  updatedAt: number;
}

export const FALLBACK_CATEGORY = "adaptive_auth_fallback_policy_v2";

/**
 * What is known about a login, keyed by the rule field it is compared with (facts.ts maps the
 * document's fact names: `IP` -> ip, `machine_name` -> machineNames, ...). A fact left out is
 * unknown: it is in no set, equal to nothing and in no range (so `nin`, `neq` and `nooverlap`
 * hold for it and every other operator does not).
 */
export interface Facts {
  groups?: string[];
  deviceIds?: string[];
  applications?: string[];
  usernames?: string[];
  ip?: string;
  domain?: string[];
  machineNames?: string[];
  machineIds?: string[];
  machineUsers?: string[];
  mobileLocation?: number;
  requestingAppId?: string[];
  relyingAppId?: string[];
  appConfigId?: string[];
}

/** The document's `next.step` values. */
export type PolicyStep = "grant_access" | "need_mfa" | "deny_access";

/** What the policy says about a login (evaluate's `next`, before the surface shapes it). */
export interface PolicyOutcome {
  step: PolicyStep;
  /** For need_mfa: the factors that would complete one of the alternatives (document names). */
  allowedFactors: string[];
  /** For an `idp_redirect` factor: ids of the external IdPs whose routingPolicy matches. */
  idps: string[];
  /** The journey that decided; null when the community's default did. */
  journey: Journey | null;
  source: "journey" | "fallback" | "default";
}

/** One entry of v2 `auth_policy/auth_schemes`. */
export interface AuthScheme {
  factors: string[];
  authenticationJourneyV2Id: string;
  result: Action;
}
