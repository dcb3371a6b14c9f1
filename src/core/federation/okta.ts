import type { User } from "../../storage/ports";
import type { Scope, Services } from "../context";
import { AuthError } from "../errors";
import { recordAudit } from "../audit/audit";
import type { OktaSettings } from "../tenants/settings";
import { discoverProvider, discoveryUrlOf } from "./discovery";
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

/**
 * Where the issuer's keys are: configured, or the `jwks_uri` of the issuer's discovery document
 * (OIDC Discovery §4; its `issuer` must be the configured one, §4.3). Okta's layouts differ by
 * authorization server (`<issuer>/v1/keys` for a custom one, `<org>/oauth2/v1/keys` for the org
 * server), so no path is guessed.
 */
export async function oktaJwksUri(svc: Services, o: OktaSettings): Promise<string> {
  if (o.jwksUri) return o.jwksUri;
  return (await discoverProvider(svc, discoveryUrlOf(o.issuer), o.issuer)).jwksUri;
}

/**
 * The ID token's groups, or undefined when it carries no `groups` claim. An absent claim says
 * nothing about the user's groups (the Okta application may simply not be configured to send
 * it), so it must not be read as "no groups": that would strip every role the user holds.
 * A single string is one group; any other shape counts as absent.
 */
export function groupsClaim(v: unknown): string[] | undefined {
  const list = typeof v === "string" ? [v] : Array.isArray(v) ? v : undefined;
  return list?.filter((g): g is string => typeof g === "string" && g.length > 0 && g.length <= 256).slice(0, 500);
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
 * algorithm, iss, aud, exp, iat; remote-jwks.ts), its `groups` claim, when present, mapped to
 * roles, the user created on first login and its roles updated on later ones (provision.ts).
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
      jwksUri: await oktaJwksUri(svc, o),
    });
  } catch (e) {
    if (e instanceof AuthError && e.code === "invalid_token") {
      recordAudit(svc, scope, "federated_login_failed", { detail: { idp: "okta", reason: e.message } });
      throw new AuthError("invalid_grant", e.message);
    }
    throw e;
  }
  const groups = groupsClaim(claims.groups);
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
      // Roles and groups are replaced only from a groups claim that is present; without one the
      // user keeps what it has (a new user starts with none).
      ...(groups ? { roles: mapOktaGroups(o.mapRoles, groups), groups } : {}),
    },
    o.communityId ? { communityId: o.communityId } : {},
  );
  recordAudit(svc, scope, "login", { userId: user.uid, detail: { method: "okta", created } });
  return user;
}
