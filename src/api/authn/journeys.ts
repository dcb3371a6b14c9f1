import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { createJourney, deleteJourney, fetchJourneys, replaceJourney } from "../../core/journeys";
import type { Journey, JourneyVersion } from "../../core/journeys/model";
import { authnPayload, authnRespond } from "../../http/authn-guard";
import type { AppEnv } from "../../http/types";
import { authnRoute, SYSTEM_SERVICE, TenantCommunityParams } from "./endpoint-kit";
import { AuthError } from "../../core/errors";
import { FieldError } from "../../core/field-error";

/**
 * Authentication Journey and Authentication Journey V2 (seed 004, issue 10): fetch, PUT
 * (create), PATCH (a full replacement: "does a full delete and replace of all rules"), DELETE
 * (204), system/service licenses, enveloped bodies. v1 and v2 journeys are kept apart, as the
 * document keeps them (its "authenticationjourney_v2 collection"): a v1 route never sees or
 * changes a v2 journey and the other way round.
 *
 * The rules (fields, operators, types, limits) are core/journeys/validate.ts `checkJourney`;
 * the zod shapes here document the payload and let every key through, so that core is the one
 * place that accepts or refuses a journey and names the bad field (`groups.operator`,
 * `ip.value`, an unknown top-level field).
 */

const OPERATORS_TEXT = "in, nin, overlap, nooverlap, in_range, eq, neq, gt, gte, lt, lte (each field accepts only those of its type; docs/api/authn.md)";

const Condition = (valueDescription: string, operators: string) =>
  z
    .object({
      value: z.union([z.string(), z.array(z.string()), z.number()]).openapi({ description: valueDescription }),
      operator: z.string().openapi({ description: `One of ${operators}` }),
    })
    .loose();

const SET = (what: string) => Condition(`${what}: an array of non-empty strings (a single string is stored as a one-element array)`, "in, nin, overlap, nooverlap");
const APP_ID = (what: string) => Condition(`${what}: a string (eq, neq) or an array of strings (in, nin). v2 only`, "eq, neq, in, nin");

const RULE_FIELDS = {
  groups: SET("User groups").nullish(),
  deviceIds: SET("Device ids").nullish(),
  applications: SET("Applications").nullish(),
  usernames: SET("Usernames, compared case-insensitively").nullish(),
  ip: Condition(
    "A string or an array of strings, each a single address, an `a-b` range or a CIDR block, IPv4 or IPv6 (`::ffff:a.b.c.d` compares as IPv4). The document's own example `192.136.456.200-192.136.456.300` is not IPv4 (456 > 255) and is refused",
    "in, in_range (the same meaning), nin",
  ).nullish(),
  domain: SET("Machine domains, compared case-insensitively").nullish(),
  machineNames: SET("Machine names").nullish(),
  machineIds: SET("Machine ids").nullish(),
  machineUsers: SET("Machine users").nullish(),
  mobileLocation: Condition("A finite number", "eq, neq, gt, gte, lt, lte").nullish(),
};

const V2_RULE_FIELDS = {
  requestingAppId: APP_ID("The requesting application").nullish(),
  relyingAppId: APP_ID("The relying application").nullish(),
  appConfigId: APP_ID("The application configuration").nullish(),
};

const Decision = z
  .object({
    action: z.string().openapi({ description: "mfa_required, grant_access or deny_access" }),
    authenticationMethods: z.array(z.string()).openapi({
      description:
        "Alternatives, any one of which satisfies the journey: a factor or factors joined by `_and_` (`password_and_otp`). Factors: password, pin, otp, email_otp, sms_otp, fido, ktoken, uwl, liveid, behavior_auth, idp_redirect. mfa_required needs at least one",
    }),
  })
  .loose();

const COMMON_FIELDS = {
  name: z.string().optional().openapi({ description: "1..256 characters; required (`journeyName`, the fetch spelling, is accepted too)" }),
  enabled: z.boolean().optional().openapi({ description: "Disabled journeys never match" }),
  priority: z.number().optional().openapi({ description: "Extension: an integer, default 0; among matching journeys of the same action, higher first" }),
  decision: Decision.optional().openapi({ description: "Required" }),
};

/** Every key passes to core (loose): an unknown field is refused there, by name. */
export const JourneyV1Payload = z.object({ ...COMMON_FIELDS, ...RULE_FIELDS }).loose().openapi("AuthenticationJourneyInput", {
  description: `A journey matches when every condition it has holds (no condition: it matches every login). Operators: ${OPERATORS_TEXT}.`,
});
export const JourneyV2Payload = z
  .object({
    ...COMMON_FIELDS,
    category: z.string().nullish().openapi({ description: "`adaptive_auth_fallback_policy_v2` marks the community's fallback policy (evaluated only when no other journey matches and the fallback is enforced)" }),
    ...RULE_FIELDS,
    ...V2_RULE_FIELDS,
  })
  .loose()
  .openapi("AuthenticationJourneyV2Input", { description: `As v1, plus category, requestingAppId, relyingAppId, appConfigId. Operators: ${OPERATORS_TEXT}.` });

const StoredCondition = z.object({ value: z.union([z.string(), z.array(z.string()), z.number()]), operator: z.string() });
const ruleViews = (fields: readonly string[]) => Object.fromEntries(fields.map((f) => [f, StoredCondition.optional()]));
const V1_NAMES = Object.keys(RULE_FIELDS);
const V2_NAMES = [...V1_NAMES, ...Object.keys(V2_RULE_FIELDS)];
const viewBase = {
  id: z.string(),
  tenantId: z.string(),
  communityId: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  priority: z.number().int(),
  decision: z.object({ action: z.enum(["mfa_required", "grant_access", "deny_access"]), authenticationMethods: z.array(z.string()) }),
};
const JourneyV1View = z.object({ ...viewBase, ...ruleViews(V1_NAMES) }).openapi("AuthenticationJourney");
const JourneyV2View = z.object({ ...viewBase, category: z.string().optional(), ...ruleViews(V2_NAMES) }).openapi("AuthenticationJourneyV2");
/** The fetch example's spelling, answered beside the write spelling (docs/api/authn.md). */
const FETCH_ALIASES = {
  journeyName: z.string().openapi({ description: "= name (the document's fetch example spells it so)" }),
  deviceId: StoredCondition.optional().openapi({ description: "= deviceIds" }),
  application: StoredCondition.optional().openapi({ description: "= applications" }),
  username: StoredCondition.optional().openapi({ description: "= usernames" }),
};
const JourneyV1Fetched = JourneyV1View.extend(FETCH_ALIASES).openapi("AuthenticationJourneyFetched");
const JourneyV2Fetched = JourneyV2View.extend(FETCH_ALIASES).openapi("AuthenticationJourneyV2Fetched");

const Ids = z.array(z.string().max(64)).max(2000).optional().openapi({ description: "Only these (unknown ids are left out); none: every journey of this version" });
const FetchV1Payload = z.object({ ids: Ids }).openapi("FetchAuthenticationJourneysPayload");
const FetchV2Payload = z
  .object({
    ids: Ids,
    requestingAppId: z.string().max(256).optional().openapi({ description: "Only journeys whose requestingAppId condition names this value" }),
    appConfigIds: z.array(z.string().max(256)).max(500).optional().openapi({ description: "Only journeys whose appConfigId condition names one of these" }),
    category: z.string().max(256).optional().openapi({ description: "Only journeys of this category" }),
  })
  .openapi("FetchAuthenticationJourneysV2Payload");

const IdParams = TenantCommunityParams.extend({ id: z.string().max(64).openapi({ param: { name: "id", in: "path" }, description: "Id of authenticationJourney" }) });

const v1 = { tag: "Authentication Journey", levels: SYSTEM_SERVICE, community: true } as const;
const v2 = { tag: "Authentication Journey V2", levels: SYSTEM_SERVICE, community: true } as const;
const ANSWER = "Answers the journey: the payload's fields as stored (normalised), with id, tenantId, communityId and priority.";

export const fetchJourneysV1Route = authnRoute({
  ...v1,
  operationId: "fetchAuthenticationJourney",
  method: "post",
  path: "/tenant/{tenantId}/community/{communityId}/authenticationJourney/fetch",
  summary: "Fetch AuthenticationJourney",
  description: "An array of the community's v1 journeys in creation order (or those of `ids`), each in both spellings the document shows: `name`/`journeyName`, `deviceIds`/`deviceId`, `applications`/`application`, `usernames`/`username`.",
  params: TenantCommunityParams,
  payload: FetchV1Payload,
  payloadOptional: true,
  answer: z.array(JourneyV1Fetched),
});
export const createJourneyV1Route = authnRoute({
  ...v1,
  operationId: "createAuthenticationJourney",
  method: "put",
  path: "/tenant/{tenantId}/community/{communityId}/authenticationJourney",
  summary: "Create AuthenticationJourney",
  description: `${ANSWER} At most 2,000 journeys per community and version (400 beyond).`,
  params: TenantCommunityParams,
  payload: JourneyV1Payload,
  answer: JourneyV1View,
});
export const updateJourneyV1Route = authnRoute({
  ...v1,
  operationId: "updateAuthenticationJourney",
  method: "patch",
  path: "/tenant/{tenantId}/community/{communityId}/authenticationJourney/{id}",
  summary: "Update AuthenticationJourney",
  description: `A full delete and replace of all rules, as documented: a field left out is removed. Keeps id and creation time (its place in the precedence). ${ANSWER} 404 for an id that is not this community's v1 journey.`,
  params: IdParams,
  payload: JourneyV1Payload,
  answer: JourneyV1View,
});
export const deleteJourneyV1Route = authnRoute({
  ...v1,
  operationId: "deleteAuthenticationJourney",
  method: "delete",
  path: "/tenant/{tenantId}/community/{communityId}/authenticationJourney/{id}",
  summary: "Delete Authentication Journey",
  description: "204; 404 for an id that is not this community's v1 journey.",
  params: IdParams,
  status: 204,
});

export const fetchJourneysV2Route = authnRoute({
  ...v2,
  operationId: "fetchAuthenticationJourneyV2",
  method: "post",
  path: "/v2/tenant/{tenantId}/community/{communityId}/authenticationJourney/fetch",
  summary: "Fetch AuthenticationJourneyV2",
  description: "An array of the community's v2 journeys in creation order matching every filter given (ids, requestingAppId, appConfigIds, category), each in both spellings the document shows (see v1 fetch).",
  params: TenantCommunityParams,
  payload: FetchV2Payload,
  payloadOptional: true,
  answer: z.array(JourneyV2Fetched),
});
export const createJourneyV2Route = authnRoute({
  ...v2,
  operationId: "createAuthenticationJourneyV2",
  method: "put",
  path: "/v2/tenant/{tenantId}/community/{communityId}/authenticationJourney",
  summary: "Create V2 AuthenticationJourney",
  description: `${ANSWER} At most 2,000 journeys per community and version (400 beyond).`,
  params: TenantCommunityParams,
  payload: JourneyV2Payload,
  answer: JourneyV2View,
});
export const updateJourneyV2Route = authnRoute({
  ...v2,
  operationId: "updateAuthenticationJourneyV2",
  method: "patch",
  path: "/v2/tenant/{tenantId}/community/{communityId}/authenticationJourney/{id}",
  summary: "Update AuthenticationJourney V2",
  description: `A full delete and replace of all rules, as documented. ${ANSWER} 404 for an id that is not this community's v2 journey.`,
  params: IdParams,
  payload: JourneyV2Payload,
  answer: JourneyV2View,
});
export const deleteJourneyV2Route = authnRoute({
  ...v2,
  operationId: "deleteAuthenticationJourneyV2",
  method: "delete",
  path: "/v2/tenant/{tenantId}/community/{communityId}/authenticationJourney/{id}",
  summary: "Delete V2 Authentication Journey",
  description: "204; 404 for an id that is not this community's v2 journey.",
  params: IdParams,
  status: 204,
});

/** The journey as PUT and PATCH answer it: the write spelling, plus id, tenant, community and priority. */
export function journeyView(j: Journey): Record<string, unknown> {
  return {
    id: j.id,
    tenantId: j.tenantId,
    communityId: j.communityId,
    name: j.name,
    enabled: j.enabled,
    ...(j.version === 2 && j.category !== null ? { category: j.category } : {}),
    priority: j.priority,
    ...j.rules,
    decision: j.decision,
  };
}

/**
 * The journey as fetch answers it: the write spelling and the fetch example's (`journeyName`,
 * `deviceId`, `application`, `username`), so a client written from either example reads it.
 */
export function fetchedView(j: Journey): Record<string, unknown> {
  return {
    ...journeyView(j),
    journeyName: j.name,
    ...(j.rules.deviceIds ? { deviceId: j.rules.deviceIds } : {}),
    ...(j.rules.applications ? { application: j.rules.applications } : {}),
    ...(j.rules.usernames ? { username: j.rules.usernames } : {}),
  };
}

export function registerJourneyRoutes(app: OpenAPIHono<AppEnv>): void {
  const versions = [
    { version: 1 as JourneyVersion, fetch: fetchJourneysV1Route, create: createJourneyV1Route, update: updateJourneyV1Route, remove: deleteJourneyV1Route, payload: JourneyV1Payload },
    { version: 2 as JourneyVersion, fetch: fetchJourneysV2Route, create: createJourneyV2Route, update: updateJourneyV2Route, remove: deleteJourneyV2Route, payload: JourneyV2Payload },
  ];
  for (const v of versions) {
    app.openapi(v.fetch, async (c) => {
      // v1 has only `ids`: its schema strips the v2 filters, so a v1 caller's extra keys filter nothing.
      const p: z.infer<typeof FetchV2Payload> = v.version === 1 ? authnPayload(c, FetchV1Payload) : authnPayload(c, FetchV2Payload);
      const filter = defined({ ids: p.ids, requestingAppId: p.requestingAppId, appConfigIds: p.appConfigIds, category: p.category });
      const list = await fetchJourneys(c.get("services"), c.get("scope"), v.version, filter);
      return authnRespond(c, list.map(fetchedView)) as never;
    });
    app.openapi(v.create, async (c) => {
      const p = authnPayload(c, v.payload);
      const j = await withFieldNamed(() => createJourney(c.get("services"), c.get("scope"), v.version, p));
      return authnRespond(c, journeyView(j)) as never;
    });
    app.openapi(v.update, async (c) => {
      const p = authnPayload(c, v.payload);
      const j = await withFieldNamed(() => replaceJourney(c.get("services"), c.get("scope"), v.version, c.req.param("id") ?? "", p));
      return authnRespond(c, journeyView(j)) as never;
    });
    app.openapi(v.remove, async (c) => {
      await deleteJourney(c.get("services"), c.get("scope"), v.version, c.req.param("id") ?? "");
      return c.body(null, 204) as never;
    });
  }
}

/**
 * Runs a core call whose FieldErrors become Authn 400s that name their field first
 * (`groups.operator: ...`), as the surface's zod errors do: the Authn error shape has only a
 * message, so the field must be in it.
 */
export async function withFieldNamed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fieldNamed(e);
  }
}

/** The error with its field named at the start of its message (other errors unchanged). */
export function fieldNamed(e: unknown): unknown {
  if (e instanceof FieldError && !e.message.startsWith(e.field)) return new AuthError(e.code, `${e.field}: ${e.message}`);
  return e;
}

/** Drops undefined values (exactOptionalPropertyTypes-friendly). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(o)) if (val !== undefined) out[k] = val;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
