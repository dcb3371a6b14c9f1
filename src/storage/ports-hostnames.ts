/**
 * Storage port of the hostnames bound through Cloudflare for SaaS (issue 12). Same rules as
 * ports.ts: core depends on this, storage/d1/custom-hostname-store.ts implements it.
 */
import type { VerificationRecord } from "../core/tenants/cloudflare-custom-hostnames";
import type { DomainBinding } from "./ports";

export interface CustomHostnameRecord {
  hostname: string;
  tenantId: string;
  communityId: string;
  /** Cloudflare's custom hostname id. */
  cfId: string;
  sslMethod: "http" | "txt";
  status: string;
  sslStatus: string | null;
  records: VerificationRecord[];
  errors: string[];
  createdAt: number;
  checkedAt: number;
  /** When it was mapped to its tenant (`domains`); null while pending. */
  activeAt: number | null;
}

/** What a check against Cloudflare changes. */
export type CustomHostnameCheck = Pick<CustomHostnameRecord, "status" | "sslStatus" | "records" | "errors" | "checkedAt">;

export interface CustomHostnameStore {
  get(hostname: string): Promise<CustomHostnameRecord | null>;
  /** Throws DuplicateKeyError when the hostname already has a row. */
  create(r: CustomHostnameRecord): Promise<void>;
  /** Records a check (and a community change); false when the row is gone. */
  update(hostname: string, check: CustomHostnameCheck & { communityId?: string }): Promise<boolean>;
  /**
   * Records the check, sets `activeAt` and maps the hostname (`domains`) in one batch. The
   * mapping never takes a hostname another tenant holds in `domains`: false then, and nothing
   * is written.
   */
  promote(hostname: string, check: CustomHostnameCheck, binding: DomainBinding): Promise<boolean>;
  /** Deletes the row and the tenant's `domains` row for the hostname, in one batch. */
  remove(hostname: string, tenantId: string): Promise<void>;
  /** Pending rows checked before `checkedBefore`, oldest check first; not those Cloudflare no longer has (`deleted`). */
  due(checkedBefore: number, limit: number): Promise<CustomHostnameRecord[]>;
}
