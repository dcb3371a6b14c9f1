import { sha256Hex, timingSafeEqualString } from "../../crypto/hash";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { externalSubjectOf } from "./provision";

/**
 * Okta token inline hook (Sentinel POST /enrichToken). Okta calls it while minting tokens,
 * sending the token's claims; the answer is Okta's `commands` array, which adds this service's
 * roles and organisation to the access token (and the ID token, when Okta is minting one).
 * Okta: "Token inline hook reference", com.okta.oauth2.tokens.transform,
 * com.okta.access.patch / com.okta.identity.patch.
 *
 * The hook is authenticated by a shared secret header configured per tenant
 * (settings.oktaTokenHook: header name, SHA-256 of the secret), compared in constant time and
 * rate limited like every credential check.
 */
export interface OktaHookRequest {
  data?: {
    context?: { user?: { id?: unknown; profile?: { login?: unknown } } };
    identity?: { claims?: Record<string, unknown> } | null;
    access?: { claims?: Record<string, unknown> } | null;
  };
}

export interface OktaPatchOp {
  op: "add" | "replace";
  path: string;
  value: unknown;
}

export interface OktaHookResponse {
  commands: { type: "com.okta.access.patch" | "com.okta.identity.patch"; value: OktaPatchOp[] }[];
}

export const DEFAULT_HOOK_HEADER = "authorization";

/** The header the tenant's Okta sends the secret in (lower case). */
export function oktaHookHeader(scope: Scope): string {
  return (scope.settings.oktaTokenHook?.header ?? DEFAULT_HOOK_HEADER).toLowerCase();
}

/** Checks the hook's shared secret; `invalid_client` when missing, wrong, or not configured. */
export async function authenticateOktaHook(svc: Services, scope: Scope, presented: string | null | undefined): Promise<void> {
  const cfg = scope.settings.oktaTokenHook;
  await svc.limiter.guard(scope, "okta-hook", "hook");
  const ok = !!cfg && typeof presented === "string" && presented.length > 0 && presented.length <= 1024 && (await timingSafeEqualString(await sha256Hex(presented), cfg.secretSha256));
  if (!ok) {
    await svc.limiter.failure(scope, "okta-hook", "hook");
    recordAudit(svc, scope, "okta_hook_auth_failed");
    throw new AuthError("invalid_client", "token hook authentication failed");
  }
}

const str = (v: unknown) => (typeof v === "string" && v.length > 0 && v.length <= 256 ? v : null);

async function findUser(svc: Services, scope: Scope, req: OktaHookRequest): Promise<User | null> {
  const d = req.data ?? {};
  const oktaUserId = str(d.context?.user?.id);
  const issuer = scope.settings.okta?.issuer;
  if (oktaUserId && issuer) {
    const linked = await svc.users.byExternalSubject(scope.tenant.id, externalSubjectOf(issuer, oktaUserId));
    if (linked) return linked;
  }
  const login = str(d.context?.user?.profile?.login) ?? str(d.access?.claims?.sub) ?? str(d.identity?.claims?.preferred_username);
  if (!login) return null;
  const matches = await svc.users.byUsernameInTenant(scope.tenant.id, login);
  // A login that names users in several organisations is ambiguous: add nothing.
  return matches.length === 1 ? matches[0]! : null;
}

/**
 * The commands that add the user's roles and organisation (`roles`, `corpId`) to the tokens.
 * An unknown or disabled user gets no commands: Okta then mints its tokens unchanged.
 */
export async function enrichOktaToken(svc: Services, scope: Scope, req: OktaHookRequest): Promise<OktaHookResponse> {
  const user = await findUser(svc, scope, req);
  if (!user || user.disabled) return { commands: [] };
  const community = user.communityId === scope.community.id ? scope.community : await svc.tenants.getCommunity(user.communityId);
  const ops: OktaPatchOp[] = [
    { op: "add", path: "/claims/roles", value: user.roles },
    { op: "add", path: "/claims/corpId", value: community?.name ?? user.communityId },
  ];
  const commands: OktaHookResponse["commands"] = [{ type: "com.okta.access.patch", value: ops }];
  if (req.data?.identity) commands.push({ type: "com.okta.identity.patch", value: ops });
  recordAudit(svc, scope, "okta_token_enriched", { userId: user.uid });
  return { commands };
}
