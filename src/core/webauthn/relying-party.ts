import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { publicOrigin, publicOrigins, type RequestAddress } from "../tenants/public-origin";

/**
 * The WebAuthn Relying Party of a tenant (W3C WebAuthn L3 §5.1.4.1 "RP ID"). The RP ID is the
 * tenant's public hostname (core/tenants/public-origin.ts): the bound hostname the request
 * arrived on, else the tenant's primary one, never the Host header of an unbound host, which
 * anyone can set. A tenant without a bound hostname has no RP: WebAuthn is refused (400).
 *
 * Verification accepts any of the tenant's bound hostnames as RP ID and their origins as the
 * client data's origin: every one of them is the tenant's own, and a passkey made on one brand
 * is scoped by the browser to that brand's RP ID anyway.
 */
export interface RelyingParty {
  /** The RP ID to put into options (registration `rp.id`, authentication `rpId`). */
  rpID: string;
  rpName: string;
  /** RP IDs and origins accepted in responses. */
  rpIDs: string[];
  origins: string[];
}

export async function relyingParty(svc: Services, scope: Scope, req: RequestAddress): Promise<RelyingParty> {
  const [origin, all] = await Promise.all([publicOrigin(svc, scope.tenant.id, req), publicOrigins(svc, scope.tenant.id, req)]);
  if (!origin || all.length === 0) throw new AuthError("invalid_request", "WebAuthn needs the tenant to have a bound hostname (its relying party ID)");
  const rpID = new URL(origin).hostname;
  return { rpID, rpName: scope.tenant.name || rpID, rpIDs: all.map((o) => o.hostname), origins: all.map((o) => o.origin) };
}
