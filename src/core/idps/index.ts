/**
 * The community's identity provider definitions (issue 8): the Authn IdP routes' behaviour,
 * and what the OpenID Provider and the hosted login read (scopes, consent, claims).
 */
export { communityScopes, consentRequiredScopes, forgetCommunityScopes, scopeClaimNames, SCOPES_CACHE_MS } from "./scopes";
export { IDENTITY_ATTRIBUTES, SESSION_ATTRIBUTES, type SessionFacts } from "./attributes";
export { createIdp, deleteIdp, fetchIdps, idpView, oidcIdpId, updateIdp, type IdpType, type IdpView } from "./idps";
export { samlIdpId, type SamlIdpConfigView } from "./saml-idp";
export { checkOidcConfig, RESERVED_CLAIMS, RESERVED_SCOPES, type OidcConfig } from "./rules";
