import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";

/**
 * A small OpenID Provider for tests: discovery, JWKS, authorize (logs in `nextUser` at once
 * and redirects back with a code) and token (authorization code + PKCE S256, client secret over
 * Basic). It is a plain `(Request) => Promise<Response>` handler, so in-workerd tests route the
 * Worker's outbound fetch to it (setOutboundFetch) and e2e tests serve it with node:http.
 * `tamper` changes the next ID token, to prove the Worker refuses it.
 */
export interface IdpUser {
  sub: string;
  email: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
}

export interface IdpTamper {
  nonce?: string;
  aud?: string;
  iss?: string;
  expiresIn?: number;
  iatOffset?: number;
  /** Sign with a key the JWKS does not publish. */
  foreignKey?: boolean;
  email?: string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  handle(req: Request): Promise<Response>;
  /** The user the next /authorize logs in. */
  nextUser: IdpUser;
  tamper: IdpTamper | null;
  /** Token requests seen, for assertions. */
  tokenRequests: URLSearchParams[];
}

const b64url = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function s256(verifier: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

export async function createTestIdp(issuer: string, opts: { clientId?: string; clientSecret?: string } = {}): Promise<TestIdp> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const foreign = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "idp-key-1", alg: "ES256", use: "sig" };
  const codes = new Map<string, { redirectUri: string; nonce: string; challenge: string; user: IdpUser; clientId: string }>();
  const base = issuer.replace(/\/$/, "");
  const idp: TestIdp = {
    issuer,
    clientId: opts.clientId ?? "test-client",
    clientSecret: opts.clientSecret ?? "test-client-secret-0123456789",
    nextUser: { sub: "idp-user-1", email: "jane@example.edu", email_verified: true, given_name: "Jane" },
    tamper: null,
    tokenRequests: [],
    async handle(req: Request): Promise<Response> {
      const url = new URL(req.url);
      const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
      if (url.pathname.endsWith("/.well-known/openid-configuration")) {
        return json({
          issuer,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          jwks_uri: `${base}/jwks`,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
        });
      }
      if (url.pathname.endsWith("/jwks")) return json({ keys: [jwk] });
      if (url.pathname.endsWith("/authorize")) {
        const q = url.searchParams;
        if (q.get("response_type") !== "code" || q.get("client_id") !== idp.clientId || q.get("code_challenge_method") !== "S256") {
          return json({ error: "invalid_request" }, 400);
        }
        const code = crypto.randomUUID();
        codes.set(code, { redirectUri: q.get("redirect_uri")!, nonce: q.get("nonce")!, challenge: q.get("code_challenge")!, user: idp.nextUser, clientId: idp.clientId });
        const back = new URL(q.get("redirect_uri")!);
        back.searchParams.set("code", code);
        back.searchParams.set("state", q.get("state")!);
        return new Response(null, { status: 302, headers: { location: back.toString() } });
      }
      if (url.pathname.endsWith("/token") && req.method === "POST") {
        const form = new URLSearchParams(await req.text());
        idp.tokenRequests.push(form);
        const auth = req.headers.get("authorization") ?? "";
        const expected = `Basic ${btoa(`${encodeURIComponent(idp.clientId)}:${encodeURIComponent(idp.clientSecret)}`)}`;
        if (auth !== expected) return json({ error: "invalid_client" }, 401);
        const code = form.get("code") ?? "";
        const grant = codes.get(code);
        codes.delete(code);
        if (!grant || form.get("grant_type") !== "authorization_code" || form.get("redirect_uri") !== grant.redirectUri) return json({ error: "invalid_grant" }, 400);
        if ((await s256(form.get("code_verifier") ?? "")) !== grant.challenge) return json({ error: "invalid_grant", error_description: "PKCE" }, 400);
        const t = idp.tamper ?? {};
        idp.tamper = null;
        const now = Math.floor(Date.now() / 1000) + (t.iatOffset ?? 0);
        const idToken = await new SignJWT({ nonce: t.nonce ?? grant.nonce, email: t.email ?? grant.user.email, email_verified: grant.user.email_verified, given_name: grant.user.given_name, family_name: grant.user.family_name })
          .setProtectedHeader({ alg: "ES256", kid: t.foreignKey ? "other-key" : "idp-key-1", typ: "JWT" })
          .setIssuer(t.iss ?? issuer)
          .setAudience(t.aud ?? grant.clientId)
          .setSubject(grant.user.sub)
          .setIssuedAt(now)
          .setExpirationTime(now + (t.expiresIn ?? 300))
          .sign(t.foreignKey ? foreign.privateKey : privateKey);
        return json({ access_token: crypto.randomUUID(), token_type: "Bearer", expires_in: 300, id_token: idToken });
      }
      return json({ error: "not_found" }, 404);
    },
  };
  return idp;
}
