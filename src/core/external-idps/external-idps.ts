import { open, seal } from "../../crypto/secret-box";
import { DuplicateKeyError, type ExternalIdpRecord } from "../../storage/ports-idp";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { OBJECT_ID, objectId } from "../service-providers/object-id";
import { certificateKey, keyPairProblem } from "./keys";
import { checkExternalIdp, type ExternalIdpBody } from "./validate";

/**
 * A community's external SAML IdPs (seed 004 "External Idp": `external_idp/fetch`,
 * `PUT external_idp`, `PATCH external_idp/{id}`, `DELETE external_idp/{id}`): the service is
 * the SP. `connection.spPrivateKey` is write-only: sealed at rest (secret-box, its own
 * purpose label) and never in any answer.
 *
 * PATCH is a full replacement, as the document says ("does a replacement of the external idp
 * config with the provided data"): a `routingPolicy` left out is removed. One exception,
 * because a key that is never shown cannot be sent back: a PATCH without `spPrivateKey` keeps
 * the stored key when `spSigningCertificate` is the stored one.
 */

export const SP_KEY_PURPOSE = "external-idp sp private key v1";

/** The document's object with its id, as every operation answers it (never the private key). */
export interface ExternalIdpView extends ExternalIdpBody {
  _id: string;
  tenantId: string;
  communityId: string;
  __v: number;
}

export function externalIdpView(r: ExternalIdpRecord): ExternalIdpView {
  const body = r.body as unknown as ExternalIdpBody;
  return { _id: r.id, tenantId: r.tenantId, communityId: r.communityId, ...body, __v: r.version };
}

function notFound(): never {
  throw new AuthError("not_found", "external idp not found");
}

async function checked(input: unknown): Promise<{ body: ExternalIdpBody; spPrivateKey: string | null }> {
  const v = checkExternalIdp(input);
  if (!v.ok) throw new AuthError("invalid_request", `${v.field}: ${v.message}`);
  // The ACS will verify with this key alone: refuse now a certificate whose key it could not use.
  if (!(await certificateKey(v.value.body.connection.idpSigningCertificate))) {
    throw new AuthError("invalid_request", "connection.idpSigningCertificate: has no RSA (2048 bits or more) or EC P-256 key");
  }
  if (v.value.spPrivateKey) {
    const problem = await keyPairProblem(v.value.body.connection.spSigningCertificate, v.value.spPrivateKey);
    if (problem) throw new AuthError("invalid_request", `connection.${problem}`);
  }
  return v.value;
}

const sealKey = (svc: Services, key: string) => seal(svc.config.keyEncryptionSecret, SP_KEY_PURPOSE, JSON.stringify({ spPrivateKey: key }));

/** The SP private key of a connection (PKCS#8 PEM), or null when it signs nothing. */
export async function externalIdpPrivateKey(svc: Services, r: ExternalIdpRecord): Promise<string | null> {
  if (!r.sealedSecrets) return null;
  const o = JSON.parse(await open(svc.config.keyEncryptionSecret, SP_KEY_PURPOSE, r.sealedSecrets)) as { spPrivateKey?: unknown };
  return typeof o.spPrivateKey === "string" ? o.spPrivateKey : null;
}

function duplicate(e: unknown): never {
  if (e instanceof DuplicateKeyError) throw new AuthError("invalid_request", "connection.idpEntityId: another external idp of this community has this entity id");
  throw e;
}

/** `POST external_idp/fetch`: all of the community's, or those of `ids` (unknown ids are left out). */
export async function fetchExternalIdps(svc: Services, scope: Scope, ids?: string[]): Promise<ExternalIdpView[]> {
  const all = (await svc.identity.externalIdps.list(scope.tenant.id, scope.community.id)).map(externalIdpView);
  if (ids === undefined) return all;
  const wanted = new Set(ids.filter((id) => OBJECT_ID.test(id)));
  return all.filter((x) => wanted.has(x._id));
}

/** `PUT external_idp`: creates one; answers it. */
export async function createExternalIdp(svc: Services, scope: Scope, input: unknown): Promise<ExternalIdpView> {
  const { body, spPrivateKey } = await checked(input);
  if (body.connection.spSigningCertificate && !spPrivateKey) throw new AuthError("invalid_request", "connection.spPrivateKey: is required with spSigningCertificate");
  const now = Date.now();
  const record: ExternalIdpRecord = {
    id: objectId(),
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    idpEntityId: body.connection.idpEntityId,
    body: body as unknown as Record<string, unknown>,
    sealedSecrets: spPrivateKey ? await sealKey(svc, spPrivateKey) : null,
    version: 0,
    createdAt: now,
    updatedAt: now,
  };
  await svc.identity.externalIdps.create(record).catch(duplicate);
  recordAudit(svc, scope, "external_idp_created", { detail: { id: record.id, idpEntityId: record.idpEntityId } });
  return externalIdpView(record);
}

/** `PATCH external_idp/{id}`: a full replacement (see the top of this file); answers the new object. */
export async function replaceExternalIdp(svc: Services, scope: Scope, id: string, input: unknown): Promise<ExternalIdpView> {
  if (!OBJECT_ID.test(id)) notFound();
  const current = await svc.identity.externalIdps.get(scope.tenant.id, scope.community.id, id);
  if (!current) notFound();
  const { body, spPrivateKey } = await checked(input);
  let sealedSecrets: string | null = null;
  if (spPrivateKey) sealedSecrets = await sealKey(svc, spPrivateKey);
  else if (body.connection.spSigningCertificate) {
    const stored = current.body as unknown as ExternalIdpBody;
    if (!current.sealedSecrets || stored.connection?.spSigningCertificate !== body.connection.spSigningCertificate) {
      throw new AuthError("invalid_request", "connection.spPrivateKey: is required with a new spSigningCertificate");
    }
    sealedSecrets = current.sealedSecrets;
  }
  const next: ExternalIdpRecord = { ...current, idpEntityId: body.connection.idpEntityId, body: body as unknown as Record<string, unknown>, sealedSecrets, updatedAt: Date.now() };
  const done = await svc.identity.externalIdps.replace(next, current.version).catch(duplicate);
  // A full replacement is not merged with a concurrent one: the loser is told, not re-applied.
  if (!done) throw new AuthError("conflict", "the external idp was changed by another request; fetch it and try again");
  recordAudit(svc, scope, "external_idp_updated", { detail: { id, idpEntityId: next.idpEntityId, keyChanged: spPrivateKey !== null } });
  return externalIdpView({ ...next, version: current.version + 1 });
}

/** `DELETE external_idp/{id}`. */
export async function deleteExternalIdp(svc: Services, scope: Scope, id: string): Promise<void> {
  if (!OBJECT_ID.test(id) || !(await svc.identity.externalIdps.remove(scope.tenant.id, scope.community.id, id))) notFound();
  recordAudit(svc, scope, "external_idp_deleted", { detail: { id } });
}
