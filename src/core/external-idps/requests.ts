import type { Services } from "../context";

/**
 * The AuthnRequests our SP sent, remembered so that the ACS accepts a Response only
 * `InResponseTo` one of them (SAML Profiles §4.1.4.3, Core §3.2.2), once. KV under
 * `samlreq:<tenantId>:<requestId>` for REQUEST_TTL_SECONDS; single use is decided by the
 * ReplayGuard (svc.once), not by deleting the KV record, because KV is eventually consistent
 * and two racing Responses could both still read it.
 *
 * KV's propagation (up to 60 s) means a Response arriving at another location within a moment
 * of the request may not find it yet: the user starts again. We accept that rather than accept
 * unsolicited Responses.
 */

export const REQUEST_TTL_SECONDS = 600;
const prefix = (tenantId: string) => `samlreq:${tenantId}`;
const ID = /^_[0-9a-f]{40}$/;

export interface RememberedAuthnRequest {
  id: string;
  communityId: string;
  /** The external IdP (external_idps.id) the request went to: the Response's Issuer must be its. */
  idpId: string;
  /** The ACS URL the request named: the Response's Destination must be it. */
  acsUrl: string;
  /** Server-side RelayState data (e.g. CloudCheckr's return URL), never trusted from the wire. */
  relay: Record<string, string> | null;
  expiresAt: number;
}

export async function rememberAuthnRequest(svc: Services, tenantId: string, r: Omit<RememberedAuthnRequest, "expiresAt">): Promise<RememberedAuthnRequest> {
  const record: RememberedAuthnRequest = { ...r, expiresAt: Date.now() + REQUEST_TTL_SECONDS * 1000 };
  await svc.secrets.put(prefix(tenantId), r.id, record, REQUEST_TTL_SECONDS);
  return record;
}

/**
 * The remembered request `InResponseTo` names, for this community, exactly once (null: unknown,
 * expired, another community's, or already used). The claim lasts as long as the record could.
 */
export async function consumeAuthnRequest(svc: Services, tenantId: string, communityId: string, inResponseTo: string): Promise<RememberedAuthnRequest | null> {
  if (!ID.test(inResponseTo)) return null;
  const r = await svc.secrets.get<RememberedAuthnRequest>(prefix(tenantId), inResponseTo);
  if (!r || r.id !== inResponseTo || r.communityId !== communityId || r.expiresAt <= Date.now()) return null;
  if (!(await svc.once.claim(prefix(tenantId), inResponseTo, r.expiresAt))) return null;
  svc.defer(svc.secrets.delete(prefix(tenantId), inResponseTo).catch(() => undefined));
  return r;
}

/**
 * A logout we sent the browser to the IdP for, keyed by its opaque RelayState (32 hex), so that
 * the SLS route learns where to send the browser back without trusting anything on the wire.
 * Same storage and single use as AuthnRequests, under `samlslo:<tenantId>`.
 */
export interface RememberedLogout {
  relayState: string;
  communityId: string;
  idpId: string;
  returnUrl: string;
  expiresAt: number;
}

const RELAY = /^[0-9a-f]{32}$/;
const sloPrefix = (tenantId: string) => `samlslo:${tenantId}`;

export function newRelayState(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function rememberLogout(svc: Services, tenantId: string, r: Omit<RememberedLogout, "expiresAt">): Promise<void> {
  await svc.secrets.put(sloPrefix(tenantId), r.relayState, { ...r, expiresAt: Date.now() + REQUEST_TTL_SECONDS * 1000 }, REQUEST_TTL_SECONDS);
}

/** The logout `relayState` names, once (null: unknown, expired, used, or malformed). */
export async function consumeLogout(svc: Services, tenantId: string, relayState: string): Promise<RememberedLogout | null> {
  if (!RELAY.test(relayState)) return null;
  const r = await svc.secrets.get<RememberedLogout>(sloPrefix(tenantId), relayState);
  if (!r || r.relayState !== relayState || r.expiresAt <= Date.now()) return null;
  if (!(await svc.once.claim(sloPrefix(tenantId), relayState, r.expiresAt))) return null;
  svc.defer(svc.secrets.delete(sloPrefix(tenantId), relayState).catch(() => undefined));
  return r;
}
