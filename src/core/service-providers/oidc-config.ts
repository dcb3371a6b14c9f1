import { toBase64Url } from "../../crypto/encoding";
import { sha256Hex } from "../../crypto/hash";
import { randomBytes, randomToken } from "../../crypto/random";
import { AuthError } from "../errors";
import type { AuthMethod, GrantType, OidcConfigInput } from "./types";
import { endpointProblem, redirectProblem } from "./urls";

/**
 * The OIDC client registration of a service provider of type `oidc`, with the names of OIDC
 * Dynamic Client Registration 1.0 §2 (core/oidc-provider/clients.ts `oidcClientOf` reads
 * exactly these). Everything the provider will trust later is decided here, once:
 *  - redirect URIs: exact strings, https or http on loopback, no fragment, no wildcard;
 *  - client authentication: a secret (256 random bits, base64url) for client_secret_basic and
 *    client_secret_post, generated here and stored as its SHA-256 only; keys for
 *    private_key_jwt (RFC 7523 §2.2), public ones only; nothing for `none` (public clients,
 *    which must then use PKCE, RFC 9700 §2.1.1);
 *  - grants: authorization_code, refresh_token (needs authorization_code to ever get one),
 *    client_credentials (confidential clients only, RFC 6749 §4.4).
 */

const SECRET_METHODS: ReadonlySet<AuthMethod> = new Set(["client_secret_basic", "client_secret_post"]);
const MAX_URIS = 20;
const MAX_KEYS = 10;
/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
/** A client_id we accept as given: visible ASCII (RFC 6749 Appendix A.1 VSCHAR, without space). */
const CLIENT_ID = /^[\x21-\x7E]{1,255}$/;
/** JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
const PUBLIC_KTY: ReadonlySet<string> = new Set(["EC", "RSA", "OKP"]);

const bad = (msg: string) => new AuthError("invalid_request", msg);

export function needsSecret(method: AuthMethod): boolean {
  return SECRET_METHODS.has(method);
}

/** A new client secret: 256 random bits, base64url; only its SHA-256 is kept. */
export async function newClientSecret(): Promise<{ secret: string; hash: string }> {
  const secret = randomToken();
  return { secret, hash: await sha256Hex(secret) };
}

/** A generated client_id: 128 random bits, base64url (22 characters). */
export function newClientId(): string {
  return toBase64Url(randomBytes(16));
}

function uris(field: string, list: readonly string[] | undefined): string[] {
  const out = list ?? [];
  if (out.length > MAX_URIS) throw bad(`oidc_config.${field}: at most ${MAX_URIS}`);
  out.forEach((u, i) => {
    const problem = redirectProblem(u);
    if (problem) throw bad(`oidc_config.${field}[${i}] ${problem}`);
  });
  if (new Set(out).size !== out.length) throw bad(`oidc_config.${field}: duplicate URI`);
  return [...out];
}

/** Public keys only: a private or symmetric key in a registration would hand it to whoever reads it. */
function publicJwks(jwks: { keys: Record<string, unknown>[] }): { keys: Record<string, unknown>[] } {
  if (jwks.keys.length === 0 || jwks.keys.length > MAX_KEYS) throw bad(`oidc_config.jwks.keys: 1 to ${MAX_KEYS} keys`);
  const kids = new Set<string>();
  jwks.keys.forEach((k, i) => {
    const at = `oidc_config.jwks.keys[${i}]`;
    if (typeof k.kty !== "string" || !PUBLIC_KTY.has(k.kty)) throw bad(`${at}.kty must be EC, RSA or OKP (a public key)`);
    for (const m of PRIVATE_MEMBERS) if (m in k) throw bad(`${at} is a private key (has "${m}"): register the public key only`);
    if (k.kty === "EC" && (typeof k.crv !== "string" || typeof k.x !== "string" || typeof k.y !== "string")) throw bad(`${at}: an EC key needs crv, x and y`);
    if (k.kty === "RSA" && (typeof k.n !== "string" || typeof k.e !== "string")) throw bad(`${at}: an RSA key needs n and e`);
    if (k.kty === "OKP" && (typeof k.crv !== "string" || typeof k.x !== "string")) throw bad(`${at}: an OKP key needs crv and x`);
    if (typeof k.kid === "string") {
      if (kids.has(k.kid)) throw bad(`${at}: duplicate kid`);
      kids.add(k.kid);
    }
  });
  return { keys: jwks.keys.map((k) => ({ ...k })) };
}

function scopeList(scope: string | null | undefined): string | null {
  if (scope === null || scope === undefined) return null;
  const tokens = scope.split(" ").filter(Boolean);
  if (tokens.length === 0 || tokens.length > 50) throw bad("oidc_config.scope: 1 to 50 space-separated scopes");
  for (const t of tokens) if (!SCOPE_TOKEN.test(t)) throw bad(`oidc_config.scope: "${t.slice(0, 40)}" is not a scope token (RFC 6749 §3.3)`);
  return [...new Set(tokens)].join(" ");
}

export interface OidcRegistration {
  /** The oidc_config stored in the service provider's body (no secret). */
  config: Record<string, unknown>;
  clientId: string;
  method: AuthMethod;
}

/**
 * Validates a whole registration (a create, or a PATCH merged over the stored one) and
 * returns the stored form with defaults filled in. `issuedAt` is client_id_issued_at (DCR §3.2).
 */
export function oidcRegistration(input: OidcConfigInput, issuedAt: number): OidcRegistration {
  const clientId = input.client_id ?? newClientId();
  if (!CLIENT_ID.test(clientId)) throw bad("oidc_config.client_id: 1 to 255 visible ASCII characters");
  // GET .../serviceprovider/{id} tries the `_id` first: a client_id shaped like one could be shadowed.
  if (/^[0-9a-f]{24}$/.test(clientId)) throw bad("oidc_config.client_id must not have the shape of an _id (24 hex characters)");
  const method: AuthMethod = input.token_endpoint_auth_method ?? "client_secret_basic";
  const grantTypes: GrantType[] = input.grant_types && input.grant_types.length ? [...new Set(input.grant_types)] : ["authorization_code"];
  const redirectUris = uris("redirect_uris", input.redirect_uris);
  const postLogout = uris("post_logout_redirect_uris", input.post_logout_redirect_uris);

  if (grantTypes.includes("authorization_code") && redirectUris.length === 0) throw bad("oidc_config.redirect_uris: at least one for the authorization_code grant");
  if (grantTypes.includes("refresh_token") && !grantTypes.includes("authorization_code")) throw bad("oidc_config.grant_types: refresh_token needs authorization_code");
  if (method === "none" && grantTypes.includes("client_credentials")) throw bad("oidc_config.grant_types: client_credentials needs a confidential client (RFC 6749 §4.4)");
  if (method === "none" && input.require_pkce === false) throw bad("oidc_config.require_pkce: a public client (token_endpoint_auth_method none) must use PKCE (RFC 9700 §2.1.1)");

  const jwks = input.jwks ?? null;
  const jwksUri = input.jwks_uri ?? null;
  if (method === "private_key_jwt") {
    // DCR §2: jwks and jwks_uri MUST NOT both be present.
    if ((jwks === null) === (jwksUri === null)) throw bad("oidc_config: private_key_jwt needs exactly one of jwks and jwks_uri");
  } else if (jwks !== null || jwksUri !== null) {
    throw bad("oidc_config: jwks and jwks_uri are only for token_endpoint_auth_method private_key_jwt");
  }
  if (jwksUri !== null) {
    const problem = endpointProblem(jwksUri);
    if (problem) throw bad(`oidc_config.jwks_uri ${problem}`);
  }
  const logoUri = input.logo_uri ?? null;
  if (logoUri !== null) {
    const problem = endpointProblem(logoUri);
    if (problem) throw bad(`oidc_config.logo_uri ${problem}`);
  }
  const scope = scopeList(input.scope);

  const config: Record<string, unknown> = {
    client_id: clientId,
    client_id_issued_at: issuedAt,
    ...(input.client_name !== undefined ? { client_name: input.client_name } : {}),
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogout,
    grant_types: grantTypes,
    response_types: grantTypes.includes("authorization_code") ? ["code"] : [],
    token_endpoint_auth_method: method,
    ...(jwks ? { jwks: publicJwks(jwks) } : {}),
    ...(jwksUri ? { jwks_uri: jwksUri } : {}),
    ...(scope ? { scope } : {}),
    require_pkce: method === "none" ? true : input.require_pkce !== false,
    refresh_token_rotation: input.refresh_token_rotation === true,
    ...(logoUri ? { logo_uri: logoUri } : {}),
  };
  return { config, clientId, method };
}

/** The stored oidc_config back as an input, for merging a PATCH over it. */
export function oidcInputOf(stored: Record<string, unknown>): OidcConfigInput {
  const { client_id_issued_at: _i, response_types: _r, ...rest } = stored;
  return rest as OidcConfigInput;
}
