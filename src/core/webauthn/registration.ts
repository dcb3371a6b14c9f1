import { generateRegistrationOptions, verifyRegistrationResponse, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON } from "@simplewebauthn/server";
import { fromBase64Url, toBase64Url, utf8 } from "../../crypto/encoding";
import { uuid } from "../../crypto/random";
import type { User } from "../../storage/ports";
import { DuplicateKeyError } from "../../storage/ports-authn";
import type { WebAuthnCredentialRecord } from "../../storage/ports-webauthn";
import { recordAudit } from "../audit/audit";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { challengeOfClientData, consumeChallenge, findChallenge, issueChallenge } from "./challenges";
import type { RelyingParty } from "./relying-party";

/**
 * Registration of WebAuthn credentials (W3C WebAuthn L3 §7.1 "Registering a New Credential")
 * for a user who proved who they are (core/authn/factors.ts enrolmentUser). Attestation
 * `none` (§8.7): the service does not judge authenticator makes, so it asks for none and
 * stores the AAGUID only as a label. Resident keys are preferred, so the credential can serve
 * discoverable sign-in (no username); user verification is preferred here and decided at
 * sign-in (required for passwordless use).
 */
export const MAX_CREDENTIALS_PER_USER = 20;
const NAME_MAX = 64;

/** What the management routes show of a credential (never its public key). */
export interface CredentialView {
  id: string;
  name: string;
  credentialId: string;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  aaguid: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

export function credentialView(c: WebAuthnCredentialRecord): CredentialView {
  return {
    id: c.id,
    name: c.name,
    credentialId: c.credentialId,
    transports: c.transports ?? [],
    deviceType: c.deviceType,
    backedUp: c.backedUp,
    aaguid: c.aaguid,
    createdAt: c.createdAt,
    lastUsedAt: c.lastUsedAt,
  };
}

function cleanName(name: string | undefined, fallback: string): string {
  const n = (name ?? "").trim();
  if (n.length > NAME_MAX) throw new AuthError("invalid_request", `name is longer than ${NAME_MAX} characters`);
  return n || fallback;
}

/** Creation options for `navigator.credentials.create()`, with a fresh challenge bound to the user. */
export async function registrationOptions(svc: Services, scope: Scope, rp: RelyingParty, user: User): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await svc.webauthn.listForUser(scope.tenant.id, user.uid);
  if (existing.length >= MAX_CREDENTIALS_PER_USER) throw new AuthError("invalid_request", `a user may register at most ${MAX_CREDENTIALS_PER_USER} WebAuthn credentials`);
  const { bytes, ttlMs } = await issueChallenge(svc, scope, "registration", { uid: user.uid });
  const displayName = [user.firstName, user.lastName].filter(Boolean).join(" ") || user.username;
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: user.username,
    userDisplayName: displayName,
    // The user handle is the uid: opaque, no personal data (WebAuthn L3 §14.6.1).
    userID: new Uint8Array(utf8(user.uid)),
    challenge: new Uint8Array(bytes),
    timeout: ttlMs,
    attestationType: "none",
    // §5.4.3: an authenticator already holding one of the user's credentials is not asked again.
    excludeCredentials: existing.map((c) => ({ id: c.credentialId, ...(c.transports ? { transports: c.transports } : {}) })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
  });
}

/**
 * Verifies the authenticator's answer (§7.1 steps 5-27 through @simplewebauthn/server) and
 * stores the credential. The challenge must be one this user was given; it is used up once the
 * response is verified, so a second submission of the same response is refused.
 */
export async function registerCredential(svc: Services, scope: Scope, rp: RelyingParty, user: User, response: RegistrationResponseJSON, name?: string): Promise<CredentialView> {
  const challenge = challengeOfClientData(response.response.clientDataJSON);
  const rec = await findChallenge(svc, scope, challenge, "registration");
  if (rec.uid !== user.uid) throw new AuthError("invalid_credentials", "the WebAuthn challenge is unknown, expired or already used");
  const label = cleanName(name, "Passkey");
  let info;
  try {
    const v = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: rp.origins, expectedRPID: rp.rpIDs, requireUserVerification: false });
    if (!v.verified) throw new Error("not verified");
    info = v.registrationInfo;
  } catch (e) {
    recordAudit(svc, scope, "webauthn_registration_failed", { userId: user.uid, detail: { reason: e instanceof Error ? e.message.slice(0, 200) : "invalid" } });
    throw new AuthError("invalid_credentials", "the WebAuthn registration response could not be verified");
  }
  await consumeChallenge(svc, scope, rec);
  const record = {
    id: uuid(),
    tenantId: scope.tenant.id,
    communityId: user.communityId,
    userUid: user.uid,
    credentialId: info.credential.id,
    publicKey: toBase64Url(info.credential.publicKey),
    counter: info.credential.counter,
    transports: response.response.transports?.length ? [...response.response.transports] : null,
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid,
    name: label,
    createdAt: Date.now(),
  } as const;
  try {
    await svc.webauthn.create(record);
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw new AuthError("conflict", "this credential is already registered");
    throw e;
  }
  recordAudit(svc, scope, "webauthn_registered", { userId: user.uid, detail: { credential: record.id, aaguid: info.aaguid, deviceType: info.credentialDeviceType } });
  return credentialView({ ...record, transports: record.transports, lastUsedAt: null });
}

export async function listCredentials(svc: Services, scope: Scope, user: User): Promise<CredentialView[]> {
  return (await svc.webauthn.listForUser(scope.tenant.id, user.uid)).map(credentialView);
}

export async function renameCredential(svc: Services, scope: Scope, user: User, id: string, name: string): Promise<void> {
  const label = cleanName(name, "");
  if (!label) throw new AuthError("invalid_request", "name is required");
  if (!(await svc.webauthn.rename(scope.tenant.id, user.uid, id, label))) throw new AuthError("not_found", "no such WebAuthn credential");
  recordAudit(svc, scope, "webauthn_renamed", { userId: user.uid, detail: { credential: id } });
}

export async function deleteCredential(svc: Services, scope: Scope, user: User, id: string): Promise<void> {
  if (!(await svc.webauthn.remove(scope.tenant.id, user.uid, id))) throw new AuthError("not_found", "no such WebAuthn credential");
  recordAudit(svc, scope, "webauthn_deleted", { userId: user.uid, detail: { credential: id } });
}

/** Decodes a stored base64url public key for verification. */
export function storedPublicKey(c: WebAuthnCredentialRecord): Uint8Array {
  return fromBase64Url(c.publicKey);
}
