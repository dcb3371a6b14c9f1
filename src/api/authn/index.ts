import { AuthError } from "../../core/errors";
import { AUTHN_ENVELOPE, openApiDocument, surfaceApp } from "../../http/openapi";
import { renderAuthnError } from "./errors";
import { registerManagementRoutes } from "./manage";
import { registerOpenRoutes } from "./open";
import { registerAuthenticateRoutes } from "./authenticate";
import { registerFactorRoutes } from "./factors";
import { registerWebAuthnRoutes } from "./webauthn";
import { registerOtpRoutes } from "./otp";
import { registerStepUpFactorRoutes } from "./step-up-factors";
import { registerOidcSsoRoutes } from "./oidc-sso";
import { registerIdpMetadataRoute, registerSamlSsoRoutes } from "./saml-sso";
import { registerWsFedSsoRoutes } from "./wsfed-sso";
import { registerIdpConfigRoutes } from "./idp-config";
import { registerIdpRoutes } from "./idps";
import { registerExternalIdpRoutes } from "./external-idps";
import { registerSchemeRoutes } from "./schemes";
import { registerServiceProviderRoutes } from "./service-providers";
import { registerSpCatalogRoutes } from "./spcatalog";
import { registerUserConsentRoutes } from "./user-consent";
import { registerJourneyRoutes } from "./journeys";
import { registerAuthPolicyRoutes } from "./auth-policy";

/**
 * The Authn API (seed 004), mounted at /authn. Licensed routes sit behind authnGuard
 * (src/http/authn-guard.ts): ECDSA envelope, request-id window and replay, license level and
 * community. Errors are `{statusCode, error, message}` (errors.ts).
 *
 * Each group of routes registers itself here with one line.
 */
export const authn = surfaceApp(renderAuthnError);

registerOpenRoutes(authn);
registerManagementRoutes(authn);
// AUTHN-ENDPOINTS: the endpoints helper registers its route groups below, one line each.
registerAuthenticateRoutes(authn);
registerFactorRoutes(authn);
registerWebAuthnRoutes(authn);
registerOtpRoutes(authn);
registerStepUpFactorRoutes(authn);
registerOidcSsoRoutes(authn);
registerSamlSsoRoutes(authn);
registerWsFedSsoRoutes(authn);
registerSchemeRoutes(authn);
registerSpCatalogRoutes(authn);
registerIdpConfigRoutes(authn);
registerUserConsentRoutes(authn);
registerIdpRoutes(authn);
registerServiceProviderRoutes(authn);
registerExternalIdpRoutes(authn);
registerJourneyRoutes(authn);
registerAuthPolicyRoutes(authn);
// Last: it is routed through .../idp/* (saml-sso.ts says why), after idp/fetch.
registerIdpMetadataRoute(authn);

export const authnOpenApi = openApiDocument(
  authn,
  {
    title: "Authn API",
    version: "2.1.0",
    description: "1Kosmos-style Authn API (seed 004): ECDSA envelope, licenses, authentication, configuration. Licensed routes document the decrypted payload; the wire body is {data: enc(JSON)}.",
  },
  "/authn",
  // Licensed routes carry the envelope headers; the others are public.
  { defaultSecurity: (op) => (op.parameters?.some((p) => p.in === "header" && p.name === "licensekey" && p.required) ? AUTHN_ENVELOPE : []) },
);

// Keep at the very end of this file, after every registration: anything unmatched under /authn
// answers 404 in the Authn error shape rather than the root app's.
authn.all("*", () => {
  throw new AuthError("not_found", "no such Authn endpoint");
});
