import { sha256Hex } from "../../crypto/hash";
import { DuplicateKeyError, type IdentityProviderRecord } from "../../storage/ports-idp";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import type { RequestAddress } from "../tenants/public-origin";
import { checkOidcConfig, checkOidcConfigPatch, checkSamlConfig, checkSamlConfigPatch, type OidcConfig, type RuleResult, type SamlIdpSettings } from "./rules";
import { ensureSamlCredential, samlConfigView, samlIdpId, storedSamlSettings, type SamlIdpConfigView } from "./saml-idp";
import { forgetCommunityScopes } from "./scopes";

/**
 * A community's identity provider definitions (seed 004 "Identity Providers": `idp/fetch`,
 * `PUT idp`, `PATCH idp/{id}`, `DELETE idp/{id}`). Two types: `oidc`, the scopes and claims
 * the community's OpenID Provider (`/oidc/<communityId>`) offers; `saml` (issue 9), a named
 * entry for the community's SAML IdP whose entity ID, URLs and certificate are derived
 * (saml-idp.ts).
 *
 * One IdP of each type per community. The provider at `/oidc/<communityId>` has one set of scopes;
 * two definitions would need a merge rule, and whichever rule was chosen (refuse a scope
 * defined twice, first wins) could be broken by two racing saves that each see the other
 * absent. The IdP's id is therefore derived from (tenant, community, type), so the primary
 * key itself refuses a second one, races included; a second PUT is a 400 naming the
 * existing id. Deleting it and creating it again gives the same id.
 */
interface IdpViewBase {
  _id: string;
  tenantId: string;
  communityId: string;
  /** The document's `__v`: bumped on every update. */
  __v: number;
}
export type IdpView = (IdpViewBase & { type: "oidc"; oidc_config: OidcConfig }) | (IdpViewBase & { type: "saml"; saml_config: SamlIdpConfigView });

export type IdpType = "oidc" | "saml";
const TYPES: readonly string[] = ["oidc", "saml"] satisfies IdpType[];
const isType = (t: unknown): t is IdpType => typeof t === "string" && TYPES.includes(t);

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

/** The view of an OIDC IdP (synchronous: nothing is derived). */
export function idpView(r: IdentityProviderRecord): IdpView {
  return { _id: r.id, type: "oidc", tenantId: r.tenantId, communityId: r.communityId, oidc_config: storedConfig(r), __v: r.version };
}

/** Either type's view; `req` gives the SAML URLs the request's scheme and port in development. */
async function viewOf(svc: Services, scope: Scope, r: IdentityProviderRecord, req?: RequestAddress): Promise<IdpView> {
  if (r.type !== "saml") return idpView(r);
  const saml_config = await samlConfigView(svc, scope, storedSamlSettings(r), req);
  return { _id: r.id, type: "saml", tenantId: r.tenantId, communityId: r.communityId, saml_config, __v: r.version };
}

function notFound(): never {
  throw new AuthError("not_found", "identity provider not found");
}

/** `POST idp/fetch`: the community's IdPs, narrowed by `id` and `type` when given (no match: empty). */
/** `POST idp/fetch`: the community's IdPs, narrowed by `id` and `type` when given (no match: empty). */
export async function fetchIdps(svc: Services, scope: Scope, filter: { id?: string; type?: string }, req?: RequestAddress): Promise<IdpView[]> {
  if (filter.type !== undefined && !isType(filter.type)) return [];
  let rows: IdentityProviderRecord[];
  if (filter.id !== undefined) {
    if (!ID_PATTERN.test(filter.id)) return [];
    const one = await svc.identity.idps.get(scope.tenant.id, scope.community.id, filter.id);
    rows = one ? [one] : [];
  } else {
    rows = await svc.identity.idps.list(scope.tenant.id, scope.community.id);
  }
  rows = rows.filter((r) => filter.type === undefined || r.type === filter.type);
  return Promise.all(rows.map((r) => viewOf(svc, scope, r, req)));
}

const LABEL: Record<IdpType, string> = { oidc: "an OIDC IdP", saml: "a SAML IdP" };

/** `PUT idp`: creates the community's OIDC or SAML IdP; answers its id. */
export async function createIdp(svc: Services, scope: Scope, input: { type: string; oidc_config?: unknown; saml_config?: unknown }, req?: RequestAddress): Promise<string> {
  if (!isType(input.type)) throw new AuthError("invalid_request", 'type: must be "oidc" or "saml"');
  const type = input.type;
  let body: Record<string, unknown>;
  let detail: Record<string, unknown>;
  let id: string;
  if (type === "oidc") {
    const config = orRefuse(checkOidcConfig(input.oidc_config));
    id = await oidcIdpId(scope.tenant.id, scope.community.id);
    body = { _id: id, type, oidc_config: config };
    detail = { id, type, scopes: config.scopes.map((s) => s.name) };
  } else {
    const config: SamlIdpSettings = orRefuse(checkSamlConfig(input.saml_config));
    id = await samlIdpId(scope.tenant.id, scope.community.id);
    // Before the row: a tenant that cannot have a SAML IdP (no hostname) gets no entry either.
    await ensureSamlCredential(svc, scope, req);
    body = { _id: id, type, saml_config: config };
    detail = { id, type };
  }
  const now = Date.now();
  try {
    await svc.identity.idps.create({ id, tenantId: scope.tenant.id, communityId: scope.community.id, type, body, version: 0, createdAt: now, updatedAt: now });
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw new AuthError("invalid_request", `this community already has ${LABEL[type]} (${id}): update it with PATCH idp/${id}`);
    throw e;
  }
  if (type === "oidc") forgetCommunityScopes(scope.tenant.id, scope.community.id);
  recordAudit(svc, scope, "idp_created", { detail });
  return id;
}

/** Saves that raced another save of the same IdP are re-applied on the newer version this often. */
const MAX_ATTEMPTS = 3;

/**
 * `PATCH idp/{id}`: the given `oidc_config` fields (name, description, scopes) replace the
 * stored ones, `scopes` as a whole; for a SAML IdP, the given `saml_config` fields (name,
 * description). The payload's config must be the IdP's type (an `oidc_config` for a SAML IdP
 * is 400, after the id is found: an unknown id stays 404 whatever the payload). Answers the id.
 */
export async function updateIdp(svc: Services, scope: Scope, id: string, input: { type?: string; oidc_config?: unknown; saml_config?: unknown }): Promise<string> {
  if (input.type !== undefined && !isType(input.type)) throw new AuthError("invalid_request", 'type: must be "oidc" or "saml"');
  const given: IdpType | undefined = input.type ?? (input.saml_config !== undefined && input.oidc_config === undefined ? "saml" : input.oidc_config !== undefined ? "oidc" : undefined);
  if (input.oidc_config !== undefined && input.saml_config !== undefined) throw new AuthError("invalid_request", "body: give oidc_config or saml_config, not both");
  const oidcPatch = given === "saml" ? undefined : orRefuse(checkOidcConfigPatch(input.oidc_config));
  const samlPatch = given === "saml" ? orRefuse(checkSamlConfigPatch(input.saml_config)) : undefined;
  if (!ID_PATTERN.test(id)) notFound();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await svc.identity.idps.get(scope.tenant.id, scope.community.id, id);
    if (!current) notFound();
    if (current.type !== given) throw new AuthError("invalid_request", `type: this IdP is of type ${current.type}; send ${current.type}_config`);
    let body: Record<string, unknown>;
    let detail: Record<string, unknown>;
    if (current.type === "saml") {
      const config: SamlIdpSettings = { ...storedSamlSettings(current), ...samlPatch };
      body = { ...current.body, _id: id, type: "saml", saml_config: config };
      detail = { id, type: "saml" };
    } else {
      const config: OidcConfig = { ...storedConfig(current), ...oidcPatch };
      body = { ...current.body, _id: id, type: "oidc", oidc_config: config };
      detail = { id, type: "oidc", scopes: config.scopes.map((s) => s.name) };
    }
    const next: IdentityProviderRecord = { ...current, body, updatedAt: Date.now() };
    if (await svc.identity.idps.replace(next, current.version)) {
      if (current.type === "oidc") forgetCommunityScopes(scope.tenant.id, scope.community.id);
      recordAudit(svc, scope, "idp_updated", { detail });
      return id;
    }
  }
  throw new AuthError("conflict", "the identity provider is being changed by another request; try again");
}

/** `DELETE idp/{id}`. */
export async function deleteIdp(svc: Services, scope: Scope, id: string): Promise<void> {
  if (!ID_PATTERN.test(id) || !(await svc.identity.idps.remove(scope.tenant.id, scope.community.id, id))) notFound();
  // Deleting the SAML entry leaves the idp_config (the key) alone: it is the IdP's key for
  // every SP already registered, and PUT idp again shows the same entity ID and certificate.
  forgetCommunityScopes(scope.tenant.id, scope.community.id);
  recordAudit(svc, scope, "idp_deleted", { detail: { id } });
}
