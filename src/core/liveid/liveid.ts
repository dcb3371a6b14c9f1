import { verifyVerdictJws } from "../../crypto/authenticator-keys";
import { randomToken } from "../../crypto/random";
import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import { verifyStepUp, type StepUpClaims } from "../authn/pending-login";
import { accumulateAmr } from "../authn/proofs";

/**
 * LiveID (seed 004 authenticate_with_liveid): a selfie, judged by the tenant's own
 * face-verification service (tenant setting `liveid`, core/tenants/settings.ts). This service
 * never looks at the image: it forwards it through an outbound adapter (Services.fetch) and
 * believes only a verdict the face service signed with the key the tenant configured.
 *
 * Outbound request: POST <url>, JSON `{request_id, tenant_id, community_id, selfie, uid?}`
 * (`uid` when the caller named the user: 1:1 verification; without it the service identifies
 * the user, 1:N). Answer: JSON `{verdict: <compact JWS, ES256>}` whose payload is
 * `{request_id, sub: <the user's uid>, match: true, liveness: true, iat, exp}`.
 *
 * The verdict is bound to this request: its `request_id` is the 256-bit value we sent (fresh
 * per call, so an old verdict cannot be replayed), `sub` must be the named user (1:1) or a
 * user of this community (1:N), `exp` in the future and at most VERDICT_MAX_AGE_SECONDS after
 * `iat`. Anything else (no signature, another key, `alg: none`, a mismatch, no match, no
 * liveness) is `invalid_credentials` and counts on the "liveid" limiter.
 *
 * What it proves: the face service's statement that a live person matching the user's enrolled
 * face was in front of the camera (amr `face`, inherence). A biometric alone is not an
 * authenticator in NIST SP 800-63B §5.2.3, so it does not raise the AAL; the tenant may require
 * the PIN after it (the document's need_mfa with allowed_factors [pin]).
 */
export const VERDICT_MAX_AGE_SECONDS = 300;
/** base64 characters of the selfie: the Authn surface's 64 KB body limit allows about this much in an envelope. */
export const MAX_SELFIE_CHARS = 45_000;
const AMR = "face";
const CLOCK_SKEW_SECONDS = 60;

export interface LiveidLogin {
  selfie: string;
  username?: string;
  jwt?: string;
}

export interface LiveidAuthenticated {
  user: User;
  amr: string[];
  authenticatedAt: number;
  prior: StepUpClaims | null;
  /** Whether the PIN step follows (the user has a PIN and the tenant asks for it). */
  pinNeeded: boolean;
}

async function callFaceService(svc: Services, url: string, timeoutMs: number, body: Record<string, unknown>): Promise<string> {
  let res: Response;
  try {
    res = await svc.fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    throw new AuthError("upstream_error", "the face-verification service is unreachable");
  }
  if (!res.ok) throw new AuthError("upstream_error", `the face-verification service answered ${res.status}`);
  const text = await res.text();
  if (text.length > 32_768) throw new AuthError("upstream_error", "the face-verification service's answer is too large");
  try {
    const j = JSON.parse(text) as { verdict?: unknown };
    return typeof j.verdict === "string" ? j.verdict : "";
  } catch {
    return "";
  }
}

/** The selfie judged by the tenant's face service; the user it names, and the methods so far. */
export async function authenticateWithLiveid(svc: Services, scope: Scope, q: LiveidLogin): Promise<LiveidAuthenticated> {
  const cfg = scope.settings.liveid;
  if (!cfg) throw new AuthError("not_configured", "LiveID is not configured for this tenant");
  if (typeof q.selfie !== "string" || q.selfie.length === 0) throw new AuthError("invalid_request", "the selfie is required");
  if (q.selfie.length > MAX_SELFIE_CHARS) throw new AuthError("invalid_request", `the selfie is too large (at most ${MAX_SELFIE_CHARS} base64 characters)`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(q.selfie.replace(/^data:image\/[a-z]+;base64,/, ""))) throw new AuthError("invalid_request", "the selfie must be a base64 image");
  const prior = q.jwt ? await verifyStepUp(svc, scope, q.jwt) : null;
  const named = q.username ? await svc.users.byUsername(scope.community.id, q.username.trim().toLowerCase()) : null;
  if (prior && named && prior.sub !== named.uid) throw new AuthError("invalid_token", "the proof of authentication is for another user");
  // An unknown username still goes to the face service (under a uid no user has), so it
  // answers like a face that does not match, after the same work.
  const expectUid = named?.uid ?? (q.username ? `unknown-${randomToken()}` : prior?.sub);
  // The limiter's subject: the named user, else the caller's IP (1:N names nobody in advance).
  const subject = expectUid ?? `ip:${scope.ip}`;
  await svc.limiter.guard(scope, "liveid", subject);
  const fail = async (why: string): Promise<never> => {
    await svc.limiter.failure(scope, "liveid", subject);
    recordAudit(svc, scope, "login_failed", { userId: expectUid ?? null, detail: { methods: [AMR], reason: why } });
    throw new AuthError("invalid_credentials", "invalid credentials");
  };
  const requestId = randomToken();
  const authenticatedAt = Date.now();
  const verdict = await callFaceService(svc, cfg.url, cfg.timeoutMs, {
    request_id: requestId,
    tenant_id: scope.tenant.id,
    community_id: scope.community.id,
    selfie: q.selfie,
    ...(expectUid ? { uid: expectUid } : {}),
  });
  const claims = verdict ? await verifyVerdictJws(verdict, cfg.publicKeyJwk) : null;
  if (!claims) return fail("unsigned or forged verdict");
  const now = Math.floor(Date.now() / 1000);
  const { request_id, sub, match, liveness, iat, exp } = claims;
  if (request_id !== requestId) return fail("verdict for another request");
  if (typeof exp !== "number" || typeof iat !== "number" || exp <= now || iat > now + CLOCK_SKEW_SECONDS || exp - iat > VERDICT_MAX_AGE_SECONDS) return fail("verdict expired or too long-lived");
  if (match !== true || liveness !== true) return fail("no match");
  if (typeof sub !== "string" || (expectUid !== undefined && sub !== expectUid)) return fail("verdict for another user");
  const user = named ?? (await svc.users.byUid(scope.tenant.id, sub));
  if (!user || user.communityId !== scope.community.id) return fail("verdict names no user of this community");
  if (user.disabled) throw new AuthError("user_disabled", "user is disabled");
  await svc.limiter.success(scope, "liveid", subject);
  const amr = accumulateAmr(prior?.amr ?? [], [AMR]);
  recordAudit(svc, scope, "login", { userId: user.uid, detail: { methods: [AMR], amr, stepUp: prior !== null } });
  const pinNeeded = cfg.pin === "if_enrolled" && user.pinHash !== null && !amr.includes("pin");
  return { user, amr, authenticatedAt, prior, pinNeeded };
}
