import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { OBJECT_ID } from "../service-providers/object-id";
import { publicOrigin, type RequestAddress } from "../tenants/public-origin";
import { communitySpEndpoints } from "./endpoints";
import { startExternalLogin } from "./start-login";

/**
 * `samlRequest/generate` (seed 004): `{idpId, dns}` -> `{SAMLRequest, RedirectUrl,
 * RequestBinding, ForceAuthn}`. `dns` names the host our SP URLs (the ACS in the request) are
 * built on; it must be one of this tenant's bound hostnames, never an arbitrary host: the ACS
 * URL is where the IdP posts the user's assertion, so a caller-chosen host would send it
 * anywhere. One answer (400) for an unbound host and another tenant's host.
 */
export interface GeneratedSamlRequest {
  SAMLRequest: string;
  RedirectUrl: string;
  RequestBinding: "HTTP-Redirect" | "HTTP-POST";
  ForceAuthn: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export async function generateSamlRequest(svc: Services, scope: Scope, input: { idpId: string; dns: string }, req: RequestAddress): Promise<GeneratedSamlRequest> {
  const dns = input.dns.trim().toLowerCase().replace(/\.$/, "");
  const bound = HOSTNAME.test(dns) ? await svc.tenants.hostnames(scope.tenant.id) : [];
  if (!bound.includes(dns)) throw new AuthError("invalid_request", "dns: must be a hostname bound to this tenant");
  if (!OBJECT_ID.test(input.idpId)) throw new AuthError("not_found", "external idp not found");
  const idp = await svc.identity.externalIdps.get(scope.tenant.id, scope.community.id, input.idpId);
  if (!idp) throw new AuthError("not_found", "external idp not found");
  const origin = await publicOrigin(svc, scope.tenant.id, { ...req, hostname: dns });
  if (!origin) throw new AuthError("not_configured", "this tenant has no public address");
  const { acsUrl } = communitySpEndpoints(origin, scope.community.id);
  const started = await startExternalLogin(svc, scope.tenant.id, idp, { acsUrl, relayState: null, relay: null });
  return { SAMLRequest: started.samlRequest, RedirectUrl: started.url, RequestBinding: started.binding, ForceAuthn: started.forceAuthn };
}
