/**
 * Stores of two step-up factors (issue 11): UWL authenticators (uwl_authenticators) and
 * typing-pattern profiles (typing_profiles). Tables: src/storage/d1/schema/factors.ts.
 */

/** A UWL authenticator: the public key of a user's wallet app (core/uwl). */
export interface UwlAuthenticator {
  id: string;
  tenantId: string;
  communityId: string;
  userUid: string;
  /** base64 of the 65-byte uncompressed SEC1 point (crypto/authenticator-keys.ts). */
  publicKey: string;
  curve: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface UwlAuthenticatorStore {
  /** Adds one; `false` when the user already has this key (nothing changes). */
  add(a: UwlAuthenticator): Promise<boolean>;
  listForUser(tenantId: string, userUid: string): Promise<UwlAuthenticator[]>;
  /** The user's authenticator with this (normalised) key, or null. */
  findByKey(tenantId: string, userUid: string, publicKey: string): Promise<UwlAuthenticator | null>;
  remove(tenantId: string, userUid: string, id: string): Promise<boolean>;
  touch(tenantId: string, id: string, at: number): Promise<void>;
}

/** A typing profile row: the detector's model as JSON (core/typing/detector.ts owns its shape). */
export interface TypingProfileRow {
  tenantId: string;
  userUid: string;
  body: string;
  samples: number;
  revision: number;
  updatedAt: number;
}

export interface TypingProfileStore {
  get(tenantId: string, userUid: string): Promise<TypingProfileRow | null>;
  /** Creates or replaces the profile (enrolment); answers the new revision. */
  put(tenantId: string, userUid: string, body: string, samples: number, at: number): Promise<number>;
  /** Replaces the body only if the revision is still `revision`; false when it moved on. */
  update(tenantId: string, userUid: string, revision: number, body: string, at: number): Promise<boolean>;
}
