import type { Services } from "../context";
import { AuthError } from "../errors";
import { readJsonObject } from "./discovery";

/**
 * The UserInfo request (OIDC Core §5.3). A provider that follows §5.4 strictly returns the
 * claims asked for by scope values (`email`, `profile`) from UserInfo only, whenever it also
 * issues an access token; node-oidc-provider does so by default (`conformIdTokenClaims`).
 * So when the ID token lacks a claim the login needs, we ask UserInfo with the access token.
 *
 * §5.3.2: the `sub` in the answer MUST equal the ID token's, or the answer MUST NOT be used
 * (a token substitution would otherwise put another person's email on this identity).
 * Only a plain JSON answer is read; a signed or encrypted one (`application/jwt`) is refused.
 */
const FETCH_TIMEOUT_MS = 5_000;

export async function fetchUserinfo(svc: Services, endpoint: string, accessToken: string, expectedSub: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await svc.fetch(endpoint, {
      headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch {
    throw new AuthError("upstream_error", "the identity provider's userinfo endpoint is unreachable");
  }
  if (!res.ok) throw new AuthError("upstream_error", `the identity provider's userinfo endpoint answered ${res.status}`);
  const type = res.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw new AuthError("upstream_error", "the userinfo answer is not plain JSON (signed userinfo is not supported)");
  const claims = await readJsonObject(res, "the userinfo endpoint");
  if (claims.sub !== expectedSub) throw new AuthError("invalid_token", "the userinfo answer is about another subject than the ID token");
  return claims;
}
