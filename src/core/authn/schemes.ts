import { DuplicateKeyError, type AuthScheme, type AuthSchemeInput, type AuthSchemeStore } from "../../storage/ports-authn";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { toHex } from "../../crypto/encoding";
import { randomBytes } from "../../crypto/random";

/**
 * Authentication schemes (seed 004, "Schemes"), with the document's three rules:
 *  1. no second scheme with the same (tag, communityId);
 *  2. the modules array has a unique `id` for each module (a module sent without one, as in
 *     the document's own example `modules: [{}]`, is given a new 24-hex id);
 *  3. one default per community: saving a scheme with isDefault true makes the previous
 *     default not default (the same transaction; a partial unique index backs it).
 * PATCH replaces the whole object ("Only full object can be updated").
 */
export interface SchemeView {
  _id: string;
  tag: string;
  communityId: string;
  enabled: boolean;
  isDefault: boolean;
  dbModule: Record<string, unknown> | null;
  modules?: Record<string, unknown>[];
  __v: number;
}

/** The document's scheme object (`_id`, `__v`); modules left out when not asked for. */
export function schemeView(s: AuthScheme, withModules = true): SchemeView {
  return {
    _id: s.id,
    tag: s.tag,
    communityId: s.communityId,
    enabled: s.enabled,
    isDefault: s.isDefault,
    dbModule: s.dbModule,
    ...(withModules ? { modules: s.modules } : {}),
    __v: s.version,
  };
}

const ID_PATTERN = /^[0-9a-f]{24}$/;

/** A new module id in the shape of the document's ObjectIds (24 hex characters, 96 random bits). */
function newModuleId(): string {
  return toHex(randomBytes(12));
}

/**
 * Rule 2: every module (and the dbModule) has an id, and no id repeats. Modules without one
 * get a generated id: the document's own PUT example sends `modules: [{}]`. Random 96-bit ids
 * cannot meet a given id or each other in practice; a repeated given id is refused.
 */
function withModuleIds(input: AuthSchemeInput): AuthSchemeInput {
  const seen = new Set<string>();
  const modules = input.modules.map((m, i) => {
    const id = m.id === undefined ? newModuleId() : m.id;
    if (typeof id !== "string" || id.length === 0) throw new AuthError("invalid_request", `modules.${i}.id must be a non-empty string`);
    if (seen.has(id)) throw new AuthError("invalid_request", `modules: duplicate module id "${id}"`);
    seen.add(id);
    return { ...m, id };
  });
  const dbModule = input.dbModule && input.dbModule.id === undefined ? { ...input.dbModule, id: newModuleId() } : input.dbModule;
  return { ...input, dbModule, modules };
}

function duplicateTag(e: unknown, tag: string): never {
  if (e instanceof DuplicateKeyError) {
    throw new AuthError("invalid_request", `an auth scheme with tag "${tag}" already exists in this community`);
  }
  throw e;
}

/** Lists the community's schemes; `onlyDefault` keeps the default one, `withModules` false drops modules. */
export async function fetchSchemes(store: AuthSchemeStore, scope: Scope, opts: { onlyDefault: boolean; withModules: boolean }): Promise<SchemeView[]> {
  const all = await store.list(scope.tenant.id, scope.community.id);
  return all.filter((s) => !opts.onlyDefault || s.isDefault).map((s) => schemeView(s, opts.withModules));
}

/** Creates a scheme in the scope's community (rules 1 to 3). */
export async function createScheme(svc: Services, store: AuthSchemeStore, scope: Scope, given: AuthSchemeInput): Promise<SchemeView> {
  const input = withModuleIds(given);
  const created = await store.create(scope.tenant.id, scope.community.id, input).catch((e: unknown) => duplicateTag(e, input.tag));
  recordAudit(svc, scope, "auth_scheme_created", { detail: { id: created.id, tag: created.tag } });
  return schemeView(created);
}

/** Replaces a scheme of the scope's community as a whole; not_found for any other id. */
export async function replaceScheme(svc: Services, store: AuthSchemeStore, scope: Scope, id: string, given: AuthSchemeInput): Promise<SchemeView> {
  const input = withModuleIds(given);
  if (!ID_PATTERN.test(id)) throw new AuthError("not_found", "auth scheme not found");
  const updated = await store.replace(scope.tenant.id, scope.community.id, id, input).catch((e: unknown) => duplicateTag(e, input.tag));
  if (!updated) throw new AuthError("not_found", "auth scheme not found");
  recordAudit(svc, scope, "auth_scheme_updated", { detail: { id, tag: updated.tag } });
  return schemeView(updated);
}

/** Deletes a scheme of the scope's community; not_found for any other id. */
export async function deleteScheme(svc: Services, store: AuthSchemeStore, scope: Scope, id: string): Promise<void> {
  if (!ID_PATTERN.test(id) || !(await store.remove(scope.tenant.id, scope.community.id, id))) {
    throw new AuthError("not_found", "auth scheme not found");
  }
  recordAudit(svc, scope, "auth_scheme_deleted", { detail: { id } });
}

/**
 * The scheme and module an authenticate call names: `schemeId` must be an enabled scheme of
 * this community (without it, the community's default is used when a `moduleId` is given);
 * `moduleId` must be the scheme's dbModule or one of its modules (a bare moduleId in a
 * community without a default scheme is only recorded).
 */
export async function resolveSchemeModule(
  store: AuthSchemeStore,
  scope: Scope,
  schemeId: string | undefined,
  moduleId: string | undefined,
): Promise<{ schemeId?: string; moduleId?: string }> {
  if (!schemeId && !moduleId) return {};
  let scheme: AuthScheme | null = null;
  if (schemeId) {
    scheme = ID_PATTERN.test(schemeId) ? await store.get(scope.tenant.id, scope.community.id, schemeId) : null;
  } else {
    scheme = (await store.list(scope.tenant.id, scope.community.id)).find((s) => s.isDefault) ?? null;
    // No default scheme: there is nothing to check a bare moduleId against; it is recorded.
    if (!scheme) return { moduleId: moduleId! };
  }
  if (!scheme || !scheme.enabled) throw new AuthError("invalid_request", "unknown or disabled auth scheme");
  if (moduleId) {
    const ids = [scheme.dbModule?.id, ...scheme.modules.map((m) => m.id)];
    if (!ids.includes(moduleId)) throw new AuthError("invalid_request", "unknown module for this auth scheme");
  }
  return { schemeId: scheme.id, ...(moduleId ? { moduleId } : {}) };
}
