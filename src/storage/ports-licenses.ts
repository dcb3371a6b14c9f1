/**
 * Storage port of Authn API licenses (seed 004). Kept beside ports.ts (same rules: core
 * depends on this, D1 implements it in storage/d1/license-store.ts).
 */

/** Authn API license levels (seed 004), most privileged first. */
export type LicenseLevel = "system" | "service" | "service_ext" | "app" | "app_ext";

/** An Authn API license. The key is never stored, only its SHA-256. */
export interface License {
  id: string;
  /** Null for a deployment-wide system license. */
  tenantId: string | null;
  authLevel: LicenseLevel;
  /** Community ids the license is authorized for; "*" means every community of its tenant. */
  communities: string[];
  name: string;
  /** Epoch ms, or null for no expiry. */
  expiresAt: number | null;
  disabled: boolean;
  createdAt: number;
}

export interface LicenseStore {
  byKeyHash(keyHash: string): Promise<License | null>;
  byId(id: string): Promise<License | null>;
  create(l: License & { keyHash: string }): Promise<License>;
  /** Licenses of a tenant (null: the deployment-wide ones), newest first. */
  list(tenantId: string | null): Promise<License[]>;
  /** Sets the disabled flag; false when no such license exists. */
  setDisabled(id: string, disabled: boolean): Promise<boolean>;
}
