export { createExternalIdp, deleteExternalIdp, externalIdpPrivateKey, externalIdpView, fetchExternalIdps, replaceExternalIdp, type ExternalIdpView } from "./external-idps";
export { externalIdpFor, routingMatches } from "./routing";
export { consumeAuthnRequest, rememberAuthnRequest, REQUEST_TTL_SECONDS, type RememberedAuthnRequest } from "./requests";
export { communitySpEndpoints, type SpEndpoints } from "./endpoints";
export { startExternalLogin, type StartedLogin } from "./start-login";
export { certificateKey, importSpPrivateKey, keyPairProblem } from "./keys";
export type { ExternalIdpBody, ExternalIdpConnection, RoutingPolicy } from "./validate";
