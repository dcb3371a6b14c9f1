import type { ConsentRecord } from "../../storage/ports-idp";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import type { OidcClient } from "../oidc-provider/clients";

/**
 * Consents (seed 004 "User Consent"; Kantara Consent Receipt naming). Granting a scope whose
 * IdP definition says `consent_required` records a receipt; the next authorization for the
 * same client and scopes does not ask again until the user withdraws it.
 *
 * CONTRACT (issue 8): the hosted login (web/) and Authn oidc/sso call `scopesNeedingConsent`
 * before issuing a code and `recordConsent` when the user agrees. The receipt's full shape
 * and its signature are this module's business.
 */

/** The user's URN in consent receipts (`piiPrincipal.urn`, the API's `userUrn`). */
export function userUrnOf(scope: Scope, uid: string): string {
  return `urn:edge-auth:${scope.tenant.id}:${scope.community.id}:user:${uid}`;
}

export interface ConsentContext {
  user: User;
  client: OidcClient;
  /** Requested scope names; those without `consent_required` need no consent. */
  scopes: string[];
}

/** The requested scopes that need the user's consent and have no live receipt covering them. */
export async function scopesNeedingConsent(svc: Services, scope: Scope, ctx: ConsentContext, consentRequired: ReadonlySet<string>): Promise<string[]> {
  const wanted = ctx.scopes.filter((s) => consentRequired.has(s));
  if (!wanted.length) return [];
  const live = await svc.identity.consents.list(scope.tenant.id, scope.community.id, userUrnOf(scope, ctx.user.uid), ctx.client.spId);
  const granted = new Set(live.flatMap((r) => r.scopeNames));
  return wanted.filter((s) => !granted.has(s));
}

export interface ConsentGrant extends ConsentContext {
  /** How it was collected: "hosted_login" or "oidc_sso". */
  collectionMethod: string;
  /** The authorization it was given for (the request id or the code's state). */
  requestId: string;
  userAgent: string | null;
  ip: string;
}

/** Records a receipt for the granted scopes and returns it. */
export async function recordConsent(svc: Services, scope: Scope, g: ConsentGrant): Promise<ConsentRecord> {
  const now = Date.now();
  const id = crypto.randomUUID();
  const rec: ConsentRecord = {
    id,
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    userUrn: userUrnOf(scope, g.user.uid),
    spId: g.client.spId,
    scopeNames: g.scopes,
    receipt: { consentReceiptID: id, consentTimestamp: Math.floor(now / 1000), collectionMethod: g.collectionMethod, scopes: g.scopes.map((name) => ({ name })) },
    createdAt: now,
    withdrawnAt: null,
  };
  await svc.identity.consents.create(rec);
  return rec;
}
