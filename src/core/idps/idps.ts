import { sha256Hex } from "../../crypto/hash";
import { DuplicateKeyError, type IdentityProviderRecord } from "../../storage/ports-idp";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { checkOidcConfig, checkOidcConfigPatch, type OidcConfig, type RuleResult } from "./rules";
import { forgetCommunityScopes } from "./scopes";

/**
 * A community's identity provider definitions (seed 004 "Identity Providers": `idp/fetch`,
 * `PUT idp`, `PATCH idp/{id}`, `DELETE idp/{id}`). The only type is `oidc`: the scopes and
 * claims the community's OpenID Provider (`/oidc/<communityId>`) offers.
 *
 * One OIDC IdP per community. The provider at `/oidc/<communityId>` has one set of scopes;
 * two definitions would need a merge rule, and whichever rule was chosen (refuse a scope
 * defined twice, first wins) could be broken by two racing saves that each see the other
 * absent. The IdP's id is therefore derived from (tenant, community, type), so the primary
 * key itself refuses a second one, races included; a second PUT is a 400 naming the
 * existing id. Deleting it and creating it again gives the same id.
 */
export interface IdpView {
  _id: string;
  type: "oidc";
  tenantId: string;
  communityId: string;
  oidc_config: OidcConfig;
  /** The document's `__v`: bumped on every update. */
  __v: number;
}

const ID_PATTERN = /^[0-9a-f]{24}$/;

/** The id of the community's OIDC IdP: 24 hex characters (the document's ObjectId shape). */
export async function oidcIdpId(tenantId: string, communityId: string): Promise<string> {
  return (await sha256Hex(`idp\u0000oidc\u0000${tenantId}\u0000${communityId}`)).slice(0, 24);
}

function orRefuse<T>(r: RuleResult<T>): T {
  if (!r.ok) throw new AuthError("invalid_request", `${r.field}: ${r.message}`);
  return r.value;
}

/** The stored config as written (validated then); a malformed one shows as empty rather than failing the list. */
function storedConfig(r: IdentityProviderRecord): OidcConfig {
  const c = checkOidcConfig(r.body.oidc_config);
  return c.ok ? c.value : { name: "", description: "", scopes: [] };
}

export function idpView(r: IdentityProviderRecord): IdpView {
  return { _id: r.id, type: "oidc", tenantId: r.tenantId, communityId: r.communityId, oidc_config: storedConfig(r), __v: r.version };
}

function notFound(): never {
  throw new AuthError("not_found", "identity provider not found");
}

/** `POST idp/fetch`: the community's IdPs, narrowed by `id` and `type` when given (no match: empty). */
export async function fetchIdps(svc: Services, scope: Scope, filter: { id?: string; type?: string }): Promise<IdpView[]> {
  if (filter.type !== undefined && filter.type !== "oidc") return [];
  if (filter.id !== undefined) {
    if (!ID_PATTERN.test(filter.id)) return [];
    const one = await svc.identity.idps.get(scope.tenant.id, scope.community.id, filter.id);
    return one ? [idpView(one)] : [];
  }
  return (await svc.identity.idps.list(scope.tenant.id, scope.community.id)).map(idpView);
}

/** `PUT idp`: creates the community's OIDC IdP; answers its id. */
export async function createIdp(svc: Services, scope: Scope, input: { type: string; oidc_config: unknown }): Promise<string> {
  if (input.type !== "oidc") throw new AuthError("invalid_request", 'type: only "oidc" is supported (the SAML IdP is configured through idp_config)');
  const config = orRefuse(checkOidcConfig(input.oidc_config));
  const id = await oidcIdpId(scope.tenant.id, scope.community.id);
  const now = Date.now();
  try {
    await svc.identity.idps.create({
      id,
      tenantId: scope.tenant.id,
      communityId: scope.community.id,
      type: "oidc",
      body: { _id: id, type: "oidc", oidc_config: config },
      version: 0,
      createdAt: now,
      updatedAt: now,
    });
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw new AuthError("invalid_request", `this community already has an OIDC IdP (${id}): update it with PATCH idp/${id}`);
    throw e;
  }
  forgetCommunityScopes(scope.tenant.id, scope.community.id);
  recordAudit(svc, scope, "idp_created", { detail: { id, scopes: config.scopes.map((s) => s.name) } });
  return id;
}

/** Saves that raced another save of the same IdP are re-applied on the newer version this often. */
const MAX_ATTEMPTS = 3;

/**
 * `PATCH idp/{id}`: the given `oidc_config` fields (name, description, scopes) replace the
 * stored ones; `scopes` is replaced as a whole. Answers the id.
 */
export async function updateIdp(svc: Services, scope: Scope, id: string, input: { type?: string; oidc_config: unknown }): Promise<string> {
  if (input.type !== undefined && input.type !== "oidc") throw new AuthError("invalid_request", 'type: only "oidc" is supported');
  const patch = orRefuse(checkOidcConfigPatch(input.oidc_config));
  if (!ID_PATTERN.test(id)) notFound();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await svc.identity.idps.get(scope.tenant.id, scope.community.id, id);
    if (!current) notFound();
    const config: OidcConfig = { ...storedConfig(current), ...patch };
    const next: IdentityProviderRecord = { ...current, body: { ...current.body, _id: id, type: "oidc", oidc_config: config }, updatedAt: Date.now() };
    if (await svc.identity.idps.replace(next, current.version)) {
      forgetCommunityScopes(scope.tenant.id, scope.community.id);
      recordAudit(svc, scope, "idp_updated", { detail: { id, scopes: config.scopes.map((s) => s.name) } });
      return id;
    }
  }
  throw new AuthError("conflict", "the identity provider is being changed by another request; try again");
}

/** `DELETE idp/{id}`. */
export async function deleteIdp(svc: Services, scope: Scope, id: string): Promise<void> {
  if (!ID_PATTERN.test(id) || !(await svc.identity.idps.remove(scope.tenant.id, scope.community.id, id))) notFound();
  forgetCommunityScopes(scope.tenant.id, scope.community.id);
  recordAudit(svc, scope, "idp_deleted", { detail: { id } });
}
