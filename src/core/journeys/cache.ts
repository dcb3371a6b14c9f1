/**
 * The compiled policy, per community, per isolate (issue 10: "compiled once per community per
 * isolate ... invalidated on change everywhere within a stated bound").
 *
 * - An entry lives POLICY_CACHE_MS (10 s, the same bound as tenant settings): a change made in
 *   another isolate is seen within 10 s.
 * - A write in this isolate drops the entry at once (invalidatePolicy), so the writer's next
 *   evaluation sees its own change.
 * - A load that began before an invalidation must not store what it read: each community has a
 *   generation, bumped by every invalidation, and a load stores only if the generation it
 *   started under is still current.
 * - Loads are not shared between concurrent requests: workerd forbids awaiting one request's
 *   I/O from another, so two concurrent misses each read (at most a few times per 10 s).
 * - Each entry is one compile of one snapshot, so an evaluation sees all of an update or none.
 */
import type { CompiledPolicy } from "./compile";

export const POLICY_CACHE_MS = 10_000;
const MAX_ENTRIES = 1000;

let ttl = POLICY_CACHE_MS;
const entries = new Map<string, { at: number; policy: CompiledPolicy }>();
const generations = new Map<string, number>();

const keyOf = (tenantId: string, communityId: string) => `${tenantId}\u0000${communityId}`;

/** The cached policy of a community, if fresh. */
export function cachedPolicy(tenantId: string, communityId: string): CompiledPolicy | null {
  const key = keyOf(tenantId, communityId);
  const hit = entries.get(key);
  if (!hit) return null;
  if (Date.now() - hit.at >= ttl) {
    entries.delete(key);
    return null;
  }
  return hit.policy;
}

/** A token to hand back to storePolicy: the community's generation when a load starts. */
export function policyGeneration(tenantId: string, communityId: string): number {
  return generations.get(keyOf(tenantId, communityId)) ?? 0;
}

/** Stores a freshly compiled policy unless the community was invalidated since `generation`. */
export function storePolicy(tenantId: string, communityId: string, generation: number, policy: CompiledPolicy): void {
  const key = keyOf(tenantId, communityId);
  if ((generations.get(key) ?? 0) !== generation) return;
  if (entries.size >= MAX_ENTRIES && !entries.has(key)) entries.clear();
  entries.set(key, { at: Date.now(), policy });
}

/** Drops a community's compiled policy in this isolate (after every journey write). */
export function invalidatePolicy(tenantId: string, communityId: string): void {
  const key = keyOf(tenantId, communityId);
  entries.delete(key);
  if (generations.size >= MAX_ENTRIES && !generations.has(key)) generations.clear();
  generations.set(key, (generations.get(key) ?? 0) + 1);
}

/** Tests: shorten (or restore, with no argument) the 10 s lifetime, and empty the cache. */
export function setPolicyCacheTtlForTests(ms: number = POLICY_CACHE_MS): void {
  ttl = ms;
  entries.clear();
}
