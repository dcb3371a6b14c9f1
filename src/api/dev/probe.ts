import type { Services } from "../../core/context";
import { AuthError } from "../../core/errors";
import { parseTenantSettings } from "../../core/tenants/settings";
import { signJwt } from "../../crypto/jwt";
import { randomToken } from "../../crypto/random";

/**
 * Storage and crypto primitives, timed one kind at a time by the benchmark (`npm run bench --
 * --probe`), so that a route's cost can be explained by the hops it makes. Development only
 * (mounted under /dev). Each op runs `n` times sequentially inside one request.
 */
export const PROBE_OPS = ["none", "do-read", "do-write", "kv-get", "kv-put", "d1-read", "sign"] as const;
export type ProbeOp = (typeof PROBE_OPS)[number];

const PROBE_TENANT = "demo";

export async function runProbe(svc: Services, op: ProbeOp, n: number): Promise<void> {
  const tenant = await svc.tenants.getTenant(PROBE_TENANT);
  if (!tenant) throw new AuthError("not_found", "seed the demo tenant first (POST /dev/seed)");
  const community = (await svc.tenants.listCommunities(tenant.id))[0];
  if (!community) throw new AuthError("not_found", "the demo tenant has no community");
  const scope = { tenant, settings: parseTenantSettings(tenant.settings), community, ip: "192.0.2.1", userAgent: null };
  const probeSub = `probe:${crypto.randomUUID()}`;
  for (let i = 0; i < n; i++) {
    switch (op) {
      case "none":
        break;
      case "do-read": // one RateLimiter read (what a lockout guard costs per key)
        await svc.limiter.failures(scope, "probe", "probe");
        break;
      case "do-write": // one TokenAuthority write (what opening a session costs)
        await svc.authority.open(tenant.id, probeSub, crypto.randomUUID(), null, Date.now() + 60_000, Date.now() + 60_000);
        break;
      case "kv-get":
        await svc.secrets.get("probe", "missing");
        break;
      case "kv-put": // what storing a refresh-token record costs
        await svc.secrets.put("probe", randomToken(), { i }, 60);
        break;
      case "d1-read": // one indexed user lookup
        await svc.users.byUsername(community.id, "alice");
        break;
      case "sign": // one ES256 access-token signature
        await signJwt(svc.keyring, { probe: true }, { kind: "access", issuer: "probe", audience: "probe", subject: "probe", ttlSeconds: 60 });
        break;
    }
  }
}
