import type { ConsentRecord, ServiceProviderType } from "../../storage/ports-idp";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { normalizeUserUrn } from "./consents";
import type { ConsentReceipt } from "./receipt";

/**
 * What the Authn `user_consent/*` routes answer (seed 004 "User Consent"), and withdrawal (our
 * extension). Only live receipts are ever answered: a withdrawn receipt stays in D1 as history
 * but is never shown as if it still held. A user URN that names nobody (or someone of another
 * community) answers exactly as a user without receipts: nothing tells the two apart.
 */

export interface ConsentQuery {
  userUrn: string;
  spId: string;
  /** Scope names or scope uuids; absent or empty: every scope. */
  scopeIds?: string[] | undefined;
}

const receiptOf = (r: ConsentRecord): ConsentReceipt => r.receipt as unknown as ConsentReceipt;

/** Whether the receipt covers any of `ids` (a scope's name or its uuid). */
function covers(r: ConsentRecord, ids: ReadonlySet<string>): boolean {
  if (r.scopeNames.some((n) => ids.has(n))) return true;
  const scopes = receiptOf(r).scopes;
  return Array.isArray(scopes) && scopes.some((s) => typeof s?.uuid === "string" && ids.has(s.uuid));
}

async function requireServiceProvider(svc: Services, scope: Scope, spId: string): Promise<void> {
  const sp = await svc.identity.serviceProviders.get(scope.tenant.id, scope.community.id, spId);
  if (!sp) throw new AuthError("not_found", "no such service provider in this community");
}

function live(svc: Services, scope: Scope, userUrn: string, spId: string | null): Promise<ConsentRecord[]> {
  return svc.identity.consents.list(scope.tenant.id, scope.community.id, normalizeUserUrn(userUrn), spId);
}

/**
 * `user_consent/check`: the user's live receipts for the service provider that cover any of
 * the scope ids (every live receipt when none are given), newest first. The union of their
 * scopes is what the user has consented to of those asked. 404 when the spId is not a service
 * provider of the community.
 */
export async function checkConsents(svc: Services, scope: Scope, q: ConsentQuery): Promise<ConsentReceipt[]> {
  const [, receipts] = await Promise.all([requireServiceProvider(svc, scope, q.spId), live(svc, scope, q.userUrn, q.spId)]);
  const ids = new Set(q.scopeIds ?? []);
  return receipts.filter((r) => ids.size === 0 || covers(r, ids)).map(receiptOf);
}

/** `user_consent/fetch`: every live receipt of the user for the service provider, newest first. */
export async function fetchConsents(svc: Services, scope: Scope, q: { userUrn: string; spId: string }): Promise<ConsentReceipt[]> {
  return (await live(svc, scope, q.userUrn, q.spId)).map(receiptOf);
}

/** The document's controllerType: the type of the service provider (the PII controller) a receipt was given to. */
export const CONTROLLER_TYPES: readonly ServiceProviderType[] = ["oidc", "saml"];

/**
 * `user_consent/fetch_by_scope`: the newest live receipt of the user, given to any service
 * provider of type `controllerType`, that covers the scope (by name); null when none.
 */
export async function latestConsentByScope(svc: Services, scope: Scope, q: { userUrn: string; controllerType: ServiceProviderType; scopeName: string }): Promise<ConsentReceipt | null> {
  const receipts = (await live(svc, scope, q.userUrn, null)).filter((r) => r.scopeNames.includes(q.scopeName));
  if (!receipts.length) return null;
  // Only the receipts' own service providers are looked up: usually one or two.
  const spIds = [...new Set(receipts.map((r) => r.spId))];
  const sps = await Promise.all(spIds.map((id) => svc.identity.serviceProviders.get(scope.tenant.id, scope.community.id, id)));
  const types = new Map(sps.filter((s) => s !== null).map((s) => [s.id, s.type]));
  const hit = receipts.find((r) => types.get(r.spId) === q.controllerType);
  return hit ? receiptOf(hit) : null;
}

/**
 * Withdraws the user's live receipts for the service provider that cover any of the scope ids
 * (all of them when none are given) and answers their ids. A receipt is one act of consent:
 * withdrawing one of its scopes withdraws the receipt, so the next authorization asks again for
 * every consent_required scope it covered. 404 when the spId is not a service provider of the
 * community. Idempotent: a second call withdraws nothing.
 */
export async function withdrawConsents(svc: Services, scope: Scope, q: ConsentQuery): Promise<string[]> {
  await requireServiceProvider(svc, scope, q.spId);
  const urn = normalizeUserUrn(q.userUrn);
  const ids = new Set(q.scopeIds ?? []);
  const targets = (await live(svc, scope, urn, q.spId)).filter((r) => ids.size === 0 || covers(r, ids)).map((r) => r.id);
  const withdrawn = await svc.identity.consents.withdrawReceipts(scope.tenant.id, scope.community.id, urn, targets, Date.now());
  if (withdrawn.length) recordAudit(svc, scope, "consent_withdrawn", { detail: { spId: q.spId, consentReceiptIDs: withdrawn } });
  return withdrawn;
}
