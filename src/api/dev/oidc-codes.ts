import { z } from "zod";
import type { Services } from "../../core/context";
import { AuthError } from "../../core/errors";
import { issueAuthorizationCode } from "../../core/oidc-provider/codes";
import { sha256Hex } from "../../crypto/hash";
import { s256Challenge } from "../../protocols/oidc/pkce";

/**
 * POST /dev/oidc-codes (development only): registers (or re-keys) a confidential OIDC client
 * `bench-rp` in a community and mints authorization codes for one of its users, as the hosted
 * login would after a sign-in. The benchmark (bench/scenarios/70-oidc.mjs) needs a fresh code
 * per token request and has no browser; the codes carry the PKCE challenge of BENCH_VERIFIER.
 */
export const OidcCodesRequest = z.object({
  tenantId: z.string().min(1).max(128),
  communityId: z.string().min(1).max(128),
  /** The user the codes are for: by uid, or by username in the community. */
  uid: z.string().min(1).max(128).optional(),
  username: z.string().min(1).max(128).optional(),
  clientSecret: z.string().min(16).max(256),
  count: z.number().int().min(1).max(20_000),
});
export const BENCH_CLIENT_ID = "bench-rp";
export const BENCH_REDIRECT_URI = "http://127.0.0.1/bench/callback";
/** RFC 7636 Appendix B's verifier: the bench sends it with every exchange. */
export const BENCH_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

export async function mintBenchCodes(svc: Services, req: z.infer<typeof OidcCodesRequest>): Promise<{ clientId: string; redirectUri: string; verifier: string; codes: string[] }> {
  const community = await svc.tenants.getCommunity(req.communityId);
  const user = req.uid ? await svc.users.byUid(req.tenantId, req.uid) : req.username ? await svc.users.byUsername(req.communityId, req.username) : null;
  if (!community || community.tenantId !== req.tenantId || !user || user.communityId !== community.id) throw new AuthError("not_found", "no such community or user");
  const secretHash = await sha256Hex(req.clientSecret);
  const now = Date.now();
  const body = {
    name: "Benchmark RP",
    oidc_config: { client_id: BENCH_CLIENT_ID, client_name: "Benchmark RP", redirect_uris: [BENCH_REDIRECT_URI], grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "client_secret_basic" },
  };
  const existing = await svc.identity.serviceProviders.findByClientId(req.tenantId, community.id, BENCH_CLIENT_ID);
  if (existing) {
    if (existing.secretHash !== secretHash) await svc.identity.serviceProviders.replace({ ...existing, secretHash, body, updatedAt: now }, existing.version);
  } else {
    const id = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
    await svc.identity.serviceProviders.create({ id, tenantId: req.tenantId, communityId: community.id, type: "oidc", featured: null, name: "Benchmark RP", clientId: BENCH_CLIENT_ID, entityId: null, secretHash, sealedSecrets: null, body, version: 1, createdAt: now, updatedAt: now });
  }
  const codeChallenge = await s256Challenge(BENCH_VERIFIER);
  const authTime = Math.floor(now / 1000);
  const codes: string[] = [];
  // In batches: one KV write per code.
  for (let i = 0; i < req.count; i += 100) {
    const batch = Array.from({ length: Math.min(100, req.count - i) }, () =>
      issueAuthorizationCode(svc, {
        tenantId: req.tenantId, communityId: community.id, clientId: BENCH_CLIENT_ID, redirectUri: BENCH_REDIRECT_URI, uid: user.uid,
        scopes: ["openid", "profile", "email"], codeChallenge, authTime, amr: ["pwd"], acr: "urn:edge-auth:acr:password", ssoSessionId: `bench-${crypto.randomUUID()}`,
      }),
    );
    codes.push(...(await Promise.all(batch)));
  }
  return { clientId: BENCH_CLIENT_ID, redirectUri: BENCH_REDIRECT_URI, verifier: BENCH_VERIFIER, codes };
}
