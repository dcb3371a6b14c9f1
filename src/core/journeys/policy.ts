/**
 * Evaluating a community's policy (seed 004 "Auth Policy" and "Auth Policy V2"): the compiled
 * matcher from the isolate cache (cache.ts), compiled from one `svc.journeys.snapshot` so an
 * update never yields a mix of old and new rules, then the surface-independent outcome.
 */
import type { Scope, Services } from "../context";
import { routingMatches } from "../external-idps/routing";
import type { ExternalIdpBody } from "../external-idps/validate";
import { cachedPolicy, policyGeneration, storePolicy } from "./cache";
import { compilePolicy, decide, schemesOf, type CompiledPolicy, type PolicyQuery } from "./compile";
import type { AuthScheme, Facts, PolicyOutcome } from "./model";

/** The community's compiled policy (cached per isolate for up to 10 s; dropped at once by a local write). */
export async function compiledPolicy(svc: Services, scope: Scope): Promise<CompiledPolicy> {
  const t = scope.tenant.id;
  const c = scope.community.id;
  const hit = cachedPolicy(t, c);
  if (hit) return hit;
  const generation = policyGeneration(t, c);
  const policy = compilePolicy(await svc.journeys.snapshot(t, c));
  storePolicy(t, c, generation, policy);
  return policy;
}

/**
 * The policy's outcome for a login. When `idp_redirect` is among the allowed factors, `idps`
 * lists the community's external IdPs whose routingPolicy matches the facts' username (the
 * first) and groups (core/external-idps/routing.ts), in creation order.
 */
export async function evaluatePolicy(svc: Services, scope: Scope, q: PolicyQuery): Promise<PolicyOutcome> {
  const out = decide(await compiledPolicy(svc, scope), q);
  if (out.step !== "need_mfa" || !out.allowedFactors.includes("idp_redirect")) return out;
  const username = q.facts.usernames?.[0];
  const who = { ...(username !== undefined ? { username } : {}), ...(q.facts.groups !== undefined ? { groups: q.facts.groups } : {}) };
  const idps = (await svc.identity.externalIdps.list(scope.tenant.id, scope.community.id))
    .filter((r) => routingMatches(r.body as unknown as ExternalIdpBody, who))
    .map((r) => r.id);
  return { ...out, idps };
}

/** v2 `auth_policy/auth_schemes` (v2 journeys only). */
export async function authSchemes(svc: Services, scope: Scope, q: { facts: Facts; enforceFallback: boolean }): Promise<AuthScheme[]> {
  return schemesOf(await compiledPolicy(svc, scope), { facts: q.facts, done: [], versions: [2], enforceFallback: q.enforceFallback });
}
