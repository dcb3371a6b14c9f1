import type { SecretStore } from "../ports";

/** KV's smallest allowed expirationTtl. */
const MIN_TTL = 60;

/**
 * Expiring records in KV under `<prefix>:<sha256 digest>`. KV allows one write per key per
 * second and answers with up to 60 s of staleness: use it for records that are written once
 * and then read, never as the authority for "already used".
 */
export function KvSecretStore(kv: KVNamespace): SecretStore {
  return {
    async put(prefix, digest, value, ttlSeconds) {
      await kv.put(`${prefix}:${digest}`, JSON.stringify(value), { expirationTtl: Math.max(MIN_TTL, Math.ceil(ttlSeconds)) });
    },
    async get<T>(prefix: string, digest: string) {
      return (await kv.get<T>(`${prefix}:${digest}`, "json")) ?? null;
    },
    async delete(prefix, digest) {
      await kv.delete(`${prefix}:${digest}`);
    },
  };
}
