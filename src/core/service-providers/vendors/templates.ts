import type { SamlConfigInput } from "../types";

/**
 * The featured applications of seed 004 (`PUT .../serviceprovider/{type}`) and the SAML
 * service provider each one is, by that vendor's own conventions: where it receives
 * assertions (ACS) and the entity id it sends as Issuer / expects as Audience. Every template
 * asks for the user's email as NameID (emailAddress, from the identity), the identifier these
 * applications match accounts on by default, and signed assertions.
 *
 * `domain` is the vendor tenant's URL (for GSuite the Workspace domain name); `ssoUrl` is our
 * SSO URL that the vendor redirects users to (the one we register there).
 */
export const FEATURED_TYPES = ["auth0", "okta", "salesforce", "forgerock", "gsuite", "zendesk"] as const;
export type FeaturedType = (typeof FEATURED_TYPES)[number];

/** Config fields that are credentials: write-only, sealed at rest, never answered. */
export const SECRET_FIELDS: Record<FeaturedType, readonly string[]> = {
  auth0: ["clientSecret"],
  okta: ["apiToken"],
  salesforce: ["password", "securityToken"],
  forgerock: ["password"],
  gsuite: ["serviceAccountPrivateKey"],
  zendesk: [],
};

export interface FeaturedRequest {
  name: string;
  domain: string;
  ssoUrl: string | null;
  config: Record<string, unknown>;
}

/** A name a vendor accepts as an identifier (Auth0 connection names: letters, digits, hyphens; at most 128). */
export function vendorSlug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
  return `edge-auth-${s || "sp"}`;
}

const trimSlash = (u: string) => u.replace(/\/+$/, "");

/**
 * The saml_config each featured type starts with. Okta assigns its ACS (`/sso/saml2/<idp id>`)
 * and audience when the identity provider is created there: until the registration job has
 * run they are provisional (`/sso/saml2/pending-<sp id>`, `urn:edge-auth:okta:pending:<sp id>`)
 * and the job replaces them with what Okta answers.
 */
export function featuredSamlConfig(type: FeaturedType, req: FeaturedRequest, spId: string): SamlConfigInput {
  const emailNameId = { format: "emailAddress", value: "email", attribute_type: "identity" as const };
  const common = { assertionMethod: "post" as const, assertionSignRequired: true, nameid: emailNameId, attributes: [] };
  const base = trimSlash(req.domain);
  switch (type) {
    case "auth0": {
      // Auth0 SAML enterprise connection: Audience urn:auth0:<tenant>:<connection>,
      // ACS https://<domain>/login/callback?connection=<connection>.
      const connection = vendorSlug(req.name);
      const tenant = new URL(req.domain).hostname.split(".")[0]!;
      return { ...common, entityId: `urn:auth0:${tenant}:${connection}`, assertionConsumerServiceURL: `${new URL(req.domain).origin}/login/callback?connection=${connection}`, accessUrl: base };
    }
    case "okta":
      return { ...common, entityId: `urn:edge-auth:okta:pending:${spId}`, assertionConsumerServiceURL: `${new URL(req.domain).origin}/sso/saml2/pending-${spId}`, accessUrl: base };
    case "salesforce":
      // My Domain: the org's login URL is both its entity id and where it takes SAML responses.
      return { ...common, entityId: new URL(req.domain).origin, assertionConsumerServiceURL: new URL(req.domain).origin, accessUrl: base };
    case "forgerock": {
      // AM's hosted SP: its entity id (given, or AM's default: the deployment URL) and the
      // Consumer endpoint of its meta alias.
      const hosted = typeof req.config.hostedSP === "string" && req.config.hostedSP ? req.config.hostedSP : base;
      return { ...common, entityId: hosted, assertionConsumerServiceURL: `${base}/Consumer/metaAlias/sp`, accessUrl: base };
    }
    case "gsuite":
      // Google Workspace with a domain-specific issuer.
      return { ...common, entityId: `google.com/a/${req.domain}`, assertionConsumerServiceURL: `https://www.google.com/a/${req.domain}/acs`, accessUrl: `https://mail.google.com/a/${req.domain}` };
    case "zendesk":
      return { ...common, entityId: new URL(req.domain).origin, assertionConsumerServiceURL: `${new URL(req.domain).origin}/access/saml`, accessUrl: base };
  }
}
