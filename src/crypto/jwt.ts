import { errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { toBase64Url, utf8 } from "./encoding";
import type { Keyring } from "./keys";
import { uuid } from "./random";

/**
 * JWT issue and verification with a fixed algorithm allow-list (ES256 only: `alg: none`,
 * HS256-with-the-public-key and every other algorithm are refused before any key is used).
 *
 * Each kind of token has its own header `typ` and `token_use` claim, and verification demands
 * the expected one, so an ID token, a reset token or a proof can never pass as an access token
 * (RFC 8725 §3.11, RFC 9068 §2.1 for `at+jwt`).
 */
export type TokenKind = "access" | "id" | "reset" | "proof" | "pending";

const TYP: Record<TokenKind, string> = {
  access: "at+jwt",
  id: "JWT",
  reset: "reset+jwt",
  proof: "proof+jwt",
  // The Authn `user_token` of a login the policy stopped at need_mfa (core/authn/pending-login.ts):
  // its own typ, so no verifier of proofs or access tokens, here or a relying party's, takes it.
  pending: "pending+jwt",
};

export const ALLOWED_ALGORITHMS = ["ES256"];
/** Seconds of clock skew tolerated on exp/iat/nbf. */
const CLOCK_TOLERANCE = 5;

export interface SignOptions {
  kind: TokenKind;
  issuer: string;
  audience: string | string[];
  subject: string;
  ttlSeconds: number;
  now?: number;
}

export interface VerifyOptions {
  kind: TokenKind;
  issuer: string;
  audience: string;
}

export type Claims = JWTPayload & Record<string, unknown>;

export class JwtError extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
  }
}

/**
 * Signs `claims` as a token of `kind`; adds iss, sub, aud, iat, exp, jti and token_use.
 *
 * A compact JWS (RFC 7515 §7.1) built directly: WebCrypto's ECDSA P-256 signature is already
 * the JWS form (r || s, RFC 7518 §3.4), so jose's SignJWT added nothing but its claim builder,
 * which was a tenth of a client-credentials request's CPU (profiled). Verification stays with
 * jose; the tests verify what this signs with jose and with Node's own crypto.
 */
export async function signJwt(keyring: Keyring, claims: Record<string, unknown>, opts: SignOptions): Promise<string> {
  const { kid, key } = await keyring.signingKey();
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const header = { alg: "ES256", typ: TYP[opts.kind], kid };
  // The registered claims win over same-named entries in `claims`, as with SignJWT's setters.
  const payload = { ...claims, token_use: opts.kind, iss: opts.issuer, sub: opts.subject, aud: opts.audience, iat: now, exp: now + opts.ttlSeconds, jti: uuid() };
  const input = `${toBase64Url(utf8(JSON.stringify(header)))}.${toBase64Url(utf8(JSON.stringify(payload)))}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, utf8(input));
  return `${input}.${toBase64Url(new Uint8Array(signature))}`;
}

/**
 * Tokens this isolate has verified, by kind, issuer, audience and the exact token text. An
 * ECDSA verification was about a third of the CPU of a token-verifying request (profiled under
 * load in wrangler dev), and clients present the same access token many times. A hit still
 * checks expiry and that the keyring still holds the signing key (a retired key's tokens stop
 * as soon as the keyring sees the retirement), and entries live at most VERIFIED_CACHE_MS.
 * Revocation is not decided here (the caller asks the TokenAuthority), so caching the
 * signature check cannot keep a revoked session alive. One cache per keyring.
 */
const VERIFIED_CACHE_MS = 60_000;
const VERIFIED_CACHE_MAX = 10_000;
type Verified = Map<string, { payload: Claims; kid: string; until: number }>;
const verifiedByKeyring = new WeakMap<Keyring, Verified>();

function verifiedCache(keyring: Keyring): Verified {
  let m = verifiedByKeyring.get(keyring);
  if (!m) {
    m = new Map();
    verifiedByKeyring.set(keyring, m);
  }
  return m;
}

/**
 * Verifies signature, algorithm, typ, token_use, iss, aud, exp (required) and iat (required,
 * and not later than now plus the clock skew allowed).
 * Throws JwtError with a message safe to show to the caller.
 */
export async function verifyJwt(keyring: Keyring, token: string, opts: VerifyOptions): Promise<Claims> {
  if (typeof token !== "string" || token.length > 8192 || token.split(".").length !== 3) {
    throw new JwtError("malformed token");
  }
  const cacheKey = `${opts.kind}\u0000${opts.issuer}\u0000${opts.audience}\u0000${token}`;
  const verified = verifiedCache(keyring);
  const hit = verified.get(cacheKey);
  if (hit) {
    const nowMs = Date.now();
    if (hit.until > nowMs && (await keyring.verificationKey(hit.kid))) {
      if (typeof hit.payload.exp === "number" && hit.payload.exp + CLOCK_TOLERANCE <= nowMs / 1000) throw new JwtError("token expired", true);
      return { ...hit.payload };
    }
    verified.delete(cacheKey);
  }
  const { payload, kid } = await verifyUncached(keyring, token, opts);
  if (verified.size >= VERIFIED_CACHE_MAX) verified.clear();
  // A copy: what a caller does with its claims never reaches the next caller's.
  verified.set(cacheKey, { payload: Object.freeze({ ...payload }), kid, until: Date.now() + VERIFIED_CACHE_MS });
  return payload;
}

async function verifyUncached(keyring: Keyring, token: string, opts: VerifyOptions): Promise<{ payload: Claims; kid: string }> {
  try {
    const { payload, protectedHeader } = await jwtVerify(
      token,
      async (header) => {
        if (!header.kid) throw new JwtError("token has no kid");
        const key = await keyring.verificationKey(header.kid);
        if (!key) throw new JwtError("unknown signing key");
        return key;
      },
      {
        algorithms: ALLOWED_ALGORITHMS,
        issuer: opts.issuer,
        audience: opts.audience,
        typ: TYP[opts.kind],
        requiredClaims: ["exp", "iat", "sub", "jti"],
        clockTolerance: CLOCK_TOLERANCE,
      },
    );
    if (payload.token_use !== opts.kind) throw new JwtError("wrong token type");
    // jose checks iat only against maxTokenAge, never against the future: a token "issued" an
    // hour ahead would otherwise pass (RFC 7519 §4.1.6 leaves the check to the application;
    // RFC 9068 §4 asks the resource server to check iat). The same skew as exp and nbf.
    if (typeof payload.iat !== "number" || payload.iat > Math.floor(Date.now() / 1000) + CLOCK_TOLERANCE) throw new JwtError("token issued in the future");
    return { payload: payload as Claims, kid: protectedHeader.kid ?? "" };
  } catch (e) {
    if (e instanceof JwtError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw new JwtError("token expired", true);
    if (e instanceof joseErrors.JOSEError) throw new JwtError(describeJoseError(e));
    throw new JwtError("invalid token");
  }
}

function describeJoseError(e: InstanceType<typeof joseErrors.JOSEError>): string {
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return "algorithm not allowed";
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return "invalid signature";
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `invalid claim: ${e.claim}`;
  return "invalid token";
}
