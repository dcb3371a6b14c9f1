import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import type { OktaSettings } from "../tenants/settings";
import { verifyExternalIdToken } from "./remote-jwks";
import { provisionFederatedUser } from "./provision";

/**
 * Okta sign-in (croit `/api/auth/okta/*`): the tenant's Okta settings, published so a UI can
 * start the Okta flow, and login with the ID token that flow returns.
 */
export interface OktaSignInConfig {
  baseUrl: string;
  clientId: string;
  issuer: string;
  audience: string;
  mapRoles: Record<string, string[]>;
}

/** The tenant's Okta settings, or `not_configured`. */
export function oktaSettings(scope: Scope): OktaSettings {
  const okta = scope.settings.okta;
  if (!okta) throw new AuthError("not_configured", "Okta sign-in is not configured");
  return okta;
}

/** What a sign-in UI needs (never the JWKS location or the community). */
export function oktaSignInConfig(scope: Scope): OktaSignInConfig {
  const o = oktaSettings(scope);
  return { baseUrl: o.baseUrl, clientId: o.clientId, issuer: o.issuer, audience: o.audience, mapRoles: o.mapRoles };
}

/** Where the issuer's keys are: configured, or Okta's layout `<issuer>/v1/keys`. */
export function oktaJwksUri(o: OktaSettings): string {
  return o.jwksUri ?? `${o.issuer.replace(/\/+$/, "")}/v1/keys`;
}

/**
 * Maps Okta groups to roles through mapRoles (group -> roles). Unmapped groups give no role;
 * the result is de-duplicated and sorted so that an unchanged mapping never rewrites the user.
 */
export function mapOktaGroups(mapRoles: Record<string, string[]>, groups: readonly string[]): string[] {
  const roles = new Set<string>();
  for (const g of groups) {
    if (!Object.hasOwn(mapRoles, g)) continue;
    for (const r of mapRoles[g] ?? []) roles.add(r);
  }
  return [...roles].sort();
}

function stringClaim(v: unknown): string | null {
  return typeof v === "string" && v.length > 0 && v.length <= 1024 ? v : null;
}

/**
 * Login with an Okta ID token: verified against the issuer's JWKS (signature, asymmetric
 * algorithm, iss, aud, exp, iat; remote-jwks.ts), its `groups` claim mapped to roles, the user
 * created on first login and its roles updated on later ones (provision.ts).
 *
 * The ID token's audience is the Okta application's client id (OIDC Core §3.1.3.7 step 3);
 * a token whose aud is the configured `audience` is accepted too, since both name this tenant's
 * Okta application. A token that fails verification is an unusable grant: `invalid_grant`
 * (as RFC 7523 §3.1 answers a bad JWT assertion). An unreachable IdP stays `upstream_error`.
 */
export async function oktaLogin(svc: Services, scope: Scope, idToken: string): Promise<User> {
  const o = oktaSettings(scope);
  let claims: Awaited<ReturnType<typeof verifyExternalIdToken>>;
  try {
    claims = await verifyExternalIdToken(svc, idToken, {
      issuer: o.issuer,
      audience: [...new Set([o.clientId, o.audience])],
      jwksUri: oktaJwksUri(o),
    });
  } catch (e) {
    if (e instanceof AuthError && e.code === "invalid_token") {
      recordAudit(svc, scope, "federated_login_failed", { detail: { idp: "okta", reason: e.message } });
      throw new AuthError("invalid_grant", e.message);
    }
    throw e;
  }
  const groups = Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === "string" && g.length <= 256) : [];
  const email = stringClaim(claims.email);
  const { user, created } = await provisionFederatedUser(
    svc,
    scope,
    {
      issuer: o.issuer,
      sub: claims.sub,
      email,
      emailVerified: claims.email_verified === true,
      username: stringClaim(claims.preferred_username) ?? email,
      firstName: stringClaim(claims.given_name),
      lastName: stringClaim(claims.family_name),
      roles: mapOktaGroups(o.mapRoles, groups),
      groups,
    },
    o.communityId ? { communityId: o.communityId } : {},
  );
  recordAudit(svc, scope, "login", { userId: user.uid, detail: { method: "okta", created } });
  return user;
}
