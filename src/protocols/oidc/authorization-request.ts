import { isS256Challenge } from "./pkce";
import { matchRedirectUri } from "./redirect-uri";

/**
 * The authorization request of the code flow: OIDC Core 1.0 §3.1.2.1 over RFC 6749 §4.1.1,
 * with PKCE (RFC 7636) under the OAuth security BCP (RFC 9700). Pure: the caller loads the
 * client named by `client_id` and passes it in; nothing here touches storage or HTTP.
 *
 * Order matters (RFC 6749 §4.1.2.1): until the client and its redirect URI are known good,
 * an error must be shown to the user and never sent to the redirect URI, or the endpoint
 * becomes an open redirector. After that, errors go back to the client.
 */

/** What the parser needs to know of a registered client. */
export interface AuthorizeClient {
  clientId: string;
  redirectUris: readonly string[];
  /** PKCE required (always for public clients; on by default for all, RFC 9700 §2.1.1). */
  requirePkce: boolean;
  /** Scopes the client may ask for; null: any scope the provider supports. */
  allowedScopes: readonly string[] | null;
}

export type Prompt = "none" | "login" | "consent" | "select_account";
const PROMPTS: ReadonlySet<string> = new Set<Prompt>(["none", "login", "consent", "select_account"]);

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Distinct scope values, in the order asked; always contains `openid`. */
  scopes: string[];
  state?: string;
  nonce?: string;
  /** Absent only for a confidential client that does not require PKCE. */
  codeChallenge?: string;
  prompt: Prompt[];
  /** Seconds; OIDC Core §3.1.2.1. */
  maxAge?: number;
  loginHint?: string;
  acrValues: string[];
  uiLocales?: string;
  idTokenHint?: string;
}

/** An error the user sees: nothing is sent to any redirect URI. */
export interface ShownError {
  ok: false;
  redirect: false;
  error: "invalid_request" | "invalid_client" | "invalid_redirect_uri";
  description: string;
}

/** An error sent back to the client's (verified) redirect URI, RFC 6749 §4.1.2.1. */
export interface RedirectedError {
  ok: false;
  redirect: true;
  redirectUri: string;
  state?: string;
  error: "invalid_request" | "unsupported_response_type" | "invalid_scope" | "request_not_supported" | "request_uri_not_supported";
  description: string;
}

export type ParsedAuthorization = { ok: true; request: AuthorizationRequest } | ShownError | RedirectedError;

/** Longest value accepted for any single parameter (a URL's worth); longer is invalid_request. */
const MAX_PARAM = 2048;

const shown = (error: ShownError["error"], description: string): ShownError => ({ ok: false, redirect: false, error, description });

/**
 * Validates an authorization request for `client` (null when `client_id` names no client).
 * `supportedScopes` are the scopes the provider knows (from the community's IdP configuration).
 */
export function parseAuthorizationRequest(params: URLSearchParams, client: AuthorizeClient | null, supportedScopes: ReadonlySet<string>): ParsedAuthorization {
  // RFC 6749 §3.1: a parameter sent more than once makes the request invalid.
  const count = (k: string) => params.getAll(k).length;
  if (count("client_id") !== 1) return shown("invalid_request", "client_id must be sent exactly once");
  if (!client || client.clientId !== params.get("client_id")) return shown("invalid_client", "unknown client");
  if (count("redirect_uri") !== 1) return shown("invalid_redirect_uri", "redirect_uri must be sent exactly once");
  const requested = params.get("redirect_uri")!;
  if (requested.length > MAX_PARAM || matchRedirectUri(client.redirectUris, requested) === null) {
    return shown("invalid_redirect_uri", "redirect_uri is not registered for this client");
  }

  // From here on the redirect URI is the client's own: errors go back to it, with the state
  // when it is a single value (RFC 6749 §4.1.2.1).
  const stateValues = params.getAll("state");
  const state = stateValues.length === 1 && stateValues[0]!.length <= MAX_PARAM ? stateValues[0] : undefined;
  const fail = (error: RedirectedError["error"], description: string): RedirectedError => ({
    ok: false,
    redirect: true,
    redirectUri: requested,
    ...(state !== undefined ? { state } : {}),
    error,
    description,
  });

  for (const k of new Set(params.keys())) {
    if (count(k) > 1) return fail("invalid_request", `${k} must not be sent more than once`);
    if (params.get(k)!.length > MAX_PARAM) return fail("invalid_request", `${k} is too long`);
  }
  // OIDC Core §6: request objects are not supported by this endpoint (oidc/sso takes them).
  if (params.has("request")) return fail("request_not_supported", "request objects are not supported here");
  if (params.has("request_uri")) return fail("request_uri_not_supported", "request_uri is not supported");

  const responseType = params.get("response_type");
  if (responseType === null) return fail("invalid_request", "response_type is required");
  // Authorization code flow only: the implicit and hybrid flows put tokens in the front
  // channel (RFC 9700 §2.1.2).
  if (responseType !== "code") return fail("unsupported_response_type", "only response_type=code is supported");
  const mode = params.get("response_mode");
  if (mode !== null && mode !== "query") return fail("invalid_request", "only response_mode=query is supported");

  const scopes = [...new Set((params.get("scope") ?? "").split(" ").filter((s) => s !== ""))];
  if (!scopes.includes("openid")) return fail("invalid_scope", "the openid scope is required");
  for (const s of scopes) {
    if (!supportedScopes.has(s)) return fail("invalid_scope", `unknown scope: ${s}`);
    if (client.allowedScopes && !client.allowedScopes.includes(s)) return fail("invalid_scope", `scope not allowed for this client: ${s}`);
  }

  const challenge = params.get("code_challenge");
  const method = params.get("code_challenge_method");
  if (challenge === null) {
    if (client.requirePkce) return fail("invalid_request", "code_challenge is required (PKCE, S256)");
    if (method !== null) return fail("invalid_request", "code_challenge_method without code_challenge");
  } else {
    // RFC 7636 §4.3 defaults a missing method to plain, which is refused: say so explicitly.
    if (method !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
    if (!isS256Challenge(challenge)) return fail("invalid_request", "code_challenge is not an S256 challenge");
  }

  const prompt = (params.get("prompt") ?? "").split(" ").filter((p) => p !== "");
  for (const p of prompt) if (!PROMPTS.has(p)) return fail("invalid_request", `unsupported prompt value: ${p}`);
  // OIDC Core §3.1.2.1: none with any other value is an error.
  if (prompt.includes("none") && prompt.length > 1) return fail("invalid_request", "prompt=none cannot be combined with other values");

  let maxAge: number | undefined;
  const rawMaxAge = params.get("max_age");
  if (rawMaxAge !== null) {
    if (!/^[0-9]{1,10}$/.test(rawMaxAge)) return fail("invalid_request", "max_age must be a non-negative integer");
    maxAge = Number(rawMaxAge);
  }

  const opt = (k: string): Record<string, string> => {
    const v = params.get(k);
    return v !== null && v !== "" ? { [k]: v } : {};
  };
  const nonce = opt("nonce").nonce;
  const loginHint = opt("login_hint").login_hint;
  const uiLocales = opt("ui_locales").ui_locales;
  const idTokenHint = opt("id_token_hint").id_token_hint;
  return {
    ok: true,
    request: {
      clientId: client.clientId,
      redirectUri: requested,
      scopes,
      ...(state !== undefined ? { state } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
      ...(challenge !== null ? { codeChallenge: challenge } : {}),
      prompt: prompt as Prompt[],
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(loginHint !== undefined ? { loginHint } : {}),
      acrValues: (params.get("acr_values") ?? "").split(" ").filter((a) => a !== ""),
      ...(uiLocales !== undefined ? { uiLocales } : {}),
      ...(idTokenHint !== undefined ? { idTokenHint } : {}),
    },
  };
}

/**
 * The redirect back to the client (RFC 6749 §4.1.2 and §4.1.2.1), with `iss` (RFC 9207 §2) so
 * a client talking to several providers can tell which one answered (mix-up defence). The
 * redirect URI's own query is kept, and nothing is normalised: it is the registered string.
 */
export function authorizationResponseUrl(redirectUri: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, v);
  return `${redirectUri}${redirectUri.includes("?") ? "&" : "?"}${q.toString()}`;
}
