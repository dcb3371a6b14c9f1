/**
 * A community's authentication journeys (seed 004 "Authentication Journey" and "Authentication
 * Journey V2": fetch, PUT, PATCH, DELETE). v1 and v2 journeys are kept apart, as the document
 * keeps them: each operation sees only its own version's journeys.
 *
 * - PATCH is a full replacement, as the document says ("does a full delete and replace of all
 *   rules"): a condition left out is gone. The id and creation time stay (creation time is part
 *   of the precedence).
 * - At most MAX_JOURNEYS per community per version; one more is a 400 invalid_request (the
 *   document lists 400 and 403 for these operations, no 409). The count and the insert are two
 *   statements, so concurrent creates can overshoot by a few: a bound on size, not a quota.
 * - Every write drops this isolate's compiled policy at once (cache.ts); other isolates see it
 *   within 10 s.
 */
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { uuid } from "../../crypto/random";
import type { JourneyRecord } from "../../storage/ports-journeys";
import { invalidatePolicy } from "./cache";
import type { Journey, JourneyVersion } from "./model";
import { checkJourney } from "./validate";

export const MAX_JOURNEYS = 2000;

/** The document's fetch filters (v2 has all; v1 only ids). Filters AND. */
export interface JourneyFilter {
  ids?: string[];
  requestingAppId?: string;
  appConfigIds?: string[];
  category?: string;
}

function notFound(): never {
  throw new AuthError("not_found", "authentication journey not found");
}

const journeyOf = ({ revision: _r, ...j }: JourneyRecord): Journey => j;

/** `PUT authenticationJourney` (v1 or /v2): creates one; answers it. */
export async function createJourney(svc: Services, scope: Scope, version: JourneyVersion, input: unknown): Promise<Journey> {
  const body = checkJourney(version, input);
  const t = scope.tenant.id;
  const c = scope.community.id;
  if ((await svc.journeys.count(t, c, version)) >= MAX_JOURNEYS) {
    throw new AuthError("invalid_request", `journey limit reached: at most ${MAX_JOURNEYS} ${version === 2 ? "v2" : "v1"} journeys per community`);
  }
  const now = Date.now();
  const record: JourneyRecord = { id: uuid(), tenantId: t, communityId: c, version, ...body, createdAt: now, updatedAt: now, revision: 0 };
  await svc.journeys.create(record);
  invalidatePolicy(t, c);
  recordAudit(svc, scope, "journey_created", { detail: { id: record.id, version, action: body.decision.action } });
  return journeyOf(record);
}

/** `PATCH authenticationJourney/{id}`: a full replacement keeping id and createdAt; AuthError not_found. */
export async function replaceJourney(svc: Services, scope: Scope, version: JourneyVersion, id: string, input: unknown): Promise<Journey> {
  const body = checkJourney(version, input);
  const t = scope.tenant.id;
  const c = scope.community.id;
  // A full replacement does not depend on what it replaces, so a concurrent change is simply
  // overwritten (last write wins); the revision only guards against a delete in between.
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await svc.journeys.get(t, c, version, id);
    if (!current) notFound();
    const next: JourneyRecord = { ...current, ...body, updatedAt: Math.max(Date.now(), current.updatedAt), revision: current.revision + 1 };
    if (await svc.journeys.replace(next, current.revision)) {
      invalidatePolicy(t, c);
      recordAudit(svc, scope, "journey_updated", { detail: { id, version, action: body.decision.action } });
      return journeyOf(next);
    }
  }
  throw new AuthError("conflict", "authentication journey changed meanwhile; try again");
}

/** `DELETE authenticationJourney/{id}`; AuthError not_found. */
export async function deleteJourney(svc: Services, scope: Scope, version: JourneyVersion, id: string): Promise<void> {
  if (!(await svc.journeys.remove(scope.tenant.id, scope.community.id, version, id))) notFound();
  invalidatePolicy(scope.tenant.id, scope.community.id);
  recordAudit(svc, scope, "journey_deleted", { detail: { id, version } });
}

/** Whether a journey's condition on `field` names one of `values` (eq/in lists it; neq/nin too: it is about that app). */
function names(j: Journey, field: "requestingAppId" | "appConfigId", values: readonly string[]): boolean {
  const v = j.rules[field]?.value;
  if (typeof v === "string") return values.includes(v);
  if (Array.isArray(v)) return v.some((x) => values.includes(x));
  return false;
}

/**
 * `POST authenticationJourney/fetch` (v1 or /v2): the version's journeys in creation order,
 * filtered (AND): `ids` (unknown ids are left out), `requestingAppId` and `appConfigIds` (a
 * journey whose condition on that field names the value, or one of them), `category`.
 */
export async function fetchJourneys(svc: Services, scope: Scope, version: JourneyVersion, filter: JourneyFilter): Promise<Journey[]> {
  const all = await svc.journeys.list(scope.tenant.id, scope.community.id, version);
  const ids = filter.ids ? new Set(filter.ids) : null;
  return all
    .filter(
      (j) =>
        (ids === null || ids.has(j.id)) &&
        (filter.requestingAppId === undefined || names(j, "requestingAppId", [filter.requestingAppId])) &&
        (filter.appConfigIds === undefined || names(j, "appConfigId", filter.appConfigIds)) &&
        (filter.category === undefined || j.category === filter.category),
    )
    .map(journeyOf);
}
