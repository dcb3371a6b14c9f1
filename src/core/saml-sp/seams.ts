import type { Services } from "../context";

/**
 * STAND-INS for engineer A's core/external-idps (branch h9-sp, not on main when this was
 * written): the same names, signatures, KV prefix and record shape as A's
 * `communitySpEndpoints` (endpoints.ts) and `consumeAuthnRequest` (requests.ts), so a request
 * A's `samlRequest/generate` remembers is the one consumed here. When A's branch is merged,
 * this file becomes `export { ... } from "../external-idps";` (and the types with it).
 */

export interface SpEndpoints {
  acsUrl: string;
  sloUrl: string;
  metadataUrl: string;
}

/** `<public origin>/saml/<communityId>/sp/{acs,slo,metadata}` (A's decision). */
export function communitySpEndpoints(origin: string, communityId: string): SpEndpoints {
  const base = `${origin}/saml/${encodeURIComponent(communityId)}/sp`;
  return { acsUrl: `${base}/acs`, sloUrl: `${base}/slo`, metadataUrl: `${base}/metadata` };
}

export interface RememberedAuthnRequest {
  id: string;
  communityId: string;
  idpId: string;
  acsUrl: string;
  relay: Record<string, string> | null;
  expiresAt: number;
}

export const REQUEST_TTL_SECONDS = 600;
const prefix = (tenantId: string) => `samlreq:${tenantId}`;
const ID = /^_[0-9a-f]{40}$/;

export async function rememberAuthnRequest(svc: Services, tenantId: string, r: Omit<RememberedAuthnRequest, "expiresAt">): Promise<RememberedAuthnRequest> {
  const record: RememberedAuthnRequest = { ...r, expiresAt: Date.now() + REQUEST_TTL_SECONDS * 1000 };
  await svc.secrets.put(prefix(tenantId), r.id, record, REQUEST_TTL_SECONDS);
  return record;
}

/** The remembered request for this community, exactly once (ReplayGuard), or null. */
export async function consumeAuthnRequest(svc: Services, tenantId: string, communityId: string, inResponseTo: string): Promise<RememberedAuthnRequest | null> {
  if (!ID.test(inResponseTo)) return null;
  const r = await svc.secrets.get<RememberedAuthnRequest>(prefix(tenantId), inResponseTo);
  if (!r || r.id !== inResponseTo || r.communityId !== communityId || r.expiresAt <= Date.now()) return null;
  if (!(await svc.once.claim(prefix(tenantId), inResponseTo, r.expiresAt))) return null;
  svc.defer(svc.secrets.delete(prefix(tenantId), inResponseTo).catch(() => undefined));
  return r;
}
