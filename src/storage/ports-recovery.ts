/**
 * TOTP recovery codes (issue 11; table recovery_codes, migration 0009). The store sees only
 * digests (core/mfa/recovery-codes.ts makes them); a code in clear never reaches storage.
 */
export interface RecoveryCodeStore {
  /** Replaces every code of the user with these digests (a regeneration voids the old set at once). */
  replace(tenantId: string, userUid: string, digests: readonly string[], now: number): Promise<void>;
  /**
   * Marks the unused code with this digest used. True for exactly one caller per code: the
   * UPDATE is conditional on `used_at IS NULL` and D1 applies single statements atomically.
   */
  consume(tenantId: string, userUid: string, digest: string, now: number): Promise<boolean>;
  /** How many codes the user has left unused. */
  remaining(tenantId: string, userUid: string): Promise<number>;
}
