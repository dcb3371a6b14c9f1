/**
 * The application a user's access token is issued to: its `client_id` claim, which RFC 9068
 * §2.2 requires of every `at+jwt`. Where an OAuth client authenticated (client credentials,
 * a client's API user), it is that client's id. The five documented APIs have no client
 * registration for a user's login, so there the application is the API surface that issued
 * the token, named by where it is mounted (src/app.ts); a reissued token keeps the client_id
 * it carried (tokens.ts reissueAccessToken). docs/security.md "Tokens" lists the names.
 */
const MOUNTS: readonly (readonly [prefix: string, application: string])[] = [
  // Longest prefix first: /v1/auth (CloudCheckr) and /v1.0/auth (Sentinel) sit under /v1.
  ["/v1.0/auth", "sentinel"],
  ["/v1/auth", "cloudcheckr"],
  ["/api/auth", "croit"],
  ["/authn", "authn"],
  ["/v1", "userpool"],
];

/** A token issued by no surface (core called directly: tests, the dev seed). */
export const UNNAMED_APPLICATION = "edge-auth";

/** The surface a request path belongs to, or null for a path outside every surface. */
export function applicationOfPath(path: string): string | null {
  for (const [prefix, application] of MOUNTS) {
    if (path === prefix || path.startsWith(`${prefix}/`)) return application;
  }
  return null;
}

/** The Scope field for a request path: `{ application }`, or nothing outside every surface. */
export function applicationOf(path: string): { application?: string } {
  const application = applicationOfPath(path);
  return application ? { application } : {};
}
