import { sha256Hex } from "../../crypto/hash";
import { randomToken } from "../../crypto/random";
import type { Scope, Services } from "../context";

/**
 * Authorization codes (RFC 6749 §4.1.2): opaque 256-bit secrets, kept in KV under their
 * SHA-256 for CODE_TTL_SECONDS (the RFC's "maximum lifetime of 10 minutes", shortened: a code is
 * exchanged within seconds). Single use is decided by the ReplayGuard, never by KV (DESIGN.md):
 * of any number of racing exchanges exactly one redeems it. A replay is reported with the grant,
 * so the token endpoint can revoke what the first exchange issued (§4.1.2: "SHOULD revoke").
 *
 * This module is the contract between the front channel (web/, Authn oidc/sso), which issues
 * codes, and the token endpoint, which redeems them.
 */
export const CODE_TTL_SECONDS = 60;
const PREFIX = "opcode";
/** Records outlive the code so that a replay can still find what to revoke. */
const RECORD_TTL_SECONDS = 600;

/** Everything the token endpoint needs to answer for a code. */
export interface CodeGrant {
  tenantId: string;
  communityId: string;
  clientId: string;
  /** The redirect_uri of the authorization request, which the exchange must repeat (§4.1.3). */
  redirectUri: string;
  /** The user's uid (the tokens' `sub`). */
  uid: string;
  /** Granted scopes (always `openid`). */
  scopes: string[];
  nonce?: string;
  /** PKCE S256 challenge (RFC 7636 §4.3); absent only when the client does not require PKCE. */
  codeChallenge?: string;
  /** Epoch seconds of the user's authentication (ID token `auth_time`). */
  authTime: number;
  /** RFC 8176 methods (`pwd`, `otp`, ...). */
  amr: string[];
  acr: string;
  /** The SSO session (browser login) this authorization came from: the ID token's `sid`. */
  ssoSessionId: string;
  /** The token family the exchange will open; chosen now so a replay can revoke it. */
  familyId: string;
  /** Epoch ms. */
  issuedAt: number;
}

interface CodeRecord {
  grant: CodeGrant;
  expiresAt: number;
}

export type RedeemResult =
  | { status: "ok"; grant: CodeGrant }
  /** Already redeemed: the caller revokes `grant.familyId` (§4.1.2). */
  | { status: "replayed"; grant: CodeGrant }
  | { status: "invalid" };

/** Issues a code for the grant; the caller puts it in the redirect with `state` and `iss` (RFC 9207). */
export async function issueAuthorizationCode(svc: Services, grant: Omit<CodeGrant, "familyId" | "issuedAt"> & { familyId?: string }): Promise<string> {
  const code = randomToken();
  const now = Date.now();
  const full: CodeGrant = { ...grant, familyId: grant.familyId ?? crypto.randomUUID(), issuedAt: now };
  await svc.secrets.put<CodeRecord>(PREFIX, await sha256Hex(code), { grant: full, expiresAt: now + CODE_TTL_SECONDS * 1000 }, RECORD_TTL_SECONDS);
  return code;
}

export interface RedeemOptions {
  /**
   * The token endpoint's authenticated client: a code issued to another client is `invalid`
   * and is NOT spent (RFC 6749 §4.1.3), so another client presenting a stolen code can neither
   * use it nor burn it for the client it belongs to.
   */
  clientId?: string;
  /**
   * Called with the grant once it is found, before the single-use claim: lets the caller start
   * reads it will need (the user's row) beside the claim instead of after it. Nothing it
   * starts may act on the grant: the claim has not been decided yet.
   */
  beforeClaim?: (grant: CodeGrant) => void;
}

/** Redeems a code of this tenant and community, exactly once. */
export async function redeemAuthorizationCode(svc: Services, scope: Scope, code: string, opts: RedeemOptions = {}): Promise<RedeemResult> {
  if (typeof code !== "string" || code.length < 20 || code.length > 128) return { status: "invalid" };
  const digest = await sha256Hex(code);
  const rec = await svc.secrets.get<CodeRecord>(PREFIX, digest);
  if (!rec || rec.grant.tenantId !== scope.tenant.id || rec.grant.communityId !== scope.community.id) return { status: "invalid" };
  if (opts.clientId !== undefined && rec.grant.clientId !== opts.clientId) return { status: "invalid" };
  opts.beforeClaim?.(rec.grant);
  const first = await svc.once.claim(`${PREFIX}:${scope.tenant.id}`, digest, Date.now() + RECORD_TTL_SECONDS * 1000);
  if (!first) return { status: "replayed", grant: rec.grant };
  if (Date.now() > rec.expiresAt) return { status: "invalid" };
  return { status: "ok", grant: rec.grant };
}
