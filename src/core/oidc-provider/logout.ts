import { verifiedJwsPayload } from "../../crypto/jws-signature";
import { matchRedirectUri } from "../../protocols/oidc/redirect-uri";
import type { Services } from "../context";
import type { OidcClient } from "./clients";

/**
 * OpenID Connect RP-Initiated Logout 1.0 rules that need no HTTP: the `id_token_hint` check
 * and the choice of where to send the browser afterwards.
 */

export interface IdTokenHint {
  sub: string;
  /** The token's audiences (client ids). */
  aud: string[];
  sid: string | null;
}

/**
 * The claims of an ID token this issuer signed, expired or not (§2: "the OP SHOULD accept ID
 * Tokens when the RP identified by the ID Token's aud claim ... has a current session or had
 * a recent session"; an expired one is the common case). Null when it is not ours: wrong
 * signature, another issuer, or another kind of token (an access token is not a hint).
 */
export async function verifyIdTokenHint(svc: Services, issuer: string, token: string): Promise<IdTokenHint | null> {
  const v = await verifiedJwsPayload(svc.keyring, token);
  if (!v || v.typ !== "JWT") return null;
  const p = v.payload;
  if (p.iss !== issuer || (p.token_use !== undefined && p.token_use !== "id") || typeof p.sub !== "string") return null;
  const aud = typeof p.aud === "string" ? [p.aud] : Array.isArray(p.aud) ? p.aud.filter((a): a is string => typeof a === "string") : [];
  if (!aud.length) return null;
  return { sub: p.sub, aud, sid: typeof p.sid === "string" ? p.sid : null };
}

/**
 * Where to send the browser after logout (§3): the requested `post_logout_redirect_uri` only
 * when it is registered for the client, compared exactly as a string (no loopback port
 * exception: logout redirects are registered as they are used). Null: show the signed-out page.
 */
export function postLogoutRedirect(client: OidcClient | null, requested: string | null, state: string | null): string | null {
  if (!client || !requested || !client.postLogoutRedirectUris.includes(requested)) return null;
  if (matchRedirectUri(client.postLogoutRedirectUris, requested) !== requested) return null;
  if (state === null) return requested;
  return `${requested}${requested.includes("?") ? "&" : "?"}${new URLSearchParams({ state }).toString()}`;
}
