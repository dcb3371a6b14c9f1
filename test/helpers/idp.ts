import { SignJWT, exportJWK, generateKeyPair, type JWK } from "jose";
import { setOutboundFetch } from "../../src/http/services";

/**
 * An external OIDC identity provider stood up inside the test: its own signing keys (made
 * with WebCrypto), its discovery document and JWKS served through setOutboundFetch, and ID
 * tokens signed on demand. Several IdPs can be live at once; each answers only its own URLs.
 */
export interface IdpKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const registry = new Map<string, TestIdp>();
const discoveries = new Map<string, TestIdp>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  setOutboundFetch(async (input, init) => {
    const url = new Request(input, init).url;
    const d = discoveries.get(url);
    if (d) return d.serveDiscovery();
    const idp = registry.get(url);
    if (!idp) return new Response("not found", { status: 404 });
    if (idp.mode === "hang") {
      idp.fetches++;
      // Never answers; gives up only when the caller's signal aborts (as a real fetch would).
      return new Promise<Response>((_, reject) => {
        const signal = init?.signal;
        if (signal) signal.addEventListener("abort", () => reject(signal.reason ?? new Error("aborted")));
      });
    }
    return idp.serveJwks();
  });
}

let seq = 0;

export class TestIdp {
  /** Keys published in the JWKS. */
  published: IdpKey[] = [];
  /** How the JWKS endpoint behaves: up, answering 503, not JSON, or failing at the network. */
  mode: "up" | "503" | "html" | "network" | "hang" = "up";
  /** JWKS requests received. */
  fetches = 0;
  /** Discovery requests received. */
  discoveryFetches = 0;
  /** The issuer its discovery document names (default its own; set to contradict it). */
  discoveryIssuer: string | null = null;

  private constructor(
    readonly issuer: string,
    readonly jwksUri: string,
  ) {}

  /** A new IdP at a unique issuer; jwksUri defaults to Okta's `<issuer>/v1/keys` (discovery names it either way). */
  static async create(opts: { issuer?: string; jwksUri?: string; alg?: "RS256" | "ES256" } = {}): Promise<TestIdp> {
    const issuer = opts.issuer ?? `https://idp-${Date.now().toString(36)}-${seq++}.okta.test/oauth2/default`;
    const idp = new TestIdp(issuer, opts.jwksUri ?? `${issuer}/v1/keys`);
    idp.published.push(await TestIdp.newKey(opts.alg ?? "RS256"));
    registry.set(idp.jwksUri, idp);
    discoveries.set(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, idp);
    install();
    return idp;
  }

  /** A key pair that is not (yet) published. */
  static async newKey(alg: "RS256" | "ES256" = "ES256", kid = `k-${Date.now().toString(36)}-${seq++}`): Promise<IdpKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    return { kid, alg, privateKey: privateKey as CryptoKey, publicJwk };
  }

  get key(): IdpKey {
    return this.published[0]!;
  }

  serveDiscovery(): Response {
    this.discoveryFetches++;
    const base = this.issuer.replace(/\/+$/, "");
    return Response.json({
      issuer: this.discoveryIssuer ?? this.issuer,
      authorization_endpoint: `${base}/v1/authorize`,
      token_endpoint: `${base}/v1/token`,
      jwks_uri: this.jwksUri,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256", "ES256"],
    });
  }

  serveJwks(): Response {
    this.fetches++;
    if (this.mode === "network") throw new TypeError("fetch failed: connection refused");
    if (this.mode === "503") return new Response("unavailable", { status: 503 });
    if (this.mode === "html") return new Response("<html>maintenance</html>", { status: 200, headers: { "content-type": "text/html" } });
    return Response.json({ keys: this.published.map((k) => k.publicJwk) });
  }

  /**
   * Signs an ID token. Defaults: iss this IdP, iat now, exp in an hour; `claims` override or
   * add (set a claim to undefined to leave it out), `key` picks another signing key and
   * `kid` another header kid.
   */
  async idToken(claims: Record<string, unknown>, opts: { key?: IdpKey; kid?: string } = {}): Promise<string> {
    const key = opts.key ?? this.key;
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = { iss: this.issuer, iat: now, exp: now + 3600, ...claims };
    for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
    return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: opts.kid ?? key.kid, typ: "JWT" }).sign(key.privateKey);
  }
}

/** base64url of a JSON value or a string, for hand-made tokens. */
export function b64url(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  const bytes = new TextEncoder().encode(s);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
