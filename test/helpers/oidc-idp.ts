import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from "jose";

/**
 * A small OpenID Provider for tests: discovery, JWKS, authorize (logs in `nextUser` at once
 * and redirects back with a code), token (authorization code + PKCE S256, with the client
 * authentication `authMethod` names) and userinfo. It is a plain `(Request) => Promise<Response>`
 * handler, so in-workerd tests route the Worker's outbound fetch to it (setOutboundFetch) and
 * e2e tests serve it with node:http. `tamper` changes the next ID token, to prove the Worker
 * refuses it. The behaviours of conformant providers the relying party must cope with:
 * - `claimsInUserinfo`: scope-requested claims (email, names) only from UserInfo (OIDC Core §5.4),
 *   unless the `claims` parameter asks for them in the ID token and `claimsParameterSupported`;
 * - `rotateKey()`: a new signing key, published and used at once;
 * - `discoveryIssuer`: a discovery document naming another issuer than its tokens do.
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
  /** The next UserInfo answer names this subject instead. */
  userinfoSub?: string;
}

export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none";

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  handle(req: Request): Promise<Response>;
  /** The user the next /authorize logs in. */
  nextUser: IdpUser;
  tamper: IdpTamper | null;
  /** Token requests seen (form and headers), for assertions. */
  tokenRequests: URLSearchParams[];
  tokenHeaders: Headers[];
  /** How the token endpoint authenticates the client (default client_secret_basic). */
  authMethod: ClientAuthMethod;
  /** private_key_jwt: the client's registered public key. */
  clientJwk: JWK | null;
  claimsInUserinfo: boolean;
  claimsParameterSupported: boolean;
  /** The issuer the discovery document names; default the provider's own. */
  discoveryIssuer: string | null;
  /** Replaces the UserInfo endpoint's answer (hostile or broken providers). */
  userinfoOverride: (() => Response) | null;
  /** The token endpoint leaves out the access token. */
  omitAccessToken: boolean;
  jwksFetches: number;
  discoveryFetches: number;
  userinfoRequests: number;
  /** Publishes a new signing key (kid `idp-key-<n>`) and signs with it from now on; the old one stays published unless `dropOld`. */
  rotateKey(dropOld?: boolean): Promise<string>;
}

const b64url = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function s256(verifier: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newSigningKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  return { kid, privateKey: privateKey as CryptoKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

export async function createTestIdp(issuer: string, opts: { clientId?: string; clientSecret?: string } = {}): Promise<TestIdp> {
  let keys: SigningKey[] = [await newSigningKey("idp-key-1")];
  const foreign = await generateKeyPair("ES256", { extractable: true });
  const codes = new Map<string, { redirectUri: string; nonce: string; challenge: string; user: IdpUser; clientId: string; emailInIdToken: boolean }>();
  const accessTokens = new Map<string, IdpUser>();
  const seenJti = new Set<string>();
  const base = issuer.replace(/\/$/, "");
  const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });

  /** The token endpoint's client authentication (OIDC Core §9); null when it passes. */
  async function clientAuthError(req: Request, form: URLSearchParams, tokenEndpoint: string): Promise<Response | null> {
    const auth = req.headers.get("authorization");
    const refuse = (why: string) => json({ error: "invalid_client", error_description: why }, 401);
    switch (idp.authMethod) {
      case "client_secret_basic": {
        const expected = `Basic ${btoa(`${encodeURIComponent(idp.clientId)}:${encodeURIComponent(idp.clientSecret)}`)}`;
        return auth === expected && !form.has("client_secret") ? null : refuse("basic");
      }
      case "client_secret_post":
        return !auth && form.get("client_id") === idp.clientId && form.get("client_secret") === idp.clientSecret ? null : refuse("post");
      case "none":
        return !auth && !form.has("client_secret") && !form.has("client_assertion") && form.get("client_id") === idp.clientId ? null : refuse("none");
      case "private_key_jwt": {
        if (auth || form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || !idp.clientJwk) return refuse("assertion type");
        try {
          const { payload } = await jwtVerify(form.get("client_assertion") ?? "", await importJWK(idp.clientJwk, "ES256"), {
            issuer: idp.clientId,
            subject: idp.clientId,
            audience: [tokenEndpoint, issuer],
            algorithms: ["ES256"],
            requiredClaims: ["exp", "jti"],
          });
          // RFC 7523 §3 item 7: a jti is used once.
          if (seenJti.has(payload.jti!)) return refuse("jti replay");
          seenJti.add(payload.jti!);
          return null;
        } catch (e) {
          return refuse(`assertion: ${(e as Error).message}`);
        }
      }
    }
  }

  const idp: TestIdp = {
    issuer,
    clientId: opts.clientId ?? "test-client",
    clientSecret: opts.clientSecret ?? "test-client-secret-0123456789",
    nextUser: { sub: "idp-user-1", email: "jane@example.edu", email_verified: true, given_name: "Jane" },
    tamper: null,
    tokenRequests: [],
    tokenHeaders: [],
    authMethod: "client_secret_basic",
    clientJwk: null,
    claimsInUserinfo: false,
    claimsParameterSupported: false,
    discoveryIssuer: null,
    userinfoOverride: null,
    omitAccessToken: false,
    jwksFetches: 0,
    discoveryFetches: 0,
    userinfoRequests: 0,
    async rotateKey(dropOld = false) {
      const key = await newSigningKey(`idp-key-${keys.length + 1}-${crypto.randomUUID().slice(0, 6)}`);
      keys = dropOld ? [key] : [key, ...keys];
      return key.kid;
    },
    async handle(req: Request): Promise<Response> {
      const url = new URL(req.url);
      if (url.pathname.endsWith("/.well-known/openid-configuration")) {
        idp.discoveryFetches++;
        return json({
          issuer: idp.discoveryIssuer ?? issuer,
          authorization_endpoint: `${base}/authorize`,
          token_endpoint: `${base}/token`,
          jwks_uri: `${base}/jwks`,
          userinfo_endpoint: `${base}/userinfo`,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
          claims_parameter_supported: idp.claimsParameterSupported,
        });
      }
      if (url.pathname.endsWith("/jwks")) {
        idp.jwksFetches++;
        return json({ keys: keys.map((k) => k.jwk) });
      }
      if (url.pathname.endsWith("/authorize")) {
        const q = url.searchParams;
        if (q.get("response_type") !== "code" || q.get("client_id") !== idp.clientId || q.get("code_challenge_method") !== "S256") {
          return json({ error: "invalid_request" }, 400);
        }
        let emailInIdToken = !idp.claimsInUserinfo;
        if (idp.claimsParameterSupported && q.get("claims")) {
          const asked = JSON.parse(q.get("claims")!) as { id_token?: Record<string, unknown> };
          if (asked.id_token && "email" in asked.id_token) emailInIdToken = true;
        }
        const code = crypto.randomUUID();
        codes.set(code, { redirectUri: q.get("redirect_uri")!, nonce: q.get("nonce")!, challenge: q.get("code_challenge")!, user: idp.nextUser, clientId: idp.clientId, emailInIdToken });
        const back = new URL(q.get("redirect_uri")!);
        back.searchParams.set("code", code);
        back.searchParams.set("state", q.get("state")!);
        return new Response(null, { status: 302, headers: { location: back.toString() } });
      }
      if (url.pathname.endsWith("/token") && req.method === "POST") {
        const form = new URLSearchParams(await req.text());
        idp.tokenRequests.push(form);
        idp.tokenHeaders.push(new Headers(req.headers));
        const refused = await clientAuthError(req, form, `${base}/token`);
        if (refused) return refused;
        const code = form.get("code") ?? "";
        const grant = codes.get(code);
        codes.delete(code);
        if (!grant || form.get("grant_type") !== "authorization_code" || form.get("redirect_uri") !== grant.redirectUri) return json({ error: "invalid_grant" }, 400);
        if ((await s256(form.get("code_verifier") ?? "")) !== grant.challenge) return json({ error: "invalid_grant", error_description: "PKCE" }, 400);
        const t = idp.tamper ?? {};
        if (t.userinfoSub === undefined) idp.tamper = null;
        const now = Math.floor(Date.now() / 1000) + (t.iatOffset ?? 0);
        const u = grant.user;
        const profile = grant.emailInIdToken ? { email: t.email ?? u.email, email_verified: u.email_verified, given_name: u.given_name, family_name: u.family_name } : {};
        const key = keys[0]!;
        const idToken = await new SignJWT({ nonce: t.nonce ?? grant.nonce, ...profile })
          .setProtectedHeader({ alg: "ES256", kid: t.foreignKey ? "other-key" : key.kid, typ: "JWT" })
          .setIssuer(t.iss ?? issuer)
          .setAudience(t.aud ?? grant.clientId)
          .setSubject(u.sub)
          .setIssuedAt(now)
          .setExpirationTime(now + (t.expiresIn ?? 300))
          .sign(t.foreignKey ? foreign.privateKey : key.privateKey);
        const accessToken = crypto.randomUUID();
        accessTokens.set(accessToken, t.email ? { ...u, email: t.email } : u);
        if (idp.omitAccessToken) return json({ token_type: "Bearer", expires_in: 300, id_token: idToken });
        return json({ access_token: accessToken, token_type: "Bearer", expires_in: 300, id_token: idToken });
      }
      if (url.pathname.endsWith("/userinfo")) {
        idp.userinfoRequests++;
        if (idp.userinfoOverride) return idp.userinfoOverride();
        const user = accessTokens.get((req.headers.get("authorization") ?? "").replace(/^Bearer /, ""));
        if (!user) return new Response(null, { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
        const sub = idp.tamper?.userinfoSub ?? user.sub;
        idp.tamper = null;
        return json({ sub, email: user.email, email_verified: user.email_verified, given_name: user.given_name, family_name: user.family_name });
      }
      return json({ error: "not_found" }, 404);
    },
  };
  return idp;
}
