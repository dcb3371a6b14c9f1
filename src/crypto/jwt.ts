import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
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
export type TokenKind = "access" | "id" | "reset" | "proof";

const TYP: Record<TokenKind, string> = {
  access: "at+jwt",
  id: "JWT",
  reset: "reset+jwt",
  proof: "proof+jwt",
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

/** Signs `claims` as a token of `kind`; adds iss, sub, aud, iat, exp, jti and token_use. */
export async function signJwt(keyring: Keyring, claims: Record<string, unknown>, opts: SignOptions): Promise<string> {
  const { kid, key } = await keyring.signingKey();
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims, token_use: opts.kind })
    .setProtectedHeader({ alg: "ES256", typ: TYP[opts.kind], kid })
    .setIssuer(opts.issuer)
    .setSubject(opts.subject)
    .setAudience(opts.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + opts.ttlSeconds)
    .setJti(uuid())
    .sign(key);
}

/**
 * Verifies signature, algorithm, typ, token_use, iss, aud, exp (required) and iat.
 * Throws JwtError with a message safe to show to the caller.
 */
export async function verifyJwt(keyring: Keyring, token: string, opts: VerifyOptions): Promise<Claims> {
  if (typeof token !== "string" || token.length > 8192 || token.split(".").length !== 3) {
    throw new JwtError("malformed token");
  }
  try {
    const { payload } = await jwtVerify(
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
    return payload as Claims;
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
