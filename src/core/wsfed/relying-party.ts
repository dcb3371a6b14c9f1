import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import type { ServiceProviderRecord } from "../../storage/ports-idp";
import { samlSpOf, type SamlSp } from "../saml-idp/service-provider";
import type { WsFedTokenType } from "../../protocols/wsfed/wresult";

/**
 * The WS-Federation relying party a sign-in addresses: a service provider of type `saml` in
 * this community whose `saml_config.entityId` is the request's `wtrealm` and whose
 * `saml_config.wsfed.enabled` is true. An unknown realm, another community's realm and a
 * realm without WS-Fed are the same refusal: nothing tells them apart.
 */
export interface RelyingParty {
  id: string;
  name: string;
  realm: string;
  /** saml_config.assertionConsumerServiceURL: where the wresult is posted. */
  replyUrl: string;
  tokenType: WsFedTokenType;
  /** The SAML view of the same service provider (core/saml-idp), for NameID and attributes. */
  sp: SamlSp;
}

const UNKNOWN = () => new AuthError("not_found", "no WS-Federation relying party with this wtrealm");

function relyingPartyOf(r: ServiceProviderRecord): RelyingParty | null {
  if (r.type !== "saml") return null;
  const cfg = r.body.saml_config as Record<string, unknown> | undefined;
  const wsfed = cfg?.wsfed as { enabled?: unknown; tokenType?: unknown } | null | undefined;
  if (!cfg || !wsfed || wsfed.enabled !== true) return null;
  const sp = samlSpOf(r);
  if (!sp) return null;
  return {
    id: r.id,
    name: r.name,
    realm: sp.entityId,
    replyUrl: sp.acsUrl,
    tokenType: wsfed.tokenType === "saml20" ? "saml20" : "saml11",
    sp,
  };
}

export async function findRelyingParty(svc: Services, scope: Scope, wtrealm: string): Promise<RelyingParty> {
  const r = await svc.identity.serviceProviders.findByEntityId(scope.tenant.id, scope.community.id, wtrealm);
  const rp = r && r.tenantId === scope.tenant.id && r.communityId === scope.community.id ? relyingPartyOf(r) : null;
  if (!rp) throw UNKNOWN();
  return rp;
}

/** The relying party by its service provider id (a login transaction carries the id). */
export async function relyingPartyById(svc: Services, scope: Scope, id: string): Promise<RelyingParty | null> {
  const r = await svc.identity.serviceProviders.get(scope.tenant.id, scope.community.id, id);
  return r ? relyingPartyOf(r) : null;
}

/**
 * Where the wresult goes (WS-Federation 1.2 §13.2.1 wreply): the registered reply URL when
 * the request names none; when it names one, that URL only if it is the registered endpoint:
 * the same origin and path (a query of its own is allowed, a fragment never). Anything else is
 * refused, never followed: a wreply is how an open redirect would carry a signed token away.
 */
export function replyTarget(rp: RelyingParty, wreply: string | undefined): string {
  if (wreply === undefined) return rp.replyUrl;
  let given: URL;
  let registered: URL;
  try {
    given = new URL(wreply);
    registered = new URL(rp.replyUrl);
  } catch {
    throw new AuthError("invalid_request", "wreply is not the relying party's registered address");
  }
  if (given.hash || given.username || given.password || given.origin !== registered.origin || given.pathname !== registered.pathname) {
    throw new AuthError("invalid_request", "wreply is not the relying party's registered address");
  }
  return wreply;
}
