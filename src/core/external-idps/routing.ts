import type { Scope, Services } from "../context";
import type { ExternalIdpRecord } from "../../storage/ports-idp";
import type { ExternalIdpBody, RoutingRule } from "./validate";

/**
 * Which external IdP a login goes to (seed 004 `routingPolicy`). The rule, as built:
 * - only IdPs whose `routingPolicy.enabled` is true take part (no routingPolicy: never routed
 *   to automatically; `samlRequest/generate` can still name it by id);
 * - every criterion present must hold (AND): `overlap` = the user's values share at least one
 *   with `value`; `nooverlap` = they share none. Usernames compare case-insensitively (logins
 *   are case-insensitive), groups exactly;
 * - a criterion about something the caller does not know (no username, no groups given) does
 *   not hold: an unknown user is never routed by a rule about users;
 * - an enabled policy with no criterion matches everyone;
 * - the first match in creation order wins (stable, and what an administrator sees in fetch).
 */

function holds(rule: RoutingRule | undefined, values: string[] | undefined, fold: boolean): boolean {
  if (!rule) return true;
  if (values === undefined) return false;
  const norm = (s: string) => (fold ? s.toLowerCase() : s);
  const mine = new Set(values.map(norm));
  const shared = rule.value.some((v) => mine.has(norm(v)));
  return rule.operator === "overlap" ? shared : !shared;
}

export function routingMatches(body: ExternalIdpBody, who: { username?: string; groups?: string[] }): boolean {
  const p = body.routingPolicy;
  if (!p?.enabled) return false;
  return holds(p.usernames, who.username === undefined ? undefined : [who.username], true) && holds(p.groups, who.groups, false);
}

export async function externalIdpFor(svc: Services, scope: Scope, who: { username?: string; groups?: string[] }): Promise<ExternalIdpRecord | null> {
  const all = await svc.identity.externalIdps.list(scope.tenant.id, scope.community.id);
  return all.find((r) => routingMatches(r.body as unknown as ExternalIdpBody, who)) ?? null;
}
