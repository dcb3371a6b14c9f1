/**
 * Storage port of WebAuthn credentials (issue 11; table webauthn_credentials, migration 0009).
 * Core depends on this; storage/d1/webauthn-credential-store.ts implements it.
 */

/** A registered public-key credential (W3C WebAuthn Level 3 §4 "Credential Record"). */
export interface WebAuthnCredentialRecord {
  /** Our id (uuid): what the management routes and `authenticatorId` name. */
  id: string;
  tenantId: string;
  communityId: string;
  userUid: string;
  /** The credential ID, base64url, as the authenticator made it. */
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last accepted (WebAuthn §6.1.1). */
  counter: number;
  transports: string[] | null;
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  aaguid: string | null;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export type NewWebAuthnCredential = Omit<WebAuthnCredentialRecord, "lastUsedAt">;

export interface WebAuthnCredentialStore {
  /** Inserts; throws DuplicateKeyError (ports-authn.ts) when the tenant already has this credential ID. */
  create(c: NewWebAuthnCredential): Promise<void>;
  byCredentialId(tenantId: string, credentialId: string): Promise<WebAuthnCredentialRecord | null>;
  listForUser(tenantId: string, userUid: string): Promise<WebAuthnCredentialRecord[]>;
  /** Renames the user's credential; false when the user has no credential with that id. */
  rename(tenantId: string, userUid: string, id: string, name: string): Promise<boolean>;
  remove(tenantId: string, userUid: string, id: string): Promise<boolean>;
  /**
   * Records a verified use, atomically with the counter rule of WebAuthn L3 §6.1.1 / §7.2 step
   * 21: the stored counter moves to `counter` only when it increases, or when both are zero
   * (an authenticator without a counter). False when neither holds: a possible clone, nothing
   * written.
   */
  recordUse(tenantId: string, id: string, counter: number, backedUp: boolean, at: number): Promise<boolean>;
}
