import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from "jose";

/**
 * Verification of a client's own signed JWT against the keys it registered (RFC 7523 §3,
 * OIDC Core §9 `private_key_jwt`): asymmetric algorithms only, so `alg: none` and HMAC with a
 * public key as the secret are refused before any key is used (RFC 8725 §3.1). The caller
 * checks what is specific to its use (jti single use); this checks signature, alg, iss, sub,
 * aud, exp (required) and nbf/iat against the clock.
 */
export const CLIENT_ASSERTION_ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"];
const CLOCK_TOLERANCE = 5;

export interface AssertionExpectations {
  /** iss and sub must both be this (RFC 7523 §3 items 1 and 2). */
  clientId: string;
  /** At least one of these must be in aud (§3 item 3). */
  audiences: string[];
}

export class AssertionError extends Error {
  /** The assertion names (or needs) a key the given set does not hold. */
  constructor(
    message: string,
    readonly unknownKey = false,
  ) {
    super(message);
  }
}

/** The verified claims of a client assertion, or throws AssertionError with a safe message. */
export async function verifyClientAssertion(token: string, jwks: { keys: Record<string, unknown>[] }, exp: AssertionExpectations): Promise<Record<string, unknown> & { jti?: unknown; exp: number }> {
  if (typeof token !== "string" || token.length > 8192 || token.split(".").length !== 3) throw new AssertionError("malformed client assertion");
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as unknown as JSONWebKeySet), {
      algorithms: CLIENT_ASSERTION_ALGORITHMS,
      issuer: exp.clientId,
      subject: exp.clientId,
      audience: exp.audiences,
      requiredClaims: ["exp", "jti"],
      clockTolerance: CLOCK_TOLERANCE,
    });
    if (typeof payload.exp !== "number") throw new AssertionError("client assertion has no exp");
    return payload as Record<string, unknown> & { exp: number };
  } catch (e) {
    if (e instanceof AssertionError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw new AssertionError("client assertion expired");
    if (e instanceof joseErrors.JOSEAlgNotAllowed) throw new AssertionError("client assertion algorithm not allowed");
    if (e instanceof joseErrors.JWTClaimValidationFailed) throw new AssertionError(`client assertion claim invalid: ${e.claim}`);
    if (e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys) throw new AssertionError("client assertion signed by an unknown key", true);
    throw new AssertionError("invalid client assertion");
  }
}

/** The `iss` of an unverified JWT (to find which client's keys to verify with); null if unreadable. */
export function unverifiedIssuer(token: string): string | null {
  try {
    const part = token.split(".")[1] ?? "";
    const json = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as unknown;
    const iss = json && typeof json === "object" ? (json as Record<string, unknown>).iss : null;
    return typeof iss === "string" ? iss : null;
  } catch {
    return null;
  }
}
