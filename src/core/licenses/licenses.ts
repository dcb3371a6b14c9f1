import { sha256Hex, timingSafeEqual } from "../../crypto/hash";
import { fromHex, toHex } from "../../crypto/encoding";
import { randomBytes, uuid } from "../../crypto/random";
import type { License, LicenseLevel, LicenseStore } from "../../storage/ports-licenses";
import { AuthError } from "../errors";

/**
 * Authn API licenses (seed 004 "License must be ..."): every licensed request names a license
 * key (encrypted in the `licensekey` header); the license's level and communities decide
 * which endpoints it may call. Keys are 256-bit random values, shown once at creation and
 * stored only as their SHA-256.
 */
export type { License, LicenseLevel };

export const LICENSE_LEVELS: readonly LicenseLevel[] = ["system", "service", "service_ext", "app", "app_ext"];

/**
 * How long an isolate trusts a license it has read: a license disabled (or expired by a
 * change) is refused by every isolate within this bound, and at once by the isolate that
 * disabled it. Documented in docs/api/authn.md.
 */
export const LICENSE_CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

/** The id of the license given by the BOOTSTRAP_SYSTEM_LICENSE secret. */
export const BOOTSTRAP_LICENSE_ID = "bootstrap";

interface Cached {
  at: number;
  license: License;
}

/**
 * Looks licenses up by key, with a short per-isolate cache (LICENSE_CACHE_MS). Unknown keys
 * are not cached, so a new license works at once. The bootstrap system license (a Worker
 * secret) is compared by digest in constant time and never stored.
 */
export class LicenseResolver {
  private readonly cache = new Map<string, Cached>();
  private bootstrapDigest: Promise<Uint8Array | null>;

  constructor(
    private readonly store: LicenseStore,
    bootstrapKey: string | null | undefined,
    private readonly cacheMs = LICENSE_CACHE_MS,
  ) {
    this.bootstrapDigest = bootstrapKey && bootstrapKey.length >= 16 ? sha256Hex(bootstrapKey).then(fromHex) : Promise.resolve(null);
  }

  /** The license for a key, or null when no license has this key. */
  async resolve(key: string): Promise<License | null> {
    if (typeof key !== "string" || key.length === 0 || key.length > 512) return null;
    const digest = await sha256Hex(key);
    const boot = await this.bootstrapDigest;
    if (boot && timingSafeEqual(boot, fromHex(digest))) return bootstrapLicense();
    const now = Date.now();
    const hit = this.cache.get(digest);
    if (hit && now - hit.at < this.cacheMs) return hit.license;
    const license = await this.store.byKeyHash(digest);
    if (!license) {
      this.cache.delete(digest);
      return null;
    }
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(digest, { at: now, license });
    return license;
  }

  /** Drops cached licenses (this isolate refuses a disabled license at once). */
  forget(licenseId?: string): void {
    if (!licenseId) return this.cache.clear();
    for (const [k, v] of this.cache) if (v.license.id === licenseId) this.cache.delete(k);
  }
}

function bootstrapLicense(): License {
  return { id: BOOTSTRAP_LICENSE_ID, tenantId: null, authLevel: "system", communities: ["*"], name: "bootstrap (BOOTSTRAP_SYSTEM_LICENSE)", expiresAt: null, disabled: false, createdAt: 0 };
}

export interface LicenseRequirement {
  /** The levels the endpoint accepts (seed 004 names them per endpoint). */
  levels: readonly LicenseLevel[] | "any";
  /** The tenant of the path, when the path names one. */
  tenantId: string | null;
  /** The community of the path, when the endpoint requires the license be authorized for it. */
  communityId: string | null;
  now?: number;
}

/**
 * Decides whether a license may call an endpoint. Disabled and expired licenses are bad
 * credentials (`invalid_credentials`, 401); a good license used where it is not allowed (level,
 * tenant, community) is `forbidden` (403). A system license is deployment-wide: it is accepted
 * for every tenant and community.
 */
export function authorizeLicense(license: License, req: LicenseRequirement): void {
  const now = req.now ?? Date.now();
  if (license.disabled) throw new AuthError("invalid_credentials", "license is disabled");
  if (license.expiresAt !== null && license.expiresAt <= now) throw new AuthError("invalid_credentials", "license has expired");
  if (req.levels !== "any" && !req.levels.includes(license.authLevel)) {
    throw new AuthError("forbidden", `license level ${license.authLevel} is not accepted here (needs ${req.levels.join(", ")})`);
  }
  if (license.authLevel === "system" && license.tenantId === null) return;
  if (req.tenantId !== null && license.tenantId !== req.tenantId) throw new AuthError("forbidden", "license is not authorized for this tenant");
  if (req.communityId !== null && !license.communities.includes("*") && !license.communities.includes(req.communityId)) {
    throw new AuthError("forbidden", "license is not authorized for this community");
  }
}

/** A new license key: 256 random bits as hex (the reference licenses are opaque strings). */
export function generateLicenseKey(): string {
  return toHex(randomBytes(32));
}

export interface CreateLicenseInput {
  tenantId: string | null;
  authLevel: LicenseLevel;
  communities: string[];
  name?: string;
  expiresAt?: number | null;
}

/** Creates a license; the key is returned once and only its SHA-256 is stored. */
export async function createLicense(store: LicenseStore, input: CreateLicenseInput): Promise<{ license: License; licenseKey: string }> {
  if (input.tenantId === null && input.authLevel !== "system") throw new AuthError("invalid_request", "only system licenses may be deployment-wide");
  if (input.expiresAt != null && input.expiresAt <= Date.now()) throw new AuthError("invalid_request", "expiresAt must be in the future");
  const licenseKey = generateLicenseKey();
  const license = await store.create(await newLicenseRow(licenseKey, input));
  return { license, licenseKey };
}

/** The stored form of a new license: its key only as a SHA-256 digest. */
async function newLicenseRow(licenseKey: string, input: CreateLicenseInput): Promise<License & { keyHash: string }> {
  return {
    id: uuid(),
    keyHash: await sha256Hex(licenseKey),
    tenantId: input.tenantId,
    authLevel: input.authLevel,
    communities: [...new Set(input.communities)],
    name: input.name ?? "",
    expiresAt: input.expiresAt ?? null,
    disabled: false,
    createdAt: Date.now(),
  };
}

/**
 * Registers a license under a key the caller generated (the development seed, whose script
 * keeps the key in .demo-credentials.json). Idempotent on the key: an existing license with
 * this key is answered as is.
 */
export async function registerLicenseKey(store: LicenseStore, licenseKey: string, input: CreateLicenseInput): Promise<License> {
  if (licenseKey.length < 32) throw new AuthError("invalid_request", "license keys have at least 32 characters");
  const existing = await store.byKeyHash(await sha256Hex(licenseKey));
  if (existing) return existing;
  return store.create(await newLicenseRow(licenseKey, input));
}
