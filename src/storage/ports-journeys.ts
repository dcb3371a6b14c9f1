/**
 * Storage port of the adaptive policy's journeys (issue 10). Same rules as ports.ts: core
 * depends on this, storage/d1/journey-store.ts implements it.
 */
import type { Journey, JourneyVersion } from "../core/journeys/model";

export interface JourneyRecord extends Journey {
  /** Bumped on every replacement (optimistic concurrency). */
  revision: number;
}

export interface JourneyStore {
  get(tenantId: string, communityId: string, version: JourneyVersion, id: string): Promise<JourneyRecord | null>;
  /** One version's journeys, in creation order. */
  list(tenantId: string, communityId: string, version: JourneyVersion): Promise<JourneyRecord[]>;
  /** Every journey of the community, both versions, read in one query (a consistent snapshot). */
  snapshot(tenantId: string, communityId: string): Promise<JourneyRecord[]>;
  count(tenantId: string, communityId: string, version: JourneyVersion): Promise<number>;
  create(r: JourneyRecord): Promise<void>;
  /** Replaces it if its stored revision is still `expectedRevision` (bumping it): false when gone or changed meanwhile. */
  replace(r: JourneyRecord, expectedRevision: number): Promise<boolean>;
  remove(tenantId: string, communityId: string, version: JourneyVersion, id: string): Promise<boolean>;
}
