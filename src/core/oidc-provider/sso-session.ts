import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { recordAudit } from "../audit/audit";
import { hostedLoginSettings } from "../tenants/hosted-login-settings";

/**
 * The OpenID Provider's SSO session: the server-side record behind the browser's
 * `__Host-edge-auth-sso` cookie (src/web). A second application's authorization finds it and
 * issues a code without asking for the password again (OIDC Core §3.1.2.3).
 *
 * - The cookie carries a 256-bit random secret; KV holds the record under its SHA-256 only, so
 *   neither a KV read nor a log line yields a usable cookie. The session's public id (`sid`,
 *   the ID token's claim and the CodeGrant's ssoSessionId) is a separate random id.
 * - Ending a session must be immediate everywhere, and KV is eventually consistent across
 *   locations (a delete can take a minute to reach another one). So the end is decided by the
 *   ReplayGuard (svc.once, one object per session): logout claims `ended`, and every read asks
 *   it. KV only carries the record; its delete is tidiness.
 * - A session also dies when its user is gone or disabled, or when the password changed after
 *   the session authenticated (a reset ends every session of the user, SSO included).
 * - Its life is absolute (tenant `hostedLogin.ssoSessionTtlSeconds`, 8 hours by default):
 *   using it never extends it.
 */
const PREFIX = "sso";

/** Authentication context class references this provider answers in `acr`. */
export const ACR_PASSWORD = "urn:edge-auth:acr:password";
export const ACR_MFA = "urn:edge-auth:acr:mfa";

export interface SsoSession {
  /** Public id: the ID token's `sid`. */
  sid: string;
  tenantId: string;
  communityId: string;
  uid: string;
  /** Epoch seconds of the authentication (ID token `auth_time`). */
  authTime: number;
  /** RFC 8176 methods: `pwd`, then `otp` when the second factor was given. */
  amr: string[];
  acr: string;
  /** Epoch ms. */
  expiresAt: number;
}

const endedScope = (s: Pick<SsoSession, "tenantId" | "sid">) => `sso:${s.tenantId}:${s.sid}`;

/** The acr of a set of methods: two factors (or a service's word that it used two, `mfa`) make `mfa`. */
export function acrOf(amr: readonly string[]): string {
  return amr.includes("otp") || amr.includes("mfa") ? ACR_MFA : ACR_PASSWORD;
}

/** Starts a session for a user who just authenticated; answers the cookie value and the session. */
export async function startSsoSession(svc: Services, scope: Scope, user: User, auth: { authTime: number; amr: string[] }): Promise<{ cookie: string; session: SsoSession; maxAgeSeconds: number }> {
  const ttl = hostedLoginSettings(scope.settings).ssoSessionTtlSeconds;
  const cookie = randomToken();
  const session: SsoSession = {
    sid: crypto.randomUUID(),
    tenantId: scope.tenant.id,
    communityId: scope.community.id,
    uid: user.uid,
    authTime: auth.authTime,
    amr: [...auth.amr],
    acr: acrOf(auth.amr),
    expiresAt: Date.now() + ttl * 1000,
  };
  await svc.secrets.put<SsoSession>(PREFIX, await sha256Hex(cookie), session, ttl);
  recordAudit(svc, scope, "sso_session_started", { userId: user.uid, detail: { sid: session.sid, amr: session.amr } });
  return { cookie, session, maxAgeSeconds: ttl };
}

/** A live session of this community and its (enabled) user, or null. */
export async function readSsoSession(svc: Services, scope: Scope, cookie: string | undefined): Promise<{ session: SsoSession; user: User } | null> {
  if (!cookie || cookie.length < 20 || cookie.length > 128) return null;
  const session = await svc.secrets.get<SsoSession>(PREFIX, await sha256Hex(cookie));
  if (!session || session.tenantId !== scope.tenant.id || session.communityId !== scope.community.id || session.expiresAt <= Date.now()) return null;
  const [ended, user] = await Promise.all([svc.once.isClaimed(endedScope(session), "ended"), svc.users.byUid(scope.tenant.id, session.uid)]);
  if (ended || !user || user.disabled || user.communityId !== scope.community.id) return null;
  // A password set after this session authenticated ends it (reset, change, admin).
  if (user.passwordChangedAt !== null && user.passwordChangedAt > session.authTime * 1000 + 999) return null;
  return { session, user };
}

/** The longest a session can live (the setting's maximum): how long an end must be remembered. */
const MAX_LIFE_MS = 30 * 86_400_000;

/**
 * Ends a session everywhere at once (see above); idempotent. By its `sid` alone when the
 * browser's cookie is not at hand (a logout POSTed cross-site carries no SameSite=Lax cookie,
 * but its id_token_hint names the session).
 */
export async function endSsoSession(svc: Services, scope: Scope, target: { sid: string; uid: string; expiresAt?: number }, cookie?: string): Promise<void> {
  await svc.once.claim(endedScope({ tenantId: scope.tenant.id, sid: target.sid }), "ended", (target.expiresAt ?? Date.now() + MAX_LIFE_MS) + 60_000);
  if (cookie) await svc.secrets.delete(PREFIX, await sha256Hex(cookie));
  recordAudit(svc, scope, "sso_session_ended", { userId: target.uid, detail: { sid: target.sid } });
}
