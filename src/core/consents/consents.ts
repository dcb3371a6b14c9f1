import type { ConsentRecord } from "../../storage/ports-idp";
import type { User } from "../../storage/ports";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import type { OidcClient } from "../oidc-provider/clients";
import { primaryHostname } from "../tenants/public-origin";
import { RECEIPT_VERSION, scopeUuid, signReceipt, type ConsentReceipt, type ReceiptScope } from "./receipt";
import { scopeDefinitions, STANDARD_SCOPE_CLAIMS } from "./scope-definitions";

/**
 * Consents (seed 004 "User Consent"; Kantara Consent Receipt naming). Granting a scope whose
 * IdP definition says `consent_required` records a signed receipt; the next authorization for
 * the same client and scopes does not ask again until the user withdraws it (queries.ts).
 *
 * CONTRACT (issue 8): the hosted login (web/) and Authn oidc/sso call `scopesNeedingConsent`
 * before issuing a code and `recordConsent` when the user agrees.
 */

/**
 * The user's URN in consent receipts (`piiPrincipal.urn`, the API's `userUrn`):
 * `urn:edge-auth:<tenantId>:<communityId>:user:<uid>`, each part percent-encoded where it is
 * not an RFC 8141 NSS character (ids of this service never need it). The uid never changes
 * (a username can), and the tenant and community make it unique across the deployment, so a
 * receipt names one person for good. `edge-auth` is a private namespace identifier, not one
 * registered with IANA (RFC 8141 §5); the URN is only compared, never resolved.
 */
export function userUrnOf(scope: Scope, uid: string): string {
  return `urn:edge-auth:${encodeURIComponent(scope.tenant.id)}:${encodeURIComponent(scope.community.id)}:user:${encodeURIComponent(uid)}`;
}

/**
 * A caller's userUrn as it is looked up: RFC 8141 §3.1 makes the `urn:` prefix and the
 * namespace identifier case-insensitive, the rest is compared exactly.
 */
export function normalizeUserUrn(urn: string): string {
  const m = /^urn:[a-z0-9][a-z0-9-]{0,31}:/i.exec(urn);
  return m ? m[0].toLowerCase() + urn.slice(m[0].length) : urn;
}

export interface ConsentContext {
  user: User;
  client: OidcClient;
  /** Requested scope names; those without `consent_required` need no consent. */
  scopes: string[];
}

/** The requested scopes that need the user's consent and have no live receipt covering them. */
export async function scopesNeedingConsent(svc: Services, scope: Scope, ctx: ConsentContext, consentRequired: ReadonlySet<string>): Promise<string[]> {
  const wanted = [...new Set(ctx.scopes.filter((s) => consentRequired.has(s)))];
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

/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const MAX_SCOPES = 50;
/** Free text from the request kept in a receipt is capped, so a receipt stays small. */
const MAX_TEXT = 512;

const cap = (s: string | null | undefined): string => (s ?? "").slice(0, MAX_TEXT);

/**
 * Records a signed receipt for the scopes the user agreed to (`g.scopes`: the ones the consent
 * page showed, i.e. what scopesNeedingConsent answered) and returns it. Each is an explicit
 * consent (the user pressed Allow on a page listing it).
 */
export async function recordConsent(svc: Services, scope: Scope, g: ConsentGrant): Promise<ConsentRecord> {
  const names = [...new Set(g.scopes)];
  if (!names.length || names.length > MAX_SCOPES || !names.every((n) => SCOPE_TOKEN.test(n))) {
    throw new AuthError("invalid_request", "a consent names 1 to 50 valid scopes");
  }
  if (g.user.tenantId !== scope.tenant.id || g.user.communityId !== scope.community.id) {
    throw new AuthError("invalid_request", "the user is not of this community");
  }
  const [definitions, tenantDns, sp] = await Promise.all([
    scopeDefinitions(svc, scope),
    primaryHostname(svc, scope.tenant.id),
    svc.identity.serviceProviders.get(scope.tenant.id, scope.community.id, g.client.spId),
  ]);
  const scopes: ReceiptScope[] = await Promise.all(
    names.map(async (name) => ({
      name,
      uuid: await scopeUuid(scope.tenant.id, scope.community.id, name),
      claims: definitions.get(name)?.claims.map((c) => c.claim_name) ?? [...(STANDARD_SCOPE_CLAIMS[name] ?? [])],
      consentType: "EXPLICIT",
    })),
  );
  const now = Date.now();
  const id = crypto.randomUUID();
  const receipt: ConsentReceipt = await signReceipt(svc.keyring, {
    version: RECEIPT_VERSION,
    jurisdiction: scope.settings.consentReceipts?.jurisdiction ?? "",
    consentTimestamp: Math.floor(now / 1000),
    collectionMethod: cap(g.collectionMethod),
    consentReceiptID: id,
    // This deployment holds no DID or key pair of the user: empty, never invented.
    piiPrincipal: { urn: userUrnOf(scope, g.user.uid), username: g.user.username, did: "", publicKey: "" },
    piiProcessor: [{ tenantDns: tenantDns ?? "", tenantId: scope.tenant.id, communityName: scope.community.name, communityId: scope.community.id }],
    policyUrl: policyUrlOf(sp?.body) ?? scope.settings.consentReceipts?.policyUrl ?? "",
    scopes,
    requestID: cap(g.requestId),
    user_agent: cap(g.userAgent),
    clientIP: cap(g.ip),
    services: [g.client.clientId],
  });
  const rec: ConsentRecord = {
    id,
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    userUrn: receipt.piiPrincipal.urn,
    spId: g.client.spId,
    scopeNames: names,
    receipt: receipt as unknown as Record<string, unknown>,
    createdAt: now,
    withdrawnAt: null,
  };
  await svc.identity.consents.create(rec);
  recordAudit(svc, scope, "consent_granted", { userId: g.user.uid, detail: { consentReceiptID: id, spId: g.client.spId, scopes: names } });
  return rec;
}

/** The client's privacy policy (OIDC Dynamic Client Registration §2 `policy_uri`), when it names an http(s) URL. */
function policyUrlOf(body: Record<string, unknown> | undefined): string | null {
  const config = body?.oidc_config;
  const uri = config && typeof config === "object" ? (config as Record<string, unknown>).policy_uri : undefined;
  if (typeof uri !== "string" || uri.length > 2048) return null;
  try {
    const u = new URL(uri);
    return u.protocol === "https:" || u.protocol === "http:" ? uri : null;
  } catch {
    return null;
  }
}
